import { writeJson, writeText } from '@keyfence/core';
import { BUILTIN_RULES } from '@keyfence/scanner';
import { parseCommandArgs, parseFormat } from '../args.js';
import { EXIT, type Io } from '../io.js';

/** `keyfence rules`: the built-in rules, for people or as JSON. */
export function runRules(argv: string[], io: Io): number {
  const { values } = parseCommandArgs('rules', argv, { format: { type: 'string' } });
  const format = parseFormat(values.format, ['text', 'json'] as const, 'text');
  if (format === 'json') {
    writeJson(io.stdout, `${JSON.stringify(BUILTIN_RULES, null, 2)}\n`);
  } else {
    const lines = BUILTIN_RULES.map((r) => `${r.id.padEnd(44)} ${r.description}\n`);
    writeText(io.stdout, `${lines.join('')}${BUILTIN_RULES.length} rules\n`);
  }
  return EXIT.clean;
}
