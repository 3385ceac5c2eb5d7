import { formatUserError } from '@keyfence/core';
import type { Runner } from './runner.js';

/** The one top-level catch: a user error as an annotation with its hint and no stack; a bug with its stack. */
export function reportFailure(runner: Runner, error: unknown): void {
  const formatted = formatUserError(error);
  const parts = [formatted.message];
  if (formatted.hint !== undefined) parts.push(`Hint: ${formatted.hint}`);
  if (formatted.stack !== undefined) parts.push(formatted.stack);
  runner.error(parts.join('\n'));
  process.exitCode = 1;
}
