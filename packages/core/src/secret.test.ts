import { Console } from 'node:console';
import { createHash, randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { format, inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { REDACTED, SecretValue } from './secret.js';

// Made at run time: the repository holds no secret-shaped literal.
const VALUE = `ghp_${randomBytes(27).toString('base64url').replace(/[-_]/g, 'q').slice(0, 36)}`;

function captureConsoleLog(...args: unknown[]): string {
  let out = '';
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      out += chunk.toString('utf8');
      callback();
    },
  });
  new Console({ stdout: sink, stderr: sink }).log(...args);
  return out;
}

describe('SecretValue printing paths', () => {
  const secret = SecretValue.of(VALUE);

  const paths: Array<[string, () => string]> = [
    ['JSON.stringify of a containing object', () => JSON.stringify({ a: secret, nested: [secret] })],
    ['a template literal', () => `token=${secret}`],
    ['String()', () => String(secret)],
    ['string concatenation', () => 'token=' + secret],
    ['toString()', () => secret.toString()],
    ['valueOf()', () => secret.valueOf()],
    ['util.inspect', () => inspect(secret)],
    [
      'util.inspect with showHidden and of a containing object',
      () => inspect({ secret }, { showHidden: true }),
    ],
    ['console.log', () => captureConsoleLog(secret, { secret })],
    ["util.format('%s')", () => format('%s', secret)],
    ["util.format('%o', '%O', '%j')", () => format('%o %O %j', secret, secret, secret)],
    ['an Error message built from it', () => new Error(`auth failed with ${secret}`).message],
    ['an inspected Error carrying it as cause', () => inspect(new Error('auth failed', { cause: secret }))],
    ['object spread', () => JSON.stringify({ ...secret }) + inspect({ ...secret })],
    ['Object.entries', () => JSON.stringify(Object.entries(secret))],
    ['structuredClone', () => inspect(structuredClone(secret))],
  ];

  it.each(paths)('never shows the value through %s', (_name, render) => {
    const printed = render();
    expect(printed).not.toContain(VALUE);
    expect(printed).not.toContain(VALUE.slice(0, 8));
  });

  it('prints the redaction marker where the value would have been', () => {
    expect(String(secret)).toBe(REDACTED);
    expect(JSON.stringify({ a: secret })).toBe(`{"a":"${REDACTED}"}`);
    expect(inspect(secret)).toBe(REDACTED);
    expect(format('%s', secret)).toBe(REDACTED);
    expect(captureConsoleLog(secret)).toBe(`${REDACTED}\n`);
  });

  it('gives the value back only through reveal()', () => {
    expect(secret.reveal()).toBe(VALUE);
  });

  it('reports the length of the value', () => {
    expect(secret.length).toBe(VALUE.length);
    expect(SecretValue.of('').length).toBe(0);
  });
});

describe('SecretValue.redacted', () => {
  it('shows 4 characters of a 40-character token by default', () => {
    expect(VALUE).toHaveLength(40);
    expect(SecretValue.of(VALUE).redacted()).toBe('ghp_…');
  });

  it('shows at most one character in five, so a 5-character secret shows 1', () => {
    expect(SecretValue.of('abcde').redacted()).toBe('a…');
    expect(SecretValue.of('abcdefghij').redacted()).toBe('ab…');
  });

  it('shows nothing of a secret shorter than 5 characters', () => {
    expect(SecretValue.of('abcd').redacted()).toBe('…');
    expect(SecretValue.of('').redacted()).toBe('…');
  });

  it('honours a smaller requested prefix and caps a larger one', () => {
    expect(SecretValue.of(VALUE).redacted(2)).toBe('gh…');
    expect(SecretValue.of(VALUE).redacted(0)).toBe('…');
    expect(SecretValue.of(VALUE).redacted(100)).toBe(`${VALUE.slice(0, 8)}…`);
  });

  it('treats a negative or non-finite prefix as zero', () => {
    expect(SecretValue.of(VALUE).redacted(-3)).toBe('…');
    expect(SecretValue.of(VALUE).redacted(Number.NaN)).toBe('…');
  });

  it('does not cut a surrogate pair in half', () => {
    // '😀' is two UTF-16 code units; a 2-unit prefix would otherwise end on a lone high surrogate.
    expect(SecretValue.of('a😀bcdefgh').redacted(2)).toBe('a…');
  });
});

describe('SecretValue.equals', () => {
  it('is true for secrets with the same value', () => {
    expect(SecretValue.of(VALUE).equals(SecretValue.of(VALUE))).toBe(true);
  });

  it('is false for different values, including different lengths', () => {
    expect(SecretValue.of(VALUE).equals(SecretValue.of(`${VALUE}x`))).toBe(false);
    expect(SecretValue.of('abc').equals(SecretValue.of('abd'))).toBe(false);
    expect(SecretValue.of('').equals(SecretValue.of('a'))).toBe(false);
  });

  it('is false for something that is not a SecretValue', () => {
    expect(SecretValue.of(VALUE).equals(VALUE as unknown as SecretValue)).toBe(false);
  });
});

describe('SecretValue.fingerprint', () => {
  it('is the sha256 hex of namespace:value', () => {
    const expected = createHash('sha256').update(`baseline:${VALUE}`).digest('hex');
    expect(SecretValue.of(VALUE).fingerprint('baseline')).toBe(expected);
  });

  it('differs between namespaces for the same value', () => {
    const secret = SecretValue.of(VALUE);
    expect(secret.fingerprint('a')).not.toBe(secret.fingerprint('b'));
  });
});

describe('SecretValue previews and keyed hashes', () => {
  it('shows a listed public prefix and a length class, never other characters', () => {
    const token = `ghp_${'Ab3'.repeat(12)}`;
    expect(SecretValue.of(token).redactedTo(['gho_', 'ghp_'])).toBe('ghp_… (32-63 chars)');
    expect(SecretValue.of('hunter22').redactedTo([])).toBe('… (8-15 chars)');
    expect(SecretValue.of('hunter22').redactedTo(['hun'])).toBe('hun… (8-15 chars)');
    expect(SecretValue.of('abc').redactedTo(['abc'])).toBe('… (<8 chars)');
    expect(SecretValue.of('x'.repeat(200)).redactedTo([])).toBe('… (128+ chars)');
    expect(SecretValue.of('AKIAXYZ').redactedTo(['akia'], true)).toBe('AKIA… (<8 chars)');
    expect(SecretValue.of('AKIAXYZ').redactedTo(['akia'])).toBe('… (<8 chars)');
  });

  it('keys its HMAC and separates contexts', () => {
    const s = SecretValue.of('pa55word');
    expect(s.keyedHash('k1', ['fingerprint/v2', 'rule'])).toBe(s.keyedHash('k1', ['fingerprint/v2', 'rule']));
    expect(s.keyedHash('k1', ['fingerprint/v2', 'rule'])).not.toBe(
      s.keyedHash('k2', ['fingerprint/v2', 'rule']),
    );
    expect(s.keyedHash('k1', ['fingerprint/v2', 'rule'])).not.toBe(
      s.keyedHash('k1', ['secret-hash/v1', 'rule']),
    );
    expect(s.slowHash(['fingerprint/v2', 'rule'])).toBe(
      SecretValue.of('pa55word').slowHash(['fingerprint/v2', 'rule']),
    );
    expect(s.slowHash(['fingerprint/v2', 'rule'])).not.toBe(s.slowHash(['fingerprint/v2', 'other']));
  });
});
