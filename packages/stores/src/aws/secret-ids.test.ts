import { KeyfenceError } from '@keyfence/core';
import { describe, expect, it } from 'vitest';
import { parseSecretArn, parseSecretIds } from './secret-ids.js';

const ARN = 'arn:aws:secretsmanager:us-east-2:123456789012:secret:test1-a1b2c3';

describe('parseSecretIds', () => {
  it('reads names, ARNs and prefixes, with aliases and blank aliases', () => {
    expect(
      parseSecretIds([
        'exampleSecretName',
        `SECRET_ALIAS_2,${ARN}`,
        ' beta* ',
        ',secret2',
        'ENV_VAR_1, secretId',
      ]),
    ).toEqual([
      { kind: 'name', line: 'exampleSecretName', id: 'exampleSecretName' },
      {
        kind: 'arn',
        line: `SECRET_ALIAS_2,${ARN}`,
        id: ARN,
        alias: 'SECRET_ALIAS_2',
        arn: {
          arn: ARN,
          partition: 'aws',
          region: 'us-east-2',
          accountId: '123456789012',
          resourceName: 'test1-a1b2c3',
        },
      },
      { kind: 'prefix', line: 'beta*', id: 'beta*', prefix: 'beta' },
      { kind: 'name', line: ',secret2', id: 'secret2', alias: '' },
      { kind: 'name', line: 'ENV_VAR_1, secretId', id: 'secretId', alias: 'ENV_VAR_1' },
    ]);
  });

  it('skips blank lines, comments and repeated lines', () => {
    expect(parseSecretIds(['', '# all of beta', 'beta*    # trailing comment', 'beta*'])).toHaveLength(1);
  });

  it('reports every invalid line at once', () => {
    const error = (() => {
      try {
        parseSecretIds(['ok', 'bad name', '1ALIAS,ok', 'ab*', 'a*b*', 'arn:aws:s3:::bucket']);
      } catch (thrown) {
        return thrown as KeyfenceError;
      }
      throw new Error('expected an error');
    })();
    expect(error).toBeInstanceOf(KeyfenceError);
    expect(error.code).toBe('SECRET_ID_INVALID');
    for (const line of ['bad name', '1ALIAS,ok', 'ab*', 'a*b*', 'arn:aws:s3:::bucket'])
      expect(error.message).toContain(`"${line}"`);
    expect(error.message).not.toContain('"ok"');
  });
});

describe('parseSecretArn', () => {
  it('reads ARNs of every partition, full or partial', () => {
    expect(
      parseSecretArn('arn:aws-cn:secretsmanager:cn-north-1:123456789012:secret:prod/db')?.partition,
    ).toBe('aws-cn');
    expect(
      parseSecretArn('arn:aws-us-gov:secretsmanager:us-gov-west-1:123456789012:secret:x-AbCdEf')?.region,
    ).toBe('us-gov-west-1');
    expect(
      parseSecretArn('arn:aws-iso-b:secretsmanager:us-isob-east-1:123456789012:secret:x')?.partition,
    ).toBe('aws-iso-b');
  });

  it('refuses other ARNs', () => {
    expect(parseSecretArn('arn:aws:secretsmanager:us-east-1:123:secret:x')).toBeUndefined();
    expect(parseSecretArn('arn:aws:ssm:us-east-1:123456789012:parameter/x')).toBeUndefined();
  });
});
