import type { SecretValue } from '@keyfence/core';

/** The claims of a GitHub Actions ID token that help fix a trust policy; none of them is secret. */
export interface TokenClaims {
  iss?: string;
  sub?: string;
  aud?: string | string[];
  repository?: string;
  ref?: string;
  job_workflow_ref?: string;
  environment?: string;
  exp?: number;
}

const CLAIMS_TO_READ = ['iss', 'sub', 'repository', 'ref', 'job_workflow_ref', 'environment'] as const;

/** Reads the payload of a JWT without verifying it (the verifier is the cloud); returns {} when it is not a JWT. */
export function readTokenClaims(token: SecretValue): TokenClaims {
  const payload = token.reveal().split('.')[1];
  if (payload === undefined) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
  } catch {
    return {};
  }
  if (typeof parsed !== 'object' || parsed === null) return {};
  const record = parsed as Record<string, unknown>;
  const claims: TokenClaims = {};
  for (const name of CLAIMS_TO_READ) {
    const value = record[name];
    if (typeof value === 'string') claims[name] = value;
  }
  const aud = record['aud'];
  if (typeof aud === 'string') claims.aud = aud;
  else if (Array.isArray(aud) && aud.every((item) => typeof item === 'string')) claims.aud = aud;
  if (typeof record['exp'] === 'number') claims.exp = record['exp'];
  return claims;
}

/** One log line with the claims a trust policy matches on: sub, aud, repository, ref, job_workflow_ref. */
export function describeClaims(claims: TokenClaims): string {
  const aud = Array.isArray(claims.aud) ? claims.aud.join(',') : claims.aud;
  const parts: Array<[string, string | undefined]> = [
    ['sub', claims.sub],
    ['aud', aud],
    ['repository', claims.repository],
    ['ref', claims.ref],
    ['job_workflow_ref', claims.job_workflow_ref],
  ];
  return parts
    .filter((part): part is [string, string] => part[1] !== undefined)
    .map(([name, value]) => `${name}=${value}`)
    .join(' ');
}
