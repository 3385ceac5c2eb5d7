import { generateKeyPairSync, randomInt } from 'node:crypto';

/** Alphabets for generated test secrets: secrets in tests are made at run time, never committed. */
export const ALNUM = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
export const UPPER_BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
export const HEX = '0123456789abcdef';
export const B64 = `${ALNUM}+/`;

/** A random string over an alphabet, without runs that the placeholder filter would drop. */
export function randomString(length: number, alphabet = ALNUM): string {
  const out: string[] = [];
  while (out.length < length) {
    const c = alphabet[randomInt(alphabet.length)]!;
    const n = out.length;
    if (n >= 2 && out[n - 1] === c && out[n - 2] === c) continue;
    if ((c === 'x' || c === 'X') && n >= 2 && /[xX]/.test(out[n - 1]!) && /[xX]/.test(out[n - 2]!)) continue;
    out.push(c);
  }
  const s = out.join('');
  return /example|test|sample|fake|dummy/i.test(s) ? randomString(length, alphabet) : s;
}

/** Fresh tokens of well-known formats. */
export const fake = {
  githubPat: () => `ghp_${randomString(36)}`,
  awsAccessKeyId: () => `AKIA${randomString(16, UPPER_BASE32)}`,
  awsSecretKey: () => randomString(40, B64),
  slackBot: () =>
    `xoxb-${randomString(12, '0123456789')}-${randomString(12, '0123456789')}-${randomString(24)}`,
  stripeLive: () => `sk_live_${randomString(24)}`,
  password: () => `${randomString(6)}#${randomString(6)}!${randomString(4)}`,
  rsaPrivateKey: () =>
    generateKeyPairSync('rsa', { modulusLength: 2048 })
      .privateKey.export({ type: 'pkcs1', format: 'pem' })
      .toString(),
};
