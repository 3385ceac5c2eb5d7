import { BUILTIN_RULES } from '@keyfence/scanner';
import { parseCommandArgs, parseFormat } from '../args.js';
import { EXIT, type Io } from '../io.js';

/** `keyfence rules`: the built-in rules, for people or as JSON. */
export function runRules(argv: string[], io: Io): number {
  const { values } = parseCommandArgs('rules', argv, { format: { type: 'string' } });
  const format = parseFormat(values.format, ['text', 'json'] as const, 'text');
  if (format === 'json') {
    io.stdout.write(`${JSON.stringify(BUILTIN_RULES, null, 2)}\n`);
  } else {
    for (const r of BUILTIN_RULES) io.stdout.write(`${r.id.padEnd(44)} ${r.description}\n`);
    io.stdout.write(`${BUILTIN_RULES.length} rules\n`);
  }
  return EXIT.clean;
}
