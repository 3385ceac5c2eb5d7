import type { SecretValue } from '@keyfence/core';

/** Stable error codes of the stores package; scripts and docs match on these. */
export const StoreErrorCode = {
  SECRET_ID_INVALID: 'SECRET_ID_INVALID',
  SECRET_NOT_FOUND: 'SECRET_NOT_FOUND',
  SECRET_ACCESS_DENIED: 'SECRET_ACCESS_DENIED',
  SECRET_FETCH_FAILED: 'SECRET_FETCH_FAILED',
  SECRET_NAME_INVALID: 'SECRET_NAME_INVALID',
  SECRET_NAME_COLLISION: 'SECRET_NAME_COLLISION',
  REGION_MISSING: 'REGION_MISSING',
} as const;
export type StoreErrorCode = (typeof StoreErrorCode)[keyof typeof StoreErrorCode];

/** Called with every value a store reads (and every value derived from it) before it goes anywhere else. */
export type OnSecret = (secret: SecretValue) => void;
