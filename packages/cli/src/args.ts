import { type ParseArgsConfig, parseArgs } from 'node:util';
import { ErrorCode, KeyfenceError } from '@keyfence/core';

/** A usage mistake: exit 2 with a hint, never a stack. */
export function usageError(message: string, hint: string): KeyfenceError {
  return new KeyfenceError(ErrorCode.USAGE, message, { hint });
}

/** parseArgs with errors turned into usage errors that name the command's help. */
export function parseCommandArgs<T extends NonNullable<ParseArgsConfig['options']>>(
  command: string,
  argv: string[],
  options: T,
): ReturnType<typeof parseArgs<{ args: string[]; options: T; allowPositionals: true; strict: true }>> {
  try {
    return parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (e) {
    throw usageError((e as Error).message.split('\n')[0]!, `see \`keyfence ${command} --help\``);
  }
}

/** Parses `--format`. */
export function parseFormat<F extends string>(
  value: string | undefined,
  allowed: readonly F[],
  fallback: F,
): F {
  if (value === undefined) return fallback;
  if (!(allowed as readonly string[]).includes(value)) {
    throw usageError(`unknown format "${value}"`, `use one of: ${allowed.join(', ')}`);
  }
  return value as F;
}
