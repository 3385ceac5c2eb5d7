import { KeyfenceError, SecretValue } from '@keyfence/core';
import type { LockInfo, LockResult, PromotionRecord, RotationState, RotationVault } from '@keyfence/stores';
import { RotationErrorCode } from '../src/errors.js';
import type { Runbook } from '../src/runbook/types.js';
import type { RevokeOutcome, Upstream } from '../src/upstream/types.js';

/** A clock the test moves by hand. */
export class FakeClock {
  ms: number;
  constructor(start = Date.parse('2025-01-01T00:00:00Z')) {
    this.ms = start;
  }
  now = (): Date => new Date(this.ms);
  advance(ms: number): void {
    this.ms += ms;
  }
  sleep = async (ms: number): Promise<void> => {
    this.ms += ms;
  };
}

/** Thrown by a crash wrapper: stands for the process dying right after a call took effect. */
export class Crash extends Error {
  override name = 'Crash';
}

/** An in-memory vault with AWS's semantics: staging labels, a compare-and-swap promotion, a lock with expiry. */
export class FakeVault implements RotationVault {
  readonly kind = 'aws-secrets-manager' as const;
  readonly location = 'fake/secret';
  readonly versions = new Map<string, { value: string; stages: Set<string>; createdAt: Date }>();
  promotion: PromotionRecord | undefined;
  lock: LockInfo | undefined;
  down = false;
  #counter = 0;
  /** Called after every change, so a test can check an invariant at every moment. */
  onChange: () => void = () => undefined;

  constructor(
    initial: string,
    readonly clock: FakeClock,
  ) {
    this.versions.set('v0', { value: initial, stages: new Set(['AWSCURRENT']), createdAt: clock.now() });
  }

  #check(): void {
    if (this.down) throw new KeyfenceError('VAULT_UNREACHABLE', 'the vault is down');
  }

  #with(stage: string): string | undefined {
    return [...this.versions].find(([, version]) => version.stages.has(stage))?.[0];
  }

  valueAt(stage: string): string | undefined {
    const id = this.#with(stage);
    return id === undefined ? undefined : this.versions.get(id)?.value;
  }

  async state(): Promise<RotationState> {
    this.#check();
    const current = this.#with('AWSCURRENT');
    const pending = [...this.versions].find(
      ([id, version]) => version.stages.has('AWSPENDING') && id !== current,
    )?.[0];
    const previous = this.#with('AWSPREVIOUS');
    const state: RotationState = {
      current: current === undefined ? undefined : { versionId: current },
      warnings: [],
    };
    if (pending !== undefined)
      state.pending = { versionId: pending, createdAt: this.versions.get(pending)!.createdAt };
    if (previous !== undefined) state.previous = { versionId: previous };
    if (this.promotion !== undefined && this.promotion.to === current)
      state.promotion = { ...this.promotion };
    if (this.lock !== undefined) state.lock = { ...this.lock };
    return state;
  }

  async read(versionId: string): Promise<SecretValue> {
    this.#check();
    const version = this.versions.get(versionId);
    if (version === undefined) throw new KeyfenceError('VERSION_NOT_FOUND', `no version ${versionId}`);
    return new SecretValue(version.value);
  }

  async readCurrent(): Promise<SecretValue> {
    return this.read(this.#with('AWSCURRENT') ?? 'none');
  }

  async putPending(token: string, value: SecretValue, _basedOn: string): Promise<void> {
    this.#check();
    const existing = this.versions.get(token);
    if (existing !== undefined) {
      if (existing.value !== value.reveal())
        throw new KeyfenceError('PENDING_CONFLICT', 'same token, other value');
      return;
    }
    for (const version of this.versions.values()) version.stages.delete('AWSPENDING');
    this.versions.set(token, {
      value: value.reveal(),
      stages: new Set(['AWSPENDING']),
      createdAt: this.clock.now(),
    });
    this.onChange();
  }

  async promote(to: string, from: string, at: Date): Promise<void> {
    this.#check();
    const target = this.versions.get(to);
    if (target === undefined) throw new KeyfenceError('VERSION_NOT_FOUND', `no version ${to}`);
    if (!target.stages.has('AWSCURRENT')) {
      if (!this.versions.get(from)?.stages.has('AWSCURRENT'))
        throw new KeyfenceError('PROMOTION_CONFLICT', 'current moved');
      this.promotion = { to, from, at };
      for (const version of this.versions.values()) version.stages.delete('AWSPREVIOUS');
      this.versions.get(from)!.stages.delete('AWSCURRENT');
      this.versions.get(from)!.stages.add('AWSPREVIOUS');
      target.stages.add('AWSCURRENT');
      target.stages.delete('AWSPREVIOUS');
    }
    target.stages.delete('AWSPENDING');
    this.onChange();
  }

  async dropPending(versionId: string): Promise<void> {
    this.#check();
    this.versions.get(versionId)?.stages.delete('AWSPENDING');
    this.onChange();
  }

  async markRevoked(promotion: PromotionRecord, at: Date): Promise<void> {
    this.#check();
    if (this.promotion?.to === promotion.to) this.promotion = { ...this.promotion, revokedAt: at };
  }

  async acquireLock(owner: string, ttlMs: number, now: Date): Promise<LockResult> {
    this.#check();
    if (this.lock !== undefined && this.lock.expiresAt > now)
      return { acquired: false, heldBy: { ...this.lock } };
    this.#counter += 1;
    this.lock = { id: `lock-${this.#counter}`, owner, expiresAt: new Date(now.getTime() + ttlMs) };
    return { acquired: true, lock: { ...this.lock } };
  }

  async checkLock(lock: LockInfo, now: Date): Promise<void> {
    this.#check();
    if (now >= lock.expiresAt || this.lock?.id !== lock.id) throw new KeyfenceError('LOCK_LOST', 'lock lost');
  }

  async releaseLock(lock: LockInfo): Promise<void> {
    this.#check();
    if (this.lock?.id === lock.id) this.lock = undefined;
  }
}

interface Credential {
  username: string;
  password: string;
}

function parse(value: SecretValue): Credential {
  return JSON.parse(value.reveal()) as Credential;
}

/** A pretend database: logins and their passwords. */
export class FakeDatabase {
  readonly passwords = new Map<string, string>();
  down = false;
  logins = 0;
  /** Called after every change of a password. */
  onChange: () => void = () => undefined;

  login(value: SecretValue | string | undefined): boolean {
    if (value === undefined) return false;
    const { username, password } = JSON.parse(
      typeof value === 'string' ? value : value.reveal(),
    ) as Credential;
    return !this.down && this.passwords.get(username) === password;
  }

  setPassword(username: string, password: string): void {
    this.passwords.set(username, password);
    this.onChange();
  }
}

/** An upstream over FakeDatabase with single-user or alternating-users behaviour, and switches to make it fail. */
export class FakeUpstream implements Upstream {
  readonly kind = 'fake';
  readonly replacesCurrent: boolean;
  readonly reusesPrevious: boolean;
  #next = 0;
  /** Values `test` rejects (e.g. a probe that fails for the new login). */
  rejectTest: (value: Credential) => boolean = () => false;
  rejectSet: (target: Credential) => boolean = () => false;
  readonly revoked: string[] = [];

  constructor(
    readonly db: FakeDatabase,
    readonly strategy: 'single-user' | 'alternating-users',
  ) {
    this.replacesCurrent = strategy === 'single-user';
    this.reusesPrevious = strategy === 'alternating-users';
  }

  #unreachable(): void {
    if (this.db.down) throw new KeyfenceError(RotationErrorCode.UPSTREAM_UNREACHABLE, 'database down');
  }

  identify(value: SecretValue): string {
    return parse(value).username;
  }

  async create(current: SecretValue): Promise<SecretValue> {
    const { username } = parse(current);
    this.#next += 1;
    const next =
      this.strategy === 'single-user'
        ? username
        : username.endsWith('_clone')
          ? username.slice(0, -6)
          : `${username}_clone`;
    return new SecretValue(
      JSON.stringify({ username: next, password: `generated-${this.#next}-${Math.random()}` }),
    );
  }

  async set(request: { target: SecretValue; current: SecretValue; pending: SecretValue }): Promise<void> {
    this.#unreachable();
    const target = parse(request.target);
    if (this.strategy === 'alternating-users' && target.username === parse(request.current).username) {
      throw new KeyfenceError(RotationErrorCode.REVOKE_REFUSED, 'would change the current login');
    }
    if (this.rejectSet(target)) throw new KeyfenceError(RotationErrorCode.UPSTREAM_FAILED, 'set rejected');
    this.db.setPassword(target.username, target.password);
  }

  async test(value: SecretValue): Promise<void> {
    this.#unreachable();
    this.db.logins += 1;
    if (!this.db.login(value)) throw new KeyfenceError(RotationErrorCode.UPSTREAM_FAILED, 'login failed');
    if (this.rejectTest(parse(value)))
      throw new KeyfenceError(RotationErrorCode.UPSTREAM_FAILED, 'probe failed');
  }

  async revoke(request: { previous: SecretValue; current: SecretValue }): Promise<RevokeOutcome> {
    this.#unreachable();
    const previous = parse(request.previous);
    if (this.strategy === 'single-user' || previous.username === parse(request.current).username)
      return 'nothing-to-revoke';
    this.db.setPassword(previous.username, `revoked-${Math.random()}`);
    this.revoked.push(previous.username);
    return 'revoked';
  }
}

/**
 * One simulated process. `wrap` passes calls through until the process dies: the `nth` call of the
 * crash method takes effect and then the process is dead, so that call and every later one (on any
 * object wrapped by this process, the lock release in a finally block included) throws Crash.
 */
export class FakeProcess {
  dead = false;

  wrap<T extends object>(target: T, crashMethod?: string, nth = 1): T {
    let calls = 0;
    return new Proxy(target, {
      get: (object, property, receiver) => {
        const value = Reflect.get(object, property, receiver) as unknown;
        if (typeof value !== 'function') return value;
        return (...args: unknown[]) => {
          if (this.dead) throw new Crash('the process is gone');
          const result = (value as (...args: unknown[]) => unknown).apply(object, args);
          if (!(result instanceof Promise) || property !== crashMethod) return result;
          return result.then((resolved: unknown) => {
            if (++calls === nth) {
              this.dead = true;
              throw new Crash(`crash right after ${String(property)}`);
            }
            return resolved;
          });
        };
      },
    });
  }
}

/** A runbook for the fakes, with short waits. */
export function fakeRunbook(
  strategy: 'single-user' | 'alternating-users',
  overrides: Partial<Runbook> = {},
): Runbook {
  return {
    name: 'fake-db',
    store: { type: 'aws-secrets-manager', secretId: 'fake/secret' },
    upstream: {
      type: 'postgres',
      strategy,
      tls: 'disable',
      cloneSuffix: '_clone',
      passwordLength: 32,
      excludeCharacters: '',
    },
    validation: { waitMs: 0, attempts: 2, intervalMs: 10 },
    gracePeriodMs: 0,
    lockTtlMs: 15 * 60_000,
    staleAfterMs: 60 * 60_000,
    source: { file: 'runbooks.yaml', line: 2 },
    ...overrides,
  };
}
