import { randomInt } from 'node:crypto';

const LOWER = 'abcdefghijkmnopqrstuvwxyz';
const UPPER = 'ABCDEFGHJKLMNPQRSTUVWXYZ';
const DIGITS = '23456789';

/**
 * A random password of letters and digits (no look-alikes), drawn with a CSPRNG, holding at least one
 * character of each class. Letters and digits only: safe in URLs, connection strings and shells.
 */
export function generatePassword(length: number, excludeCharacters = ''): string {
  const classes = [LOWER, UPPER, DIGITS]
    .map((set) => [...set].filter((char) => !excludeCharacters.includes(char)).join(''))
    .filter((set) => set.length > 0);
  const all = classes.join('');
  if (all.length < 10)
    throw new RangeError('exclude-characters leaves fewer than 10 characters to draw from');
  for (;;) {
    const chars = Array.from({ length }, () => all[randomInt(all.length)] ?? '');
    if (classes.every((set) => chars.some((char) => set.includes(char)))) return chars.join('');
  }
}
