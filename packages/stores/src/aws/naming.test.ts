import { SecretValue } from '@keyfence/core';
import { describe, expect, it } from 'vitest';
import type { FetchedAwsSecret } from './fetch.js';
import { nameAwsSecrets } from './naming.js';
import { parseSecretIds } from './secret-ids.js';

/** Fetched secrets for the given secret-ids lines; the name each resolves to and its value. */
function fetched(lines: string[], resolved: Array<[name: string, value: string]>): FetchedAwsSecret[] {
  const requests = parseSecretIds(lines);
  return resolved.map(([name, value], index) => ({
    request: requests[Math.min(index, requests.length - 1)]!,
    name,
    arn: `arn:aws:secretsmanager:us-east-1:123456789012:secret:${name}-Ab12Cd`,
    region: 'us-east-1',
    value: new SecretValue(value),
  }));
}

function names(
  secrets: FetchedAwsSecret[],
  parseJson = false,
  transformation: 'uppercase' | 'lowercase' | 'none' = 'uppercase',
) {
  return Object.fromEntries(
    nameAwsSecrets(secrets, { parseJson, transformation, onSecret: () => {} }).map((secret) => [
      secret.name,
      secret.value.reveal(),
    ]),
  );
}

describe('nameAwsSecrets (aws-secretsmanager-get-secrets naming)', () => {
  it('names secrets by name, ARN (its secret name), leading digit and alias', () => {
    const lines = [
      'exampleSecretName',
      'arn:aws:secretsmanager:us-east-2:123456789012:secret:test1-a1b2c3',
      '0/test/secret',
      '/prod/example/secret',
      'SECRET_ALIAS_1,test/secret',
      ',secret2',
    ];
    const secrets = fetched(lines, [
      ['exampleSecretName', 'v1'],
      ['test1', 'v2'],
      ['0/test/secret', 'v3'],
      ['/prod/example/secret', 'v4'],
      ['test/secret', 'v5'],
      ['secret2', 'v7'],
    ]).map((secret, index) => ({ ...secret, request: parseSecretIds(lines)[index]! }));
    expect(names(secrets)).toEqual({
      EXAMPLESECRETNAME: 'v1',
      TEST1: 'v2',
      _0_TEST_SECRET: 'v3',
      _PROD_EXAMPLE_SECRET: 'v4',
      SECRET_ALIAS_1: 'v5',
      SECRET2: 'v7',
    });
  });

  it('flattens JSON objects, joining nested keys with _, and keeps non-string leaves as JSON text', () => {
    const value = JSON.stringify({
      api_user: 'user',
      api_key: 'key',
      config: { active: 'true', retries: 3, hosts: ['a', 'b'] },
    });
    expect(names(fetched(['test/secret'], [['test/secret', value]]), true)).toEqual({
      TEST_SECRET_API_USER: 'user',
      TEST_SECRET_API_KEY: 'key',
      TEST_SECRET_CONFIG_ACTIVE: 'true',
      TEST_SECRET_CONFIG_RETRIES: '3',
      TEST_SECRET_CONFIG_HOSTS: '["a","b"]',
    });
  });

  it('names JSON keys alone with a blank alias, and under the alias with one', () => {
    const value = JSON.stringify({ myusername: 'alejandro', mypassword: 'pw' });
    expect(names(fetched([',secret2'], [['secret2', value]]), true)).toEqual({
      MYUSERNAME: 'alejandro',
      MYPASSWORD: 'pw',
    });
    expect(names(fetched(['DB,secret2'], [['secret2', value]]), true)).toEqual({
      DB_MYUSERNAME: 'alejandro',
      DB_MYPASSWORD: 'pw',
    });
  });

  it('keeps a JSON secret whole without parse-json-secrets, and a non-JSON secret whole with it', () => {
    expect(names(fetched(['s'], [['s', '{"a":"b"}']]))).toEqual({ S: '{"a":"b"}' });
    expect(names(fetched([',s'], [['s', 'plain\nmulti-line']]), true)).toEqual({ S: 'plain\nmulti-line' });
    expect(names(fetched(['s'], [['s', '["array","is","not","parsed"]']]), true)).toEqual({
      S: '["array","is","not","parsed"]',
    });
  });

  it('flattens a string leaf that itself holds a JSON object', () => {
    expect(
      names(fetched(['s'], [['s', JSON.stringify({ inner: JSON.stringify({ k: 'v' }) })]]), true),
    ).toEqual({ S_INNER_K: 'v' });
  });

  it('applies name-transformation to derived names but not to aliases', () => {
    const value = JSON.stringify({ Key: 'v' });
    expect(names(fetched(['My/Secret'], [['My/Secret', value]]), true, 'lowercase')).toEqual({
      my_secret_key: 'v',
    });
    expect(names(fetched(['My/Secret'], [['My/Secret', value]]), true, 'none')).toEqual({
      My_Secret_Key: 'v',
    });
    expect(names(fetched(['Alias_1,My/Secret'], [['My/Secret', 'v']]), false, 'lowercase')).toEqual({
      Alias_1: 'v',
    });
  });

  it('names each match of an aliased prefix ALIAS_REST, and a single match by the alias', () => {
    expect(
      names(
        fetched(
          ['APP,prod/app/*'],
          [
            ['prod/app/db', '1'],
            ['prod/app/api-key', '2'],
          ],
        ),
      ),
    ).toEqual({
      APP_DB: '1',
      APP_API_KEY: '2',
    });
    expect(names(fetched(['APP,prod/app/*'], [['prod/app/db', '1']]))).toEqual({ APP: '1' });
  });

  it('masks every JSON leaf it creates and records where each came from', () => {
    const masked: string[] = [];
    const [leaf] = nameAwsSecrets(fetched(['s'], [['s', '{"deep":{"k":"leaf-value"}}']]), {
      parseJson: true,
      transformation: 'uppercase',
      onSecret: (secret) => masked.push(secret.reveal()),
    });
    expect(masked).toEqual(['leaf-value']);
    expect(leaf?.origin).toEqual({
      store: 'aws-secrets-manager',
      requested: 's',
      location: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:s-Ab12Cd',
      field: 'deep.k',
    });
  });
});
