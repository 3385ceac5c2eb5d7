import type { SecretValue } from '@keyfence/core';

/** Stable error codes of the identity package; scripts and docs match on these. */
export const IdentityErrorCode = {
  ID_TOKEN_UNAVAILABLE: 'ID_TOKEN_UNAVAILABLE',
  ID_TOKEN_REQUEST_FAILED: 'ID_TOKEN_REQUEST_FAILED',
  AWS_ROLE_INVALID: 'AWS_ROLE_INVALID',
  AWS_ASSUME_ROLE_FAILED: 'AWS_ASSUME_ROLE_FAILED',
  VAULT_LOGIN_FAILED: 'VAULT_LOGIN_FAILED',
} as const;
export type IdentityErrorCode = (typeof IdentityErrorCode)[keyof typeof IdentityErrorCode];

/** Called with every secret the package obtains, before it is returned, so the caller can mask it first. */
export type OnSecret = (secret: SecretValue) => void;
