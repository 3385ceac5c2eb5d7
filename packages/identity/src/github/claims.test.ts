import { SecretValue } from '@keyfence/core';
import { describe, expect, it } from 'vitest';
import { describeClaims, readTokenClaims } from './claims.js';

function jwt(payload: unknown): SecretValue {
  const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  return new SecretValue(`${part({ alg: 'RS256' })}.${part(payload)}.c2lnbmF0dXJl`);
}

describe('readTokenClaims', () => {
  it('reads the claims a trust policy matches on', () => {
    const claims = readTokenClaims(
      jwt({
        iss: 'https://token.actions.githubusercontent.com',
        sub: 'repo:o/r:ref:refs/heads/main',
        aud: 'sts.amazonaws.com',
        repository: 'o/r',
        ref: 'refs/heads/main',
        job_workflow_ref: 'o/r/.github/workflows/d.yml@refs/heads/main',
        environment: 'prod',
        exp: 1_700_000_000,
        actor: 'someone',
      }),
    );
    expect(claims).toEqual({
      iss: 'https://token.actions.githubusercontent.com',
      sub: 'repo:o/r:ref:refs/heads/main',
      aud: 'sts.amazonaws.com',
      repository: 'o/r',
      ref: 'refs/heads/main',
      job_workflow_ref: 'o/r/.github/workflows/d.yml@refs/heads/main',
      environment: 'prod',
      exp: 1_700_000_000,
    });
  });

  it('keeps a list audience, and ignores claims of the wrong type', () => {
    expect(readTokenClaims(jwt({ aud: ['a', 'b'], sub: 5 }))).toEqual({ aud: ['a', 'b'] });
  });

  it('returns no claims for something that is not a JWT', () => {
    expect(readTokenClaims(new SecretValue('opaque'))).toEqual({});
    expect(readTokenClaims(new SecretValue('a.!!!.c'))).toEqual({});
    expect(readTokenClaims(new SecretValue(`a.${Buffer.from('"str"').toString('base64url')}.c`))).toEqual({});
  });
});

describe('describeClaims', () => {
  it('prints sub, aud, repository, ref and job_workflow_ref, and nothing of the token', () => {
    const token = jwt({ sub: 'repo:o/r:environment:prod', aud: ['x', 'y'], repository: 'o/r' });
    const line = describeClaims(readTokenClaims(token));
    expect(line).toBe('sub=repo:o/r:environment:prod aud=x,y repository=o/r');
    expect(line).not.toContain('c2lnbmF0dXJl');
  });
});
