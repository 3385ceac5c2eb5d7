import { type KeyfenceError, SecretValue } from '@keyfence/core';
import { describe, expect, it } from 'vitest';
import { checkNames, toEnvName } from './naming.js';
import type { NamedSecret, SecretOrigin } from './types.js';

const aws = (requested: string, field?: string): SecretOrigin => ({
  store: 'aws-secrets-manager',
  requested,
  location: `arn:aws:secretsmanager:us-east-1:123456789012:secret:${requested}-Ab12Cd`,
  ...(field === undefined ? {} : { field }),
});
const vault = (requested: string): SecretOrigin => ({
  store: 'vault',
  requested,
  location: requested.split(' ')[0] ?? '',
});
const named = (name: string, origin: SecretOrigin): NamedSecret => ({
  name,
  value: new SecretValue(`value of ${name}`),
  origin,
});

function failure(secrets: NamedSecret[]): KeyfenceError {
  try {
    checkNames(secrets);
  } catch (error) {
    return error as KeyfenceError;
  }
  throw new Error('expected checkNames to throw');
}

describe('toEnvName', () => {
  it.each([
    ['prod/app/db', 'uppercase', 'PROD_APP_DB'],
    ['0/test', 'uppercase', '_0_TEST'],
    ['a.b-c@d+e=f', 'uppercase', 'A_B_C_D_E_F'],
    ['My/Secret', 'lowercase', 'my_secret'],
    ['My/Secret', 'none', 'My_Secret'],
  ] as const)('%s (%s) -> %s', (raw, transformation, expected) => {
    expect(toEnvName(raw, transformation)).toBe(expected);
  });
});

describe('checkNames', () => {
  it('passes distinct, valid names through', () => {
    const secrets = [named('A', aws('a')), named('B', vault('secret/data/x b'))];
    expect(checkNames(secrets)).toEqual(secrets);
  });

  it('names both sources of a collision, across stores', () => {
    const error = failure([
      named('DB_PASSWORD', aws('prod/db')),
      named('OTHER', aws('x')),
      named('DB_PASSWORD', vault('secret/data/ci/app password')),
    ]);
    expect(error.code).toBe('SECRET_NAME_COLLISION');
    expect(error.message).toContain(
      'DB_PASSWORD would be set by both aws-secrets-manager "prod/db" and vault "secret/data/ci/app password"',
    );
    expect(error.message).toContain('nothing was exported');
    expect(error.hint).toContain('alias');
  });

  it('counts names that differ only in case as a collision (outputs ignore case), naming JSON keys', () => {
    const error = failure([named('MYSECRET', aws('MySecret')), named('mysecret', aws('mysecret/x', 'y'))]);
    expect(error.message).toContain(
      'mysecret would be set by both aws-secrets-manager "MySecret" and aws-secrets-manager "mysecret/x" (JSON key y)',
    );
  });

  it('refuses invalid and reserved names, all at once', () => {
    const error = failure([
      named('1BAD', aws('a')),
      named('GITHUB_TOKEN', aws('b')),
      named('PATH', aws('c')),
      named('NODE_OPTIONS', vault('p k')),
      named('OK', aws('d')),
    ]);
    expect(error.code).toBe('SECRET_NAME_INVALID');
    expect(error.message).toContain('"1BAD"');
    expect(error.message).toContain('GITHUB_TOKEN');
    expect(error.message).toContain('PATH');
    expect(error.message).toContain('NODE_OPTIONS');
    expect(error.message).not.toContain('OK (');
  });

  it('never puts a value in its error', () => {
    expect(failure([named('X', aws('a')), named('X', aws('b'))]).message).not.toContain('value of');
  });
});
