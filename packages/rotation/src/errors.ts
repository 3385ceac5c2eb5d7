/** Stable error codes of the rotation package; scripts and docs match on these, so never rename one. */
export const RotationErrorCode = {
  RUNBOOK_INVALID: 'RUNBOOK_INVALID',
  ROTATION_LOCKED: 'ROTATION_LOCKED',
  NO_CURRENT_VALUE: 'NO_CURRENT_VALUE',
  VALIDATION_FAILED: 'VALIDATION_FAILED',
  RESTORE_FAILED: 'RESTORE_FAILED',
  UPSTREAM_FAILED: 'UPSTREAM_FAILED',
  UPSTREAM_UNREACHABLE: 'UPSTREAM_UNREACHABLE',
  SECRET_INVALID: 'SECRET_INVALID',
  ROLLBACK_REFUSED: 'ROLLBACK_REFUSED',
  REVOKE_REFUSED: 'REVOKE_REFUSED',
  STORE_CONFIG_MISSING: 'STORE_CONFIG_MISSING',
} as const;
export type RotationErrorCode = (typeof RotationErrorCode)[keyof typeof RotationErrorCode];
