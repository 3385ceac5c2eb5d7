/** Stable machine-readable error codes; scripts and docs match on these, so never rename one. */
export const ErrorCode = {
  CONFIG_INVALID: 'CONFIG_INVALID',
  USAGE: 'USAGE',
  INPUT_NOT_FOUND: 'INPUT_NOT_FOUND',
  INPUT_UNREADABLE: 'INPUT_UNREADABLE',
  RULE_INVALID: 'RULE_INVALID',
  BASELINE_INVALID: 'BASELINE_INVALID',
  INTERNAL: 'INTERNAL',
} as const;

export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** Exit code for errors the user can fix (bad config, bad arguments, missing input). */
export const USER_ERROR_EXIT_CODE = 2;

/**
 * How a front end names keyfence's settings (by id: `config`, `archive`, `insecure-registry`, ...):
 * the CLI as flags, the action as its inputs. Hints about a setting are written through it, so each
 * front end tells its user what to change in its own words.
 */
export interface SettingNames {
  /** The setting as the user knows it, e.g. "--config" or "the `config` input". */
  name(setting: string): string;
  /** How to set it to `value`, e.g. "pass --insecure-registry HOST". */
  set(setting: string, value: string): string;
}

/** The CLI's spelling (`--id`): the default wherever a front end does not name settings itself. */
export const FLAG_NAMES: SettingNames = {
  name: (setting) => `--${setting}`,
  set: (setting, value) => `pass --${setting} ${value}`,
};

export interface KeyfenceErrorOptions extends ErrorOptions {
  /**
   * What the user can do about it, printed under the message; a function when the fix is a
   * setting, so that each front end names that setting its own way.
   */
  hint?: string | ((names: SettingNames) => string);
  /** Process exit code; defaults to USER_ERROR_EXIT_CODE. */
  exitCode?: number;
}

/** An expected failure caused by the user's input or environment, reported without a stack trace. */
export class KeyfenceError extends Error {
  override name = 'KeyfenceError';
  readonly code: string;
  // `declare` emits no class field: a plain optional field would be defined as `undefined` on
  // every instance (useDefineForClassFields), and the hint must be absent when none was given.
  declare readonly hint?: string;
  readonly exitCode: number;
  readonly #hint: ((names: SettingNames) => string) | undefined;

  constructor(code: string, message: string, options: KeyfenceErrorOptions = {}) {
    super(message, options);
    this.code = code;
    const { hint } = options;
    this.#hint = typeof hint === 'function' ? hint : undefined;
    if (hint !== undefined) this.hint = typeof hint === 'function' ? hint(FLAG_NAMES) : hint;
    this.exitCode = options.exitCode ?? USER_ERROR_EXIT_CODE;
  }

  /** The hint in the words of a front end that names settings its own way. */
  hintFor(names: SettingNames): string | undefined {
    return this.#hint ? this.#hint(names) : this.hint;
  }
}

/** A bug in keyfence itself (a broken invariant), as opposed to a problem with the user's input. */
export class InternalError extends Error {
  override name = 'InternalError';
  readonly code: string = ErrorCode.INTERNAL;
}

/** True when the error is an expected, user-facing KeyfenceError. */
export function isKeyfenceError(error: unknown): error is KeyfenceError {
  return error instanceof KeyfenceError;
}

export interface FormattedError {
  message: string;
  hint?: string;
  code: string;
  /** Present only for unexpected errors, where the stack is what a bug report needs. */
  stack?: string;
}

function describeThrown(value: unknown): string {
  if (typeof value === 'string') return value;
  try {
    return String(value);
  } catch {
    // e.g. Object.create(null) has no toString; the error still has to be reported somehow.
    return Object.prototype.toString.call(value);
  }
}

/** Turns anything thrown into a printable report: user errors without a stack, everything else (bugs) with one. */
export function formatUserError(error: unknown, names: SettingNames = FLAG_NAMES): FormattedError {
  if (isKeyfenceError(error)) {
    const formatted: FormattedError = { message: error.message, code: error.code };
    const hint = error.hintFor(names);
    if (hint !== undefined) formatted.hint = hint;
    return formatted;
  }
  if (error instanceof Error) {
    const formatted: FormattedError = { message: error.message || error.name, code: ErrorCode.INTERNAL };
    if (error.stack !== undefined) formatted.stack = error.stack;
    return formatted;
  }
  return { message: describeThrown(error), code: ErrorCode.INTERNAL };
}
