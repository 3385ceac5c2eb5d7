import type { SecretValue } from '@keyfence/core';

/** What a revoke call did. */
export type RevokeOutcome = 'revoked' | 'nothing-to-revoke';

/**
 * The system whose credential is rotated (a database, a cloud account, a script). The engine calls these
 * in order, and again after a crash, so each one must be idempotent.
 */
export interface Upstream {
  readonly kind: string;
  /** True when `set` changes the very credential consumers use (single-user): the current value dies at set. */
  readonly replacesCurrent: boolean;
  /** True when `set` re-uses the previous credential (alternating users), so it must wait for its grace period. */
  readonly reusesPrevious: boolean;
  /** A non-secret name of the credential a value holds (a login, a key id), for messages and audit records. */
  identify(value: SecretValue): string;
  /** Builds the next value from the current one; changes nothing upstream. */
  create(current: SecretValue): Promise<SecretValue>;
  /** Makes `target` work upstream; `current` and `pending` are the vault's values, one of which logs in. */
  set(request: { target: SecretValue; current: SecretValue; pending: SecretValue }): Promise<void>;
  /** One check that `value` works (log in, plus the runbook's probe); throws when it does not. */
  test(value: SecretValue): Promise<void>;
  /**
   * Optional first stage of revocation, run right after promotion and again on every later run until
   * the revocation (e.g. deactivate an old API key, delete it after the grace period). Idempotent;
   * must refuse to touch the credential `current` holds.
   */
  retire?(request: { previous: SecretValue; current: SecretValue }): Promise<void>;
  /** Revokes the previous credential; must refuse to touch the credential `current` holds. */
  revoke(request: { previous: SecretValue; current: SecretValue }): Promise<RevokeOutcome>;
}
