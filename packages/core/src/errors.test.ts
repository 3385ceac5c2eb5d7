import { describe, expect, it } from 'vitest';
import {
  ErrorCode,
  formatUserError,
  InternalError,
  isKeyfenceError,
  KeyfenceError,
  USER_ERROR_EXIT_CODE,
} from './errors.js';

describe('KeyfenceError', () => {
  it('carries a code, message, hint and the default user-error exit code of 2', () => {
    const error = new KeyfenceError(ErrorCode.CONFIG_INVALID, 'rules[0].id is missing', {
      hint: 'give every rule an id',
    });
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe('KeyfenceError');
    expect(error.code).toBe('CONFIG_INVALID');
    expect(error.message).toBe('rules[0].id is missing');
    expect(error.hint).toBe('give every rule an id');
    expect(error.exitCode).toBe(2);
    expect(USER_ERROR_EXIT_CODE).toBe(2);
  });

  it('accepts a custom exit code', () => {
    expect(new KeyfenceError(ErrorCode.USAGE, 'bad flag', { exitCode: 64 }).exitCode).toBe(64);
  });

  it('leaves hint and cause absent when not given', () => {
    const error = new KeyfenceError(ErrorCode.USAGE, 'bad flag');
    expect('hint' in error).toBe(false);
    expect('cause' in error).toBe(false);
  });

  it('keeps the cause passed through ErrorOptions', () => {
    const cause = new Error('ENOENT');
    const error = new KeyfenceError(ErrorCode.INPUT_NOT_FOUND, 'no such file: a.txt', { cause });
    expect(error.cause).toBe(cause);
  });

  it('names itself in the stack header', () => {
    expect(new KeyfenceError(ErrorCode.USAGE, 'bad flag').stack).toMatch(/^KeyfenceError: bad flag/);
  });
});

describe('ErrorCode', () => {
  it('lists the stable codes, each equal to its own name', () => {
    expect(Object.keys(ErrorCode).sort()).toEqual(
      [
        'BASELINE_INVALID',
        'CONFIG_INVALID',
        'INPUT_NOT_FOUND',
        'INPUT_UNREADABLE',
        'INTERNAL',
        'RULE_INVALID',
        'USAGE',
      ].sort(),
    );
    for (const [key, value] of Object.entries(ErrorCode)) expect(value).toBe(key);
  });
});

describe('isKeyfenceError', () => {
  it('recognises KeyfenceError and rejects everything else', () => {
    expect(isKeyfenceError(new KeyfenceError(ErrorCode.USAGE, 'x'))).toBe(true);
    expect(isKeyfenceError(new InternalError('x'))).toBe(false);
    expect(isKeyfenceError(new Error('x'))).toBe(false);
    expect(isKeyfenceError({ code: 'USAGE', message: 'x' })).toBe(false);
    expect(isKeyfenceError(undefined)).toBe(false);
  });
});

describe('InternalError', () => {
  it('is an Error with the INTERNAL code', () => {
    const error = new InternalError('invariant broken', { cause: 'why' });
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe('InternalError');
    expect(error.code).toBe(ErrorCode.INTERNAL);
    expect(error.cause).toBe('why');
  });
});

describe('formatUserError', () => {
  it('reports a KeyfenceError with its code and hint but no stack', () => {
    const formatted = formatUserError(
      new KeyfenceError(ErrorCode.BASELINE_INVALID, 'baseline is not JSON', { hint: 'regenerate it' }),
    );
    expect(formatted).toEqual({
      message: 'baseline is not JSON',
      code: 'BASELINE_INVALID',
      hint: 'regenerate it',
    });
    expect('stack' in formatted).toBe(false);
  });

  it('names the setting a hint is about in the words of the front end that reports it', () => {
    const error = new KeyfenceError(ErrorCode.INPUT_UNREADABLE, 'cannot reach registry r:5000', {
      hint: (names) => `if r:5000 serves plain HTTP, ${names.set('insecure-registry', 'r:5000')}`,
    });
    expect(error.hint).toBe('if r:5000 serves plain HTTP, pass --insecure-registry r:5000');
    expect(formatUserError(error).hint).toBe(error.hint);
    const inputs = {
      name: (setting: string) => `the \`${setting}\` input`,
      set: (setting: string, value: string) => `set \`${setting}: ${value}\``,
    };
    expect(formatUserError(error, inputs).hint).toBe(
      'if r:5000 serves plain HTTP, set `insecure-registry: r:5000`',
    );
    const plain = new KeyfenceError(ErrorCode.USAGE, 'x', { hint: 'fixed words' });
    expect(formatUserError(plain, inputs).hint).toBe('fixed words');
  });

  it('omits the hint when the KeyfenceError has none', () => {
    expect(formatUserError(new KeyfenceError(ErrorCode.RULE_INVALID, 'bad regex'))).toEqual({
      message: 'bad regex',
      code: 'RULE_INVALID',
    });
  });

  it('keeps the stack of an unexpected error and reports it as INTERNAL', () => {
    const error = new TypeError('x is undefined');
    const formatted = formatUserError(error);
    expect(formatted.message).toBe('x is undefined');
    expect(formatted.code).toBe(ErrorCode.INTERNAL);
    expect(formatted.stack).toBe(error.stack);
  });

  it('keeps the stack of an InternalError', () => {
    const error = new InternalError('invariant broken');
    expect(formatUserError(error)).toMatchObject({ code: 'INTERNAL', stack: error.stack });
  });

  it('falls back to the error name when the message is empty', () => {
    expect(formatUserError(new RangeError('')).message).toBe('RangeError');
  });

  it('reports thrown non-errors as INTERNAL without a stack', () => {
    expect(formatUserError('plain string')).toEqual({ message: 'plain string', code: 'INTERNAL' });
    expect(formatUserError(42)).toEqual({ message: '42', code: 'INTERNAL' });
    expect(formatUserError(Object.create(null))).toEqual({ message: '[object Object]', code: 'INTERNAL' });
  });
});
