import { randomUUID } from 'node:crypto';
import {
  createHttpSend,
  type HttpSend,
  HttpTransportError,
  isRetryableHttpStatus,
  KeyfenceError,
  parseJsonBody,
  type RetryOptions,
  retry,
  SecretValue,
} from '@keyfence/core';
import { StoreErrorCode } from '../errors.js';
import {
  type LockInfo,
  type LockResult,
  type PromotionRecord,
  type RotationState,
  RotationStoreErrorCode,
  type RotationVault,
} from './types.js';

type Env = Readonly<Record<string, string | undefined>>;
type Json = Record<string, unknown>;

export interface Kv2RotationVaultOptions {
  /** The server's address, e.g. https://vault.example.com:8200. */
  address: string;
  token: SecretValue;
  namespace?: string;
  /** The KV v2 mount. Default `secret`. */
  mount?: string;
  /** The secret's path inside the mount (without data/). */
  path: string;
  /** Where the rotation state (lock, pending value, last promotion) lives. Default `<path>.keyfence-rotation`. */
  statePath?: string;
  env?: Env;
  send?: HttpSend;
  retry?: Partial<RetryOptions>;
}

/** The rotation record kept (with check-and-set writes) at the state path. */
interface StateRecord {
  lock?: { id: string; owner: string; expiresAt: string };
  pending?: {
    token: string;
    base: string;
    createdAt: string;
    value: Json;
    /** Written just before the main path is updated, so a crash in between can be recognised. */
    promoting?: { from: string; at: string };
  };
  promotion?: { to: string; from: string; at: string; revokedAt?: string };
}

const RECORD_MARKER = 'keyfence-rotation';

class VaultHttpError extends Error {
  override name = 'VaultHttpError';
  constructor(
    readonly status: number,
    readonly errors: string[],
    readonly what: string,
  ) {
    super(`${what}: HTTP ${status}${errors.length > 0 ? ` (${errors.join('; ')})` : ''}`);
  }

  get isCasMismatch(): boolean {
    return this.status === 400 && this.errors.some((error) => error.includes('check-and-set'));
  }
}

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** JSON with sorted keys, so two equal objects compare equal as text. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (isObject(value)) {
    const keys = Object.keys(value).sort();
    return `{${keys.map((key) => `${JSON.stringify(key)}:${canonicalJson(value[key])}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

function toObject(value: SecretValue, what: string): Json {
  let parsed: unknown;
  try {
    parsed = JSON.parse(value.reveal());
  } catch {
    parsed = undefined;
  }
  if (!isObject(parsed)) {
    throw new KeyfenceError(
      RotationStoreErrorCode.VAULT_WRITE_FAILED,
      `${what}: a KV v2 secret must be a JSON object.`,
    );
  }
  return parsed;
}

function toDate(text: string): Date {
  return new Date(text);
}

/**
 * The rotation state of a Vault/OpenBao KV v2 secret. Consumers read the latest version of the path;
 * promotion writes the pending value as a new version with `cas` (the old one stays as the previous
 * version); the lock, the pending value and the last promotion live in a record at a sibling state path,
 * always written with `cas`, so that every change to it is a compare-and-swap.
 */
export class Kv2RotationVault implements RotationVault {
  readonly kind = 'vault-kv2' as const;
  readonly location: string;
  readonly #options: Kv2RotationVaultOptions;
  readonly #send: HttpSend;
  readonly #mount: string;
  readonly #statePath: string;
  #held: LockInfo | undefined;

  constructor(options: Kv2RotationVaultOptions) {
    this.#options = options;
    this.#send = options.send ?? createHttpSend(options.env ?? {});
    this.#mount = (options.mount ?? 'secret').replace(/^\/+|\/+$/g, '');
    this.#statePath = options.statePath ?? `${options.path}.keyfence-rotation`;
    this.location = `${this.#mount}/${options.path}`;
  }

  #url(kind: 'data' | 'metadata', path: string, query = ''): URL {
    const url = new URL(this.#options.address);
    const segments = [this.#mount, kind, ...path.split('/')]
      .filter((part) => part !== '')
      .map(encodeURIComponent);
    url.pathname = `${url.pathname.replace(/\/+$/, '')}/v1/${segments.join('/')}`;
    url.search = query;
    return url;
  }

  async #api(
    method: 'GET' | 'POST',
    url: URL,
    what: string,
    body?: unknown,
  ): Promise<{ status: number; body: unknown }> {
    const headers: Record<string, string> = {
      'x-vault-token': this.#options.token.reveal(),
      accept: 'application/json',
      'content-type': 'application/json',
    };
    if (this.#options.namespace) headers['x-vault-namespace'] = this.#options.namespace;
    try {
      return await retry(
        async () => {
          const response = await this.#send({
            url,
            method,
            headers,
            timeoutMs: 20_000,
            ...(body === undefined ? {} : { body: JSON.stringify(body) }),
          });
          const parsed = parseJsonBody(response);
          if (response.status >= 300 && response.status !== 404) {
            const errors =
              isObject(parsed) && Array.isArray(parsed['errors']) ? parsed['errors'].map(String) : [];
            throw new VaultHttpError(response.status, errors, what);
          }
          return { status: response.status, body: parsed };
        },
        {
          retries: 3,
          baseDelayMs: 200,
          maxDelayMs: 2_000,
          timeoutMs: 30_000,
          ...this.#options.retry,
          isRetryable: (error) =>
            error instanceof HttpTransportError ||
            (error instanceof VaultHttpError && isRetryableHttpStatus(error.status)),
        },
      );
    } catch (error) {
      throw this.#wrap(error);
    }
  }

  #wrap(error: unknown): unknown {
    if (error instanceof HttpTransportError) {
      return new KeyfenceError(
        RotationStoreErrorCode.VAULT_UNREACHABLE,
        `Could not reach Vault: ${error.message}`,
        {
          hint: 'Check VAULT_ADDR and the network; nothing was changed by this call.',
          cause: error,
        },
      );
    }
    if (error instanceof VaultHttpError && error.status === 403) {
      return new KeyfenceError(StoreErrorCode.SECRET_ACCESS_DENIED, `Vault denied ${error.what}.`, {
        hint: `Rotation needs read, create and update on ${this.#mount}/data/${this.#options.path} and ${this.#mount}/data/${this.#statePath}, and read and update on ${this.#mount}/metadata/${this.#options.path}.`,
        cause: error,
      });
    }
    return error;
  }

  async #readData(path: string, version?: number): Promise<{ version: number; data: Json | undefined }> {
    const answer = await this.#api(
      'GET',
      this.#url('data', path, version === undefined ? '' : `?version=${version}`),
      `read ${path}`,
    );
    const data = isObject(answer.body) && isObject(answer.body['data']) ? answer.body['data'] : undefined;
    const metadata = data !== undefined && isObject(data['metadata']) ? data['metadata'] : undefined;
    const found = typeof metadata?.['version'] === 'number' ? metadata['version'] : 0;
    if (answer.status === 404) return { version: found, data: undefined };
    return { version: found, data: data !== undefined && isObject(data['data']) ? data['data'] : undefined };
  }

  async #writeData(path: string, data: Json, cas: number): Promise<number> {
    const answer = await this.#api('POST', this.#url('data', path), `write ${path}`, {
      options: { cas },
      data,
    });
    if (answer.status === 404) {
      throw new KeyfenceError(StoreErrorCode.SECRET_NOT_FOUND, `No KV v2 engine at ${this.#mount}/.`, {
        hint: "Check the runbook's mount: it must be a KV version 2 secrets engine.",
      });
    }
    const version =
      isObject(answer.body) && isObject(answer.body['data']) ? answer.body['data']['version'] : undefined;
    return typeof version === 'number' ? version : cas + 1;
  }

  async #mainMetadata(): Promise<{
    current: number;
    alive: (version: number) => boolean;
    custom: Record<string, string>;
  }> {
    const answer = await this.#api(
      'GET',
      this.#url('metadata', this.#options.path),
      `read metadata of ${this.location}`,
    );
    const data = isObject(answer.body) && isObject(answer.body['data']) ? answer.body['data'] : {};
    const versions = isObject(data['versions']) ? data['versions'] : {};
    const custom = isObject(data['custom_metadata']) ? data['custom_metadata'] : {};
    return {
      current: typeof data['current_version'] === 'number' ? data['current_version'] : 0,
      alive: (version) => {
        const entry = versions[String(version)];
        return isObject(entry) && entry['destroyed'] !== true && !entry['deletion_time'];
      },
      custom: Object.fromEntries(Object.entries(custom).map(([key, value]) => [key, String(value)])),
    };
  }

  async #readRecord(): Promise<{ version: number; record: StateRecord }> {
    const { version, data } = await this.#readData(this.#statePath);
    if (data === undefined) return { version, record: {} };
    const { [RECORD_MARKER]: _marker, ...record } = data;
    return { version, record: record as StateRecord };
  }

  async #writeRecord(record: StateRecord, cas: number): Promise<void> {
    await this.#writeData(this.#statePath, { [RECORD_MARKER]: 1, ...record } as Json, cas);
  }

  /** When a promotion landed on the main path but the record still says "promoting", the record is finished. */
  async #completedPromotion(record: StateRecord): Promise<StateRecord['promotion'] | undefined> {
    const promoting = record.pending?.promoting;
    if (record.pending === undefined || promoting === undefined) return undefined;
    const main = await this.#mainMetadata();
    if (main.current <= Number(promoting.from)) return undefined;
    const latest = await this.#readData(this.#options.path, main.current);
    if (canonicalJson(latest.data) !== canonicalJson(record.pending.value)) return undefined;
    return { to: String(main.current), from: promoting.from, at: promoting.at };
  }

  /** Read-modify-write of the record with check-and-set, fenced by the lock this instance holds. */
  async #mutate(change: (record: StateRecord) => StateRecord | undefined, fenced = true): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      const { version, record } = await this.#readRecord();
      if (fenced && (this.#held === undefined || record.lock?.id !== this.#held.id)) {
        throw new KeyfenceError(
          RotationStoreErrorCode.LOCK_LOST,
          `The rotation lock on ${this.location} is no longer held.`,
          {
            hint: 'Another run took over after the lock expired; raise lock-ttl and run again.',
          },
        );
      }
      const completed = await this.#completedPromotion(record);
      if (completed !== undefined) {
        delete record.pending;
        record.promotion = completed;
      }
      const next = change(structuredClone(record));
      if (next === undefined && completed === undefined) return;
      const intended = next ?? record;
      try {
        await this.#writeRecord(intended, version);
        return;
      } catch (error) {
        if (!(error instanceof VaultHttpError && error.isCasMismatch) || attempt >= 2) throw error;
        // Either our own write landed and only its answer was lost, or someone else wrote: look again.
        const again = await this.#readRecord();
        if (canonicalJson(again.record) === canonicalJson(intended)) return;
      }
    }
  }

  async state(): Promise<RotationState> {
    const main = await this.#mainMetadata();
    const { record } = await this.#readRecord();
    const state: RotationState = {
      current: main.current > 0 && main.alive(main.current) ? { versionId: String(main.current) } : undefined,
      warnings: [],
    };
    let promotion = record.promotion;
    const completed = await this.#completedPromotion(record);
    if (completed !== undefined) promotion = completed;
    else if (record.pending !== undefined) {
      state.pending = { versionId: record.pending.token, createdAt: toDate(record.pending.createdAt) };
    }
    if (promotion !== undefined && promotion.to === state.current?.versionId) {
      state.promotion = {
        to: promotion.to,
        from: promotion.from,
        at: toDate(promotion.at),
        ...(promotion.revokedAt === undefined ? {} : { revokedAt: toDate(promotion.revokedAt) }),
      };
    }
    const previous =
      state.promotion?.from ??
      (main.current > 1 && main.alive(main.current - 1) ? String(main.current - 1) : undefined);
    if (previous !== undefined) state.previous = { versionId: previous };
    if (record.lock !== undefined) {
      state.lock = { id: record.lock.id, owner: record.lock.owner, expiresAt: toDate(record.lock.expiresAt) };
    }
    return state;
  }

  async read(versionId: string): Promise<SecretValue> {
    if (!/^\d+$/.test(versionId)) {
      const { record } = await this.#readRecord();
      if (record.pending?.token !== versionId) {
        throw new KeyfenceError(
          RotationStoreErrorCode.VERSION_NOT_FOUND,
          `No pending version ${versionId} at ${this.location}.`,
        );
      }
      return new SecretValue(JSON.stringify(record.pending.value));
    }
    const { data } = await this.#readData(this.#options.path, Number(versionId));
    if (data === undefined) {
      throw new KeyfenceError(
        RotationStoreErrorCode.VERSION_NOT_FOUND,
        `Version ${versionId} of ${this.location} is missing, deleted or destroyed.`,
      );
    }
    return new SecretValue(JSON.stringify(data));
  }

  async readCurrent(): Promise<SecretValue> {
    const { data } = await this.#readData(this.#options.path);
    if (data === undefined) {
      throw new KeyfenceError(StoreErrorCode.SECRET_NOT_FOUND, `Nothing at ${this.location}.`, {
        hint: 'Write the secret first; the path is inside the mount, without data/.',
      });
    }
    return new SecretValue(JSON.stringify(data));
  }

  async putPending(token: string, value: SecretValue, basedOn: string): Promise<void> {
    const object = toObject(value, this.location);
    await this.#mutate((record) => {
      if (record.pending !== undefined) {
        if (record.pending.token === token && canonicalJson(record.pending.value) === canonicalJson(object))
          return undefined;
        throw new KeyfenceError(
          RotationStoreErrorCode.PENDING_CONFLICT,
          `${this.location} already has a pending version (${record.pending.token}).`,
          { hint: 'Run the rotation again: it resumes the pending version instead of making another.' },
        );
      }
      record.pending = { token, base: basedOn, createdAt: new Date().toISOString(), value: object };
      return record;
    });
  }

  async promote(to: string, from: string, at: Date): Promise<void> {
    const { record } = await this.#readRecord();
    const pending = record.pending?.token === to ? record.pending : undefined;
    if (pending !== undefined) {
      if ((await this.#completedPromotion(record)) !== undefined) {
        await this.#mutate(() => undefined);
        return;
      }
      await this.#mutate((next) => {
        if (next.pending?.token !== to) return undefined;
        next.pending.promoting = { from, at: at.toISOString() };
        return next;
      });
    } else if (!/^\d+$/.test(to)) {
      throw new KeyfenceError(
        RotationStoreErrorCode.VERSION_NOT_FOUND,
        `No pending version ${to} at ${this.location}.`,
      );
    }
    const main = await this.#mainMetadata();
    if (String(main.current) !== from) {
      throw new KeyfenceError(
        RotationStoreErrorCode.PROMOTION_CONFLICT,
        `${this.location} changed during the rotation: its latest version is ${main.current}, not ${from}.`,
        { hint: 'Nothing was promoted. Check who wrote the secret, then run the rotation again.' },
      );
    }
    const value = pending?.value ?? toObject(await this.read(to), this.location);
    let written: number;
    try {
      written = await this.#writeData(this.#options.path, value, Number(from));
    } catch (error) {
      if (!(error instanceof VaultHttpError && error.isCasMismatch)) throw error;
      const after = await this.#mainMetadata();
      const latest = await this.#readData(this.#options.path, after.current);
      if (canonicalJson(latest.data) !== canonicalJson(value)) {
        throw new KeyfenceError(
          RotationStoreErrorCode.PROMOTION_CONFLICT,
          `${this.location} changed during the promotion (check-and-set failed at version ${from}).`,
          {
            hint: 'Nothing was promoted. Check who wrote the secret, then run the rotation again.',
            cause: error,
          },
        );
      }
      written = after.current;
    }
    await this.#mutate((next) => {
      if (next.pending?.token === to) delete next.pending;
      next.promotion = { to: String(written), from, at: at.toISOString() };
      return next;
    });
    // Custom metadata tells a human reading the secret where it came from; the record above is what counts.
    await this.#api('POST', this.#url('metadata', this.#options.path), `write metadata of ${this.location}`, {
      custom_metadata: {
        ...main.custom,
        'keyfence-previous-version': from,
        'keyfence-promoted-at': at.toISOString(),
      },
    }).catch(() => undefined);
  }

  async dropPending(versionId: string): Promise<void> {
    await this.#mutate((record) => {
      if (record.pending?.token !== versionId) return undefined;
      delete record.pending;
      return record;
    });
  }

  async markRevoked(promotion: PromotionRecord, at: Date): Promise<void> {
    await this.#mutate((record) => {
      if (record.promotion === undefined || record.promotion.to !== promotion.to) return undefined;
      record.promotion.revokedAt = at.toISOString();
      return record;
    });
  }

  async acquireLock(owner: string, ttlMs: number, now: Date): Promise<LockResult> {
    const { version, record } = await this.#readRecord();
    if (record.lock !== undefined && toDate(record.lock.expiresAt) > now) {
      return { acquired: false, heldBy: { ...record.lock, expiresAt: toDate(record.lock.expiresAt) } };
    }
    const lock: LockInfo = { id: randomUUID(), owner, expiresAt: new Date(now.getTime() + ttlMs) };
    try {
      await this.#writeRecord(
        { ...record, lock: { id: lock.id, owner, expiresAt: lock.expiresAt.toISOString() } },
        version,
      );
    } catch (error) {
      if (!(error instanceof VaultHttpError && error.isCasMismatch)) throw error;
      const again = await this.#readRecord();
      if (again.record.lock?.id !== lock.id) {
        const other = again.record.lock;
        return {
          acquired: false,
          heldBy:
            other === undefined
              ? { id: 'unknown', owner: 'unknown', expiresAt: lock.expiresAt }
              : { ...other, expiresAt: toDate(other.expiresAt) },
        };
      }
    }
    this.#held = lock;
    return { acquired: true, lock };
  }

  async checkLock(lock: LockInfo, now: Date): Promise<void> {
    const { record } = await this.#readRecord();
    if (now >= lock.expiresAt || record.lock?.id !== lock.id) {
      throw new KeyfenceError(
        RotationStoreErrorCode.LOCK_LOST,
        `The rotation lock on ${this.location} expired or was taken over (it was valid until ${lock.expiresAt.toISOString()}).`,
        {
          hint: "Raise the runbook's lock-ttl above the longest rotation, then run again: the next run resumes from the vault.",
        },
      );
    }
  }

  async releaseLock(lock: LockInfo): Promise<void> {
    await this.#mutate((record) => {
      if (record.lock?.id !== lock.id) return undefined;
      delete record.lock;
      return record;
    }, false);
    if (this.#held?.id === lock.id) this.#held = undefined;
  }
}
