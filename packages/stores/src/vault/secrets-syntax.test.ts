import type { KeyfenceError } from '@keyfence/core';
import { describe, expect, it } from 'vitest';
import { normalizeVaultKeyName, parseVaultSecrets } from './secrets-syntax.js';

describe('parseVaultSecrets', () => {
  it("reads vault-action's syntax: PATH KEY | NAME entries separated by ; or new lines", () => {
    expect(
      parseVaultSecrets(`
        secret/data/ci/aws accessKey | AWS_ACCESS_KEY_ID ;
        secret/data/ci/aws secretKey|AWS_SECRET_ACCESS_KEY;
        /secret/data/ci/npm token
        kv/ci/all *   | ALL
      `),
    ).toEqual([
      {
        entry: 'secret/data/ci/aws accessKey | AWS_ACCESS_KEY_ID',
        path: 'secret/data/ci/aws',
        selector: 'accessKey',
        name: 'AWS_ACCESS_KEY_ID',
      },
      {
        entry: 'secret/data/ci/aws secretKey|AWS_SECRET_ACCESS_KEY',
        path: 'secret/data/ci/aws',
        selector: 'secretKey',
        name: 'AWS_SECRET_ACCESS_KEY',
      },
      { entry: '/secret/data/ci/npm token', path: 'secret/data/ci/npm', selector: 'token' },
      { entry: 'kv/ci/all *   | ALL', path: 'kv/ci/all', selector: '*', name: 'ALL' },
    ]);
  });

  it('reports every malformed entry at once', () => {
    let error: KeyfenceError | undefined;
    try {
      parseVaultSecrets('secret/data/ok key ; onlypath ; a b c ; secret/data/x key | ; secret/data/y $.x[0]');
    } catch (thrown) {
      error = thrown as KeyfenceError;
    }
    expect(error?.code).toBe('SECRET_ID_INVALID');
    for (const entry of ['onlypath', 'a b c', 'secret/data/x key |', 'secret/data/y $.x[0]'])
      expect(error?.message).toContain(`"${entry}"`);
    expect(error?.message).not.toContain('"secret/data/ok key"');
  });
});

describe('normalizeVaultKeyName', () => {
  it.each([
    ['password', 'PASSWORD'],
    ['api-key', 'APIKEY'],
    ['data.nested.key', 'DATA__NESTEDKEY'],
    ['with space!', 'WITHSPACE'],
    ['snake_case', 'SNAKE_CASE'],
  ])('%s -> %s', (key, expected) => {
    expect(normalizeVaultKeyName(key)).toBe(expected);
  });
});
