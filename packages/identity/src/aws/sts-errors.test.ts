import { STSServiceException } from '@aws-sdk/client-sts';
import { KeyfenceError } from '@keyfence/core';
import { describe, expect, it } from 'vitest';
import { explainStsError } from './sts-errors.js';

const ROLE = 'arn:aws:iam::123456789012:role/deploy';
const claims = {
  iss: 'https://token.actions.githubusercontent.com',
  sub: 'repo:o/r:ref:refs/heads/main',
  aud: 'sts.amazonaws.com',
};

function stsError(name: string, message: string): STSServiceException {
  return new STSServiceException({ name, message, $fault: 'client', $metadata: { httpStatusCode: 400 } });
}

function hintFor(
  name: string,
  message: string,
  operation: 'AssumeRoleWithWebIdentity' | 'AssumeRole' = 'AssumeRoleWithWebIdentity',
) {
  return explainStsError(stsError(name, message), { operation, roleArn: ROLE, claims }).hint ?? '';
}

describe('explainStsError', () => {
  it('points at the missing OIDC provider', () => {
    const hint = hintFor(
      'InvalidIdentityTokenException',
      'No OpenIDConnect provider found in your account for https://token.actions.githubusercontent.com',
    );
    expect(hint).toContain(
      'Create an IAM OpenID Connect identity provider for https://token.actions.githubusercontent.com',
    );
    expect(hint).toContain('"sts.amazonaws.com"');
  });

  it('points at the audience input for an audience mismatch', () => {
    expect(hintFor('InvalidIdentityTokenException', 'Incorrect token audience')).toContain(
      '`audience` input',
    );
  });

  it('points at the trust policy conditions for AccessDenied', () => {
    const hint = hintFor('AccessDenied', 'Not authorized to perform sts:AssumeRoleWithWebIdentity');
    expect(hint).toContain(`trust policy of ${ROLE}`);
    expect(hint).toContain('repo:o/r:ref:refs/heads/main');
  });

  it.each([
    [
      'ValidationError',
      'The requested DurationSeconds exceeds the MaxSessionDuration set for this role.',
      'MaxSessionDuration',
    ],
    ['MalformedPolicyDocumentException', 'Syntax errors in policy.', 'inline-session-policy'],
    [
      'PackedPolicyTooLargeException',
      'Packed policy consumes 120% of allotted space',
      'shorten inline-session-policy',
    ],
    ['RegionDisabledException', 'STS is not activated in this region', 'activate it'],
    ['ExpiredTokenException', 'Token expired', 're-run the job'],
  ])('explains %s', (name, message, expected) => {
    expect(hintFor(name, message)).toContain(expected);
  });

  it('keeps the cause and the AWS message, and leaves an unknown error without a hint', () => {
    const cause = stsError('SomethingNew', 'surprise');
    const error = explainStsError(cause, { operation: 'AssumeRole', roleArn: ROLE });
    expect(error).toBeInstanceOf(KeyfenceError);
    expect(error.cause).toBe(cause);
    expect(error.message).toBe(`Could not assume ${ROLE} (AssumeRole): SomethingNew: surprise`);
    expect('hint' in error).toBe(false);
  });

  it('passes a KeyfenceError through unchanged', () => {
    const original = new KeyfenceError('X', 'already explained');
    expect(explainStsError(original, { operation: 'AssumeRole', roleArn: ROLE })).toBe(original);
  });
});
