import type { SecretValue } from '@keyfence/core';

/** AWS's staging labels, which the rotation engine's vocabulary follows for every store. */
export const STAGE = { current: 'AWSCURRENT', pending: 'AWSPENDING', previous: 'AWSPREVIOUS' } as const;

/** One version of a rotated secret, by the id the store gives it. */
export interface RotationVersionRef {
  versionId: string;
  createdAt?: Date;
}

/** What the vault remembers about the last promotion keyfence made: which version replaced which, and when. */
export interface PromotionRecord {
  /** The version that became current. */
  to: string;
  /** The version it replaced, now the previous one. */
  from: string;
  at: Date;
  /** Set once the replaced version's credential was revoked upstream. */
  revokedAt?: Date;
}

/** A rotation lock held in the vault itself, so two runners never rotate one secret at once. */
export interface LockInfo {
  id: string;
  owner: string;
  expiresAt: Date;
}

/** The rotation state of one secret, read from the vault: the only source of truth after a crash. */
export interface RotationState {
  /** The version consumers read; undefined when the secret has no value yet. */
  current: RotationVersionRef | undefined;
  /** A version waiting to be promoted; never the same as current. */
  pending?: RotationVersionRef;
  previous?: RotationVersionRef;
  /** Present only when it describes the current version (the last promotion is still the latest). */
  promotion?: PromotionRecord;
  lock?: LockInfo;
  /** Things the engine must report, such as a store-managed rotation fighting this one. */
  warnings: string[];
}

export type LockResult = { acquired: true; lock: LockInfo } | { acquired: false; heldBy: LockInfo };

/**
 * The write side of a secret store that the rotation engine drives. Every method is idempotent:
 * repeating a call that already took effect (a retry after a lost answer, a re-run after a crash) succeeds.
 */
export interface RotationVault {
  readonly kind: 'aws-secrets-manager' | 'vault-kv2';
  /** Where the secret lives (an id or a path), for messages and audit records; never a value. */
  readonly location: string;
  state(): Promise<RotationState>;
  /** The value of one version (current, pending or previous). */
  read(versionId: string): Promise<SecretValue>;
  /** The value consumers read now (AWSCURRENT, or the latest KV version), in one call. */
  readCurrent(): Promise<SecretValue>;
  /** Stores `value` as the pending version named `token`, made from version `basedOn`. */
  putPending(token: string, value: SecretValue, basedOn: string): Promise<void>;
  /**
   * Compare-and-swap: makes `to` (the pending version, or an older one for a rollback) current only if
   * `from` is still current; `from` becomes the previous version. Records the promotion with time `at`.
   */
  promote(to: string, from: string, at: Date): Promise<void>;
  /** Forgets a pending version that will never be promoted. */
  dropPending(versionId: string): Promise<void>;
  /** Records that the credential of `promotion.from` was revoked upstream. */
  markRevoked(promotion: PromotionRecord, at: Date): Promise<void>;
  /** Takes the lock unless another holder's lock has not expired yet. */
  acquireLock(owner: string, ttlMs: number, now: Date): Promise<LockResult>;
  /** Throws a KeyfenceError (LOCK_LOST) when `lock` is no longer held or has expired at `now`. */
  checkLock(lock: LockInfo, now: Date): Promise<void>;
  releaseLock(lock: LockInfo): Promise<void>;
}

/** Error codes of the rotation write side. */
export const RotationStoreErrorCode = {
  LOCK_LOST: 'LOCK_LOST',
  PROMOTION_CONFLICT: 'PROMOTION_CONFLICT',
  PENDING_CONFLICT: 'PENDING_CONFLICT',
  VERSION_NOT_FOUND: 'VERSION_NOT_FOUND',
  VAULT_WRITE_FAILED: 'VAULT_WRITE_FAILED',
  VAULT_UNREACHABLE: 'VAULT_UNREACHABLE',
} as const;
