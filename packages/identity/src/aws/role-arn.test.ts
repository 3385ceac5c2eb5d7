import { KeyfenceError } from '@keyfence/core';
import { describe, expect, it } from 'vitest';
import { parseRoleArn } from './role-arn.js';

describe('parseRoleArn', () => {
  it('reads the partition, account and role name, with or without a path', () => {
    expect(parseRoleArn('arn:aws:iam::123456789012:role/deploy')).toEqual({
      arn: 'arn:aws:iam::123456789012:role/deploy',
      partition: 'aws',
      accountId: '123456789012',
      roleName: 'deploy',
    });
    expect(parseRoleArn('arn:aws-cn:iam::210987654321:role/ci/github/deploy').partition).toBe('aws-cn');
    expect(parseRoleArn('arn:aws-us-gov:iam::210987654321:role/x').roleName).toBe('x');
  });

  it('refuses anything else with a user error naming the input', () => {
    for (const bad of [
      'deploy',
      'arn:aws:iam::123:role/x',
      'arn:aws:iam::123456789012:user/x',
      'arn:aws:sts::123456789012:role/x',
    ]) {
      const error = (() => {
        try {
          parseRoleArn(bad);
        } catch (thrown) {
          return thrown;
        }
        return undefined;
      })();
      expect(error).toBeInstanceOf(KeyfenceError);
      expect((error as KeyfenceError).message).toContain('role-to-assume');
      expect((error as KeyfenceError).code).toBe('AWS_ROLE_INVALID');
    }
  });
});
