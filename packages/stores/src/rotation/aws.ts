import { randomUUID } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import {
  DescribeSecretCommand,
  type DescribeSecretCommandOutput,
  GetSecretValueCommand,
  type GetSecretValueCommandOutput,
  ListSecretVersionIdsCommand,
  type ListSecretVersionIdsCommandOutput,
  PutSecretValueCommand,
  type PutSecretValueCommandOutput,
  TagResourceCommand,
  type TagResourceCommandOutput,
  UpdateSecretVersionStageCommand,
  type UpdateSecretVersionStageCommandOutput,
} from '@aws-sdk/client-secrets-manager';
import { KeyfenceError, SecretValue } from '@keyfence/core';
import { StoreErrorCode } from '../errors.js';
import {
  type LockInfo,
  type LockResult,
  type PromotionRecord,
  type RotationState,
  RotationStoreErrorCode,
  type RotationVault,
  STAGE,
} from './types.js';

/** The Secrets Manager calls the rotation write side makes; tests may hand in a fake at this level. */
export interface RotationSecretsManagerClient {
  send(command: DescribeSecretCommand): Promise<DescribeSecretCommandOutput>;
  send(command: GetSecretValueCommand): Promise<GetSecretValueCommandOutput>;
  send(command: ListSecretVersionIdsCommand): Promise<ListSecretVersionIdsCommandOutput>;
  send(command: PutSecretValueCommand): Promise<PutSecretValueCommandOutput>;
  send(command: UpdateSecretVersionStageCommand): Promise<UpdateSecretVersionStageCommandOutput>;
  send(command: TagResourceCommand): Promise<TagResourceCommandOutput>;
}

/** The custom staging label that marks the version holding the rotation lock. */
export const LOCK_STAGE = 'keyfence-lock';
// A new lock version needs some label at creation (without one AWS would make it AWSCURRENT);
// this one is moved freely and removed as soon as the lock label is on the version.
const LOCK_CANDIDATE_STAGE = 'keyfence-lock-candidate';
const PROMOTION_TAG = 'keyfence:promotion';
const REVOKED_TAG = 'keyfence:revoked';

type Stages = Record<string, string[]>;

function errorName(error: unknown): string {
  return error instanceof Error ? error.name : '';
}

function versionsWith(stages: Stages, stage: string): string[] {
  return Object.entries(stages)
    .filter(([, labels]) => labels.includes(stage))
    .map(([id]) => id);
}

function parseDate(text: string | undefined): Date | undefined {
  if (text === undefined) return undefined;
  const date = new Date(text);
  return Number.isNaN(date.getTime()) ? undefined : date;
}

/** Parses `TO FROM ISO-TIME` (a tag value: tags allow spaces, letters, digits and `_.:/=+-@`). */
function parsePromotionTag(value: string | undefined): { to: string; from: string; at: Date } | undefined {
  const [to, from, at] = (value ?? '').split(' ');
  const date = parseDate(at);
  return to && from && date ? { to, from, at: date } : undefined;
}

/**
 * The rotation state of an AWS Secrets Manager secret, kept in staging labels (AWSCURRENT, AWSPENDING,
 * AWSPREVIOUS), a `keyfence-lock` label on a lock version, and tags recording the last promotion.
 */
export class AwsRotationVault implements RotationVault {
  readonly kind = 'aws-secrets-manager' as const;
  readonly location: string;
  readonly #client: RotationSecretsManagerClient;
  readonly #secretId: string;

  constructor(client: RotationSecretsManagerClient, secretId: string) {
    this.#client = client;
    this.#secretId = secretId;
    this.location = secretId;
  }

  async #call<T>(action: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (error) {
      throw this.#wrap(action, error);
    }
  }

  #wrap(action: string, error: unknown): unknown {
    if (error instanceof KeyfenceError) return error;
    const name = errorName(error);
    const detail = error instanceof Error ? error.message : String(error);
    if (name === 'ResourceNotFoundException') {
      return new KeyfenceError(
        StoreErrorCode.SECRET_NOT_FOUND,
        `Secret ${this.#secretId} not found (${action}).`,
        {
          hint: 'Create the secret with its current value first; keyfence rotates existing secrets only.',
          cause: error,
        },
      );
    }
    if (name === 'AccessDeniedException' || name === 'AccessDenied') {
      return new KeyfenceError(
        StoreErrorCode.SECRET_ACCESS_DENIED,
        `Access denied to ${this.#secretId} (${action}).`,
        {
          hint: 'Rotation needs secretsmanager:DescribeSecret, GetSecretValue, ListSecretVersionIds, PutSecretValue, UpdateSecretVersionStage and TagResource on the secret.',
          cause: error,
        },
      );
    }
    const code = (error as { code?: unknown }).code;
    if (typeof code === 'string' && /^E[A-Z]+$/.test(code)) {
      return new KeyfenceError(
        RotationStoreErrorCode.VAULT_UNREACHABLE,
        `Could not reach Secrets Manager (${action}): ${detail}`,
        {
          hint: 'Check the network, AWS_ENDPOINT_URL and the region.',
          cause: error,
        },
      );
    }
    return new KeyfenceError(
      RotationStoreErrorCode.VAULT_WRITE_FAILED,
      `Secrets Manager ${action} on ${this.#secretId} failed: ${detail}`,
      {
        cause: error,
      },
    );
  }

  async #describe(): Promise<DescribeSecretCommandOutput> {
    const described = await this.#call('DescribeSecret', () =>
      this.#client.send(new DescribeSecretCommand({ SecretId: this.#secretId })),
    );
    if (described.DeletedDate !== undefined) {
      throw new KeyfenceError(
        StoreErrorCode.SECRET_NOT_FOUND,
        `Secret ${this.#secretId} is scheduled for deletion.`,
        {
          hint: 'Restore it (RestoreSecret) before rotating it.',
        },
      );
    }
    return described;
  }

  async #stages(): Promise<Stages> {
    return (await this.#describe()).VersionIdsToStages ?? {};
  }

  async #readLock(versionId: string): Promise<LockInfo | undefined> {
    try {
      const answer = await this.#client.send(
        new GetSecretValueCommand({ SecretId: this.#secretId, VersionId: versionId }),
      );
      const parsed = JSON.parse(answer.SecretString ?? '') as {
        [LOCK_STAGE]?: { owner?: unknown; expiresAt?: unknown };
      };
      const record = parsed[LOCK_STAGE];
      const expiresAt = parseDate(typeof record?.expiresAt === 'string' ? record.expiresAt : undefined);
      if (record === undefined || expiresAt === undefined) return undefined;
      return { id: versionId, owner: typeof record.owner === 'string' ? record.owner : 'unknown', expiresAt };
    } catch (error) {
      if (error instanceof SyntaxError) return undefined;
      throw this.#wrap('GetSecretValue (lock)', error);
    }
  }

  async #moveStage(stage: string, moveTo: string | undefined, removeFrom: string | undefined): Promise<void> {
    await this.#call(`UpdateSecretVersionStage ${stage}`, () =>
      this.#client.send(
        new UpdateSecretVersionStageCommand({
          SecretId: this.#secretId,
          VersionStage: stage,
          ...(moveTo === undefined ? {} : { MoveToVersionId: moveTo }),
          ...(removeFrom === undefined ? {} : { RemoveFromVersionId: removeFrom }),
        }),
      ),
    );
  }

  async #tag(key: string, value: string): Promise<void> {
    await this.#call('TagResource', () =>
      this.#client.send(
        new TagResourceCommand({ SecretId: this.#secretId, Tags: [{ Key: key, Value: value }] }),
      ),
    );
  }

  async state(): Promise<RotationState> {
    const described = await this.#describe();
    const stages: Stages = described.VersionIdsToStages ?? {};
    const warnings: string[] = [];
    if (described.RotationEnabled === true) {
      warnings.push(
        `AWS-managed rotation is enabled on ${this.#secretId}: its Lambda and keyfence would both move AWSPENDING. Turn one of them off.`,
      );
    }
    const currentIds = versionsWith(stages, STAGE.current);
    const currentId = currentIds[0];
    const pendingId = versionsWith(stages, STAGE.pending).find((id) => id !== currentId);
    const previousId = versionsWith(stages, STAGE.previous)[0];
    const state: RotationState = {
      current: currentId === undefined ? undefined : { versionId: currentId },
      warnings,
    };
    if (pendingId !== undefined) {
      const listed = await this.#call('ListSecretVersionIds', () =>
        this.#client.send(new ListSecretVersionIdsCommand({ SecretId: this.#secretId, MaxResults: 100 })),
      );
      const created = listed.Versions?.find((version) => version.VersionId === pendingId)?.CreatedDate;
      state.pending = {
        versionId: pendingId,
        ...(created === undefined ? {} : { createdAt: new Date(created) }),
      };
    }
    if (previousId !== undefined) state.previous = { versionId: previousId };
    const tags = new Map((described.Tags ?? []).map((tag) => [tag.Key ?? '', tag.Value ?? '']));
    const promotion = parsePromotionTag(tags.get(PROMOTION_TAG));
    if (promotion !== undefined && promotion.to === currentId) {
      const record: PromotionRecord = { ...promotion };
      const [revokedFrom, revokedAt] = (tags.get(REVOKED_TAG) ?? '').split(' ');
      const revokedDate = parseDate(revokedAt);
      if (revokedFrom === promotion.from && revokedDate !== undefined) record.revokedAt = revokedDate;
      state.promotion = record;
    }
    const lockIds = versionsWith(stages, LOCK_STAGE);
    for (const id of lockIds) {
      const lock = await this.#readLock(id);
      if (lock !== undefined && (state.lock === undefined || lock.expiresAt > state.lock.expiresAt))
        state.lock = lock;
    }
    return state;
  }

  async read(versionId: string): Promise<SecretValue> {
    return this.#get({ VersionId: versionId }, versionId);
  }

  async readCurrent(): Promise<SecretValue> {
    // VersionStage is explicit: some implementations answer a bare GetSecretValue with a stale version.
    return this.#get({ VersionStage: STAGE.current }, STAGE.current);
  }

  async #get(
    which: { VersionId: string } | { VersionStage: string },
    versionId: string,
  ): Promise<SecretValue> {
    const answer = await this.#call('GetSecretValue', () =>
      this.#client.send(new GetSecretValueCommand({ SecretId: this.#secretId, ...which })),
    );
    if (answer.SecretString === undefined) {
      throw new KeyfenceError(
        RotationStoreErrorCode.VERSION_NOT_FOUND,
        `Version ${versionId} of ${this.#secretId} holds no SecretString.`,
        {
          hint: 'keyfence rotates text secrets (the JSON layout AWS uses for database secrets); binary secrets are not supported.',
        },
      );
    }
    return new SecretValue(answer.SecretString);
  }

  async putPending(token: string, value: SecretValue, _basedOn: string): Promise<void> {
    try {
      // The token is the idempotency key: a retry with the same token and value is a no-op for AWS.
      await this.#client.send(
        new PutSecretValueCommand({
          SecretId: this.#secretId,
          ClientRequestToken: token,
          SecretString: value.reveal(),
          VersionStages: [STAGE.pending],
        }),
      );
    } catch (error) {
      if (errorName(error) === 'ResourceExistsException') {
        throw new KeyfenceError(
          RotationStoreErrorCode.PENDING_CONFLICT,
          `Version ${token} of ${this.#secretId} already exists with a different value.`,
          {
            hint: 'Another rotation used the same token; run the rotation again to resume from the vault.',
            cause: error,
          },
        );
      }
      throw this.#wrap('PutSecretValue', error);
    }
  }

  async promote(to: string, from: string, at: Date): Promise<void> {
    const stages = await this.#stages();
    const toStages = stages[to];
    if (toStages === undefined) {
      throw new KeyfenceError(
        RotationStoreErrorCode.VERSION_NOT_FOUND,
        `Version ${to} of ${this.#secretId} does not exist.`,
      );
    }
    if (!toStages.includes(STAGE.current)) {
      if (!(stages[from] ?? []).includes(STAGE.current)) {
        throw new KeyfenceError(
          RotationStoreErrorCode.PROMOTION_CONFLICT,
          `${this.#secretId}: AWSCURRENT is no longer on version ${from}; someone changed the secret during the rotation.`,
          { hint: 'Nothing was promoted. Check who wrote the secret, then run the rotation again.' },
        );
      }
      // The record goes first: after a crash right after the label moves, the tag already says when.
      await this.#tag(PROMOTION_TAG, `${to} ${from} ${at.toISOString()}`);
      // RemoveFromVersionId makes the move a compare-and-swap: AWS refuses it if AWSCURRENT moved meanwhile.
      await this.#moveStage(STAGE.current, to, from);
    }
    if (toStages.includes(STAGE.pending)) await this.#moveStage(STAGE.pending, undefined, to);
  }

  async dropPending(versionId: string): Promise<void> {
    const stages = await this.#stages();
    if ((stages[versionId] ?? []).includes(STAGE.pending))
      await this.#moveStage(STAGE.pending, undefined, versionId);
  }

  async markRevoked(promotion: PromotionRecord, at: Date): Promise<void> {
    await this.#tag(REVOKED_TAG, `${promotion.from} ${at.toISOString()}`);
  }

  async acquireLock(owner: string, ttlMs: number, now: Date): Promise<LockResult> {
    for (let attempt = 0; ; attempt++) {
      const result = await this.#tryLock(owner, ttlMs, now);
      if (result !== 'contended') return result;
      const holder = (await this.state()).lock;
      if (attempt >= 4) {
        return {
          acquired: false,
          heldBy: holder ?? {
            id: 'unknown',
            owner: 'another run',
            expiresAt: new Date(now.getTime() + ttlMs),
          },
        };
      }
      if (holder !== undefined && holder.expiresAt > now) return { acquired: false, heldBy: holder };
      // Everyone who collided stepped back; a random pause lets one of them go first next time.
      await delay(50 + Math.floor(Math.random() * 250));
    }
  }

  async #tryLock(owner: string, ttlMs: number, now: Date): Promise<LockResult | 'contended'> {
    const stages = await this.#stages();
    for (const holder of versionsWith(stages, LOCK_STAGE)) {
      const lock = await this.#readLock(holder);
      if (lock !== undefined && lock.expiresAt > now) return { acquired: false, heldBy: lock };
      // An expired lock: take the label off with RemoveFromVersionId, a compare-and-swap of its own.
      await this.#moveStage(LOCK_STAGE, undefined, holder).catch(() => undefined);
    }
    const lock: LockInfo = { id: randomUUID(), owner, expiresAt: new Date(now.getTime() + ttlMs) };
    await this.#call('PutSecretValue (lock)', () =>
      this.#client.send(
        new PutSecretValueCommand({
          SecretId: this.#secretId,
          ClientRequestToken: lock.id,
          SecretString: JSON.stringify({ [LOCK_STAGE]: { owner, expiresAt: lock.expiresAt.toISOString() } }),
          VersionStages: [LOCK_CANDIDATE_STAGE],
        }),
      ),
    );
    try {
      // AWS refuses to attach a label that is on another version unless RemoveFromVersionId names it.
      await this.#moveStage(LOCK_STAGE, lock.id, undefined);
    } catch {
      return 'contended';
    } finally {
      await this.#moveStage(LOCK_CANDIDATE_STAGE, undefined, lock.id).catch(() => undefined);
    }
    // Read back: a store that does not enforce that compare-and-swap (moto) may have let several
    // runners attach the label at once; then each of them sees more than one holder and steps back.
    const holders = versionsWith(await this.#stages(), LOCK_STAGE);
    if (holders.length !== 1 || holders[0] !== lock.id) {
      await this.releaseLock(lock);
      return 'contended';
    }
    return { acquired: true, lock };
  }

  async checkLock(lock: LockInfo, now: Date): Promise<void> {
    const holders = versionsWith(await this.#stages(), LOCK_STAGE);
    if (now >= lock.expiresAt || holders.length !== 1 || holders[0] !== lock.id) {
      throw new KeyfenceError(
        RotationStoreErrorCode.LOCK_LOST,
        `The rotation lock on ${this.#secretId} expired or was taken over (it was valid until ${lock.expiresAt.toISOString()}).`,
        {
          hint: "Raise the runbook's lock-ttl above the longest rotation, then run again: the next run resumes from the vault.",
        },
      );
    }
  }

  async releaseLock(lock: LockInfo): Promise<void> {
    const stages = await this.#stages();
    if ((stages[lock.id] ?? []).includes(LOCK_STAGE)) await this.#moveStage(LOCK_STAGE, undefined, lock.id);
  }
}
