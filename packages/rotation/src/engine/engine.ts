import { randomUUID } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import { ErrorCode, KeyfenceError, REDACTED, retry, type SecretValue } from '@keyfence/core';
import type { LockInfo, PromotionRecord, RotationState, RotationVault } from '@keyfence/stores';
import { formatDuration } from '../duration.js';
import { RotationErrorCode } from '../errors.js';
import type { Runbook } from '../runbook/types.js';
import type { Upstream } from '../upstream/types.js';
import type { AuditRecord, AuditSink } from './audit.js';

/** Sent to consumers (webhook, repository_dispatch) after a promotion; holds version ids, never values. */
export interface PromotionEvent {
  runbook: string;
  store: string;
  location: string;
  from: string;
  to: string;
  at: string;
  rollback: boolean;
}

/** Everything the engine touches, injected: tests pass fakes through the same interfaces. */
export interface EngineDeps {
  vault: RotationVault;
  upstream: Upstream;
  audit: AuditSink;
  /** Shared by every audit record of one invocation. */
  runId: string;
  /** Who holds the lock, for the message another run prints (e.g. a workflow run URL). */
  owner: string;
  now?: () => Date;
  sleep?: (ms: number) => Promise<void>;
  /** The idempotency token of a new rotation (AWS's ClientRequestToken); a UUID by default. */
  newToken?: () => string;
  /** Called with every value read or made, before anything could print it (masking). */
  onSecret?: (value: SecretValue) => void;
  notify?: (event: PromotionEvent) => Promise<void>;
}

export type RunbookOutcome = 'rotated' | 'nothing-to-do' | 'failed' | 'rolled-back' | 'planned';

/** What one runbook's run did (or, for a plan, would do). */
export interface RunbookResult {
  runbook: string;
  outcome: RunbookOutcome;
  /** Human lines, in order: what happened, or what a plan would do. */
  notes: string[];
  /** Things that need a human: a stale pending version, a store-managed rotation, a failed notification. */
  warnings: string[];
  versions: { current?: string; previous?: string; pending?: string };
  error?: { code: string; message: string; hint?: string };
  durationMs: number;
}

type Versions = NonNullable<AuditRecord['versions']>;

/** Errors worth another try within a run: the upstream or the vault did not answer. */
function isTransient(error: unknown): boolean {
  return (
    error instanceof KeyfenceError &&
    (error.code === RotationErrorCode.UPSTREAM_UNREACHABLE || error.code === 'VAULT_UNREACHABLE')
  );
}

/** Errors that retrying a test cannot fix. */
function isPermanent(error: unknown): boolean {
  return (
    error instanceof KeyfenceError &&
    (error.code === RotationErrorCode.SECRET_INVALID || error.code === RotationErrorCode.REVOKE_REFUSED)
  );
}

/**
 * Rotates one secret: create pending -> set upstream -> test pending -> promote -> revoke old (after the
 * grace period). Every step is idempotent, and every decision is taken from what the vault says, so a
 * run after a crash at any point resumes and converges.
 */
export class RotationEngine {
  readonly #runbook: Runbook;
  readonly #deps: EngineDeps;
  readonly #now: () => Date;
  readonly #sleep: (ms: number) => Promise<void>;
  readonly #known: string[] = [];
  #notes: string[] = [];
  #warnings: string[] = [];
  #versions: Versions = {};

  constructor(runbook: Runbook, deps: EngineDeps) {
    this.#runbook = runbook;
    this.#deps = deps;
    this.#now = deps.now ?? (() => new Date());
    this.#sleep = deps.sleep ?? ((ms) => delay(ms));
  }

  get #vault(): RotationVault {
    return this.#deps.vault;
  }

  get #upstream(): Upstream {
    return this.#deps.upstream;
  }

  /** Remembers a value (and its JSON leaves) so no message or audit record can carry it. */
  #see(value: SecretValue): SecretValue {
    this.#deps.onSecret?.(value);
    const text = value.reveal();
    const forms = [text];
    try {
      const walk = (node: unknown): void => {
        if (typeof node === 'string') forms.push(node);
        else if (typeof node === 'object' && node !== null) Object.values(node).forEach(walk);
      };
      walk(JSON.parse(text));
    } catch {
      // Not JSON: the whole value is the only form.
    }
    for (const form of forms) if (form.length >= 6 && !this.#known.includes(form)) this.#known.push(form);
    return value;
  }

  #scrub(text: string): string {
    let out = text;
    for (const form of [...this.#known].sort((a, b) => b.length - a.length))
      out = out.split(form).join(REDACTED);
    return out;
  }

  #record(step: string, outcome: AuditRecord['outcome'], extra: Partial<AuditRecord> = {}): void {
    const record: AuditRecord = {
      time: this.#now().toISOString(),
      run: this.#deps.runId,
      runbook: this.#runbook.name,
      step,
      outcome,
      versions: { ...this.#versions },
      ...extra,
    };
    if (record.message !== undefined) record.message = this.#scrub(record.message);
    this.#deps.audit.write(record);
  }

  #note(line: string): void {
    this.#notes.push(line);
  }

  #warn(line: string): void {
    this.#warnings.push(line);
    this.#record('warning', 'warning', { message: line });
  }

  async #step<T>(step: string, fn: () => Promise<T>, message?: string): Promise<T> {
    const started = performance.now();
    try {
      const result = await fn();
      this.#record(step, 'ok', {
        durationMs: Math.round(performance.now() - started),
        ...(message === undefined ? {} : { message }),
      });
      return result;
    } catch (error) {
      const code = error instanceof KeyfenceError ? error.code : ErrorCode.INTERNAL;
      this.#record(step, 'failed', {
        durationMs: Math.round(performance.now() - started),
        code,
        message: error instanceof Error ? error.message : String(error),
      });
      throw error;
    }
  }

  #result(outcome: RunbookOutcome, started: number, error?: unknown): RunbookResult {
    const result: RunbookResult = {
      runbook: this.#runbook.name,
      outcome,
      notes: this.#notes.map((note) => this.#scrub(note)),
      warnings: this.#warnings.map((warning) => this.#scrub(warning)),
      versions: { ...this.#versions },
      durationMs: Math.round(performance.now() - started),
    };
    if (error !== undefined) {
      const keyfence = error instanceof KeyfenceError ? error : undefined;
      result.error = {
        code: keyfence?.code ?? ErrorCode.INTERNAL,
        message: this.#scrub(error instanceof Error ? error.message : String(error)),
        ...(keyfence?.hint === undefined ? {} : { hint: this.#scrub(keyfence.hint) }),
      };
    }
    this.#record('run', outcome === 'failed' ? 'failed' : 'ok', {
      durationMs: result.durationMs,
      message: outcome,
      ...(result.error === undefined ? {} : { code: result.error.code }),
    });
    return result;
  }

  #track(state: RotationState): void {
    this.#versions = {};
    if (state.current !== undefined) this.#versions.current = state.current.versionId;
    if (state.pending !== undefined) this.#versions.pending = state.pending.versionId;
    if (state.previous !== undefined) this.#versions.previous = state.previous.versionId;
  }

  async #read(versionId: string): Promise<SecretValue> {
    return this.#see(await this.#vault.read(versionId));
  }

  async #withLock(fn: (lock: LockInfo) => Promise<RunbookOutcome>): Promise<RunbookResult> {
    const started = performance.now();
    let lock: LockInfo | undefined;
    try {
      const taken = await this.#step('lock', () =>
        this.#vault.acquireLock(this.#deps.owner, this.#runbook.lockTtlMs, this.#now()),
      );
      if (!taken.acquired) {
        throw new KeyfenceError(
          RotationErrorCode.ROTATION_LOCKED,
          `Another rotation of ${this.#vault.location} is running (${taken.heldBy.owner}, lock valid until ${taken.heldBy.expiresAt.toISOString()}).`,
          {
            hint: 'Runs never overlap: this one changed nothing. If that runner died, the lock expires at the time above and the next run resumes its work.',
          },
        );
      }
      lock = taken.lock;
      return this.#result(await fn(lock), started);
    } catch (error) {
      return this.#result('failed', started, error);
    } finally {
      if (lock !== undefined) {
        const held = lock;
        await this.#step('unlock', () => this.#vault.releaseLock(held)).catch(() => undefined);
      }
    }
  }

  async #checkLock(lock: LockInfo): Promise<void> {
    await this.#vault.checkLock(lock, this.#now());
  }

  /** Tests a value: waits for propagation, then tries up to `attempts` times. */
  async #validate(value: SecretValue): Promise<void> {
    const { waitMs, attempts, intervalMs } = this.#runbook.validation;
    if (waitMs > 0) await this.#sleep(waitMs);
    await retry(() => this.#upstream.test(value), {
      retries: attempts - 1,
      baseDelayMs: intervalMs,
      maxDelayMs: intervalMs,
      random: () => 1,
      sleep: this.#sleep,
      isRetryable: (error) => !isPermanent(error),
    });
  }

  async #works(value: SecretValue): Promise<boolean> {
    try {
      await this.#upstream.test(value);
      return true;
    } catch {
      return false;
    }
  }

  async #set(target: SecretValue, current: SecretValue, pending: SecretValue): Promise<void> {
    await retry(() => this.#upstream.set({ target, current, pending }), {
      retries: 2,
      baseDelayMs: 1_000,
      maxDelayMs: 4_000,
      sleep: this.#sleep,
      isRetryable: isTransient,
    });
  }

  /** The previous version's revocation, when its grace period is over; never before its promotion. */
  async #revokeIfDue(state: RotationState, lock: LockInfo): Promise<void> {
    const promotion = state.promotion;
    if (promotion === undefined || state.current === undefined || promotion.to !== state.current.versionId)
      return;
    if (promotion.revokedAt !== undefined || state.pending !== undefined) return;
    const due = new Date(promotion.at.getTime() + this.#runbook.gracePeriodMs);
    if (this.#upstream.retire !== undefined) await this.#retire(promotion, lock);
    if (this.#now() < due) {
      this.#note(
        `previous version ${promotion.from} is revoked after its grace period, at ${due.toISOString()}`,
      );
      this.#record('revoke', 'skipped', { message: `grace period until ${due.toISOString()}` });
      return;
    }
    await this.#revoke(promotion, lock);
  }

  async #retire(promotion: PromotionRecord, lock: LockInfo): Promise<void> {
    const previous = await this.#read(promotion.from);
    const current = await this.#read(promotion.to);
    if (previous.equals(current)) return;
    await this.#checkLock(lock);
    await this.#step(
      'retire',
      () => this.#upstream.retire?.({ previous, current }) ?? Promise.resolve(),
      `version ${promotion.from}`,
    );
  }

  async #revoke(promotion: PromotionRecord, lock: LockInfo): Promise<void> {
    const previous = await this.#read(promotion.from);
    const current = await this.#read(promotion.to);
    if (previous.equals(current)) {
      this.#note(`previous version ${promotion.from} holds the current value: nothing to revoke`);
      await this.#vault.markRevoked(promotion, this.#now());
      return;
    }
    await this.#checkLock(lock);
    const outcome = await this.#step(
      'revoke',
      () => this.#upstream.revoke({ previous, current }),
      `version ${promotion.from}`,
    );
    await this.#vault.markRevoked(promotion, this.#now());
    this.#note(
      outcome === 'revoked'
        ? `revoked the previous value (${this.#upstream.identify(previous)}, version ${promotion.from})`
        : `previous version ${promotion.from}: nothing left to revoke upstream`,
    );
  }

  async #notify(from: string, to: string, rollback: boolean): Promise<boolean> {
    if (this.#deps.notify === undefined) return true;
    const event: PromotionEvent = {
      runbook: this.#runbook.name,
      store: this.#vault.kind,
      location: this.#vault.location,
      from,
      to,
      at: this.#now().toISOString(),
      rollback,
    };
    try {
      await this.#step('notify', () => this.#deps.notify?.(event) ?? Promise.resolve());
      return true;
    } catch (error) {
      this.#warn(
        `consumers were not told about the new version (${error instanceof Error ? error.message : String(error)}); the previous value is kept until a later run`,
      );
      return false;
    }
  }

  /** Creates a pending value and persists it in the vault before anything changes upstream. */
  async #createPending(
    current: SecretValue,
    currentId: string,
  ): Promise<{ token: string; pending: SecretValue }> {
    const token = (this.#deps.newToken ?? randomUUID)();
    const pending = await this.#step('create', async () => {
      const value = this.#see(await this.#upstream.create(current));
      await this.#vault.putPending(token, value, currentId);
      return value;
    });
    this.#versions.pending = token;
    this.#note(`created pending version ${token} (${this.#upstream.identify(pending)})`);
    return { token, pending };
  }

  /**
   * A pending value that will not be promoted is dropped only once nothing depends on it: with a
   * single user the current value is first put back upstream and shown to work; if that fails the
   * pending value stays in the vault, because it may be the only one that logs in.
   */
  async #abandon(token: string, current: SecretValue, pending: SecretValue, reason: unknown): Promise<never> {
    if (this.#upstream.replacesCurrent) {
      let putBack = false;
      try {
        await this.#step('restore', async () => {
          await this.#set(current, current, pending);
          putBack = true;
          await this.#validate(current);
        });
      } catch (restoreError) {
        throw new KeyfenceError(
          RotationErrorCode.RESTORE_FAILED,
          putBack
            ? `The pending value failed validation; the current value was put back upstream but fails validation too (a probe that fails for every value, or the upstream is down). The pending version ${token} is kept in the vault.`
            : `The pending value failed validation, and putting the current value back upstream failed too: the pending version ${token} is kept in the vault (it may be the only working value).`,
          {
            hint: 'Consumers should retry with the pending value (AWSPENDING). Fix the upstream, then run again: the run resumes this version.',
            cause: restoreError,
          },
        );
      }
      this.#note('put the current value back upstream');
    }
    await this.#step('drop-pending', () => this.#vault.dropPending(token));
    delete this.#versions.pending;
    const detail = reason instanceof Error ? reason.message : String(reason);
    throw new KeyfenceError(
      RotationErrorCode.VALIDATION_FAILED,
      `The new value did not pass validation (${detail}); nothing was promoted or revoked, and the current value works.`,
      { hint: 'Check the upstream (permissions, the probe, propagation wait) and run again.', cause: reason },
    );
  }

  /** set -> test, regenerating the value once when re-applying a saved one keeps failing and the current one still works. */
  async #setAndTest(
    lock: LockInfo,
    current: SecretValue,
    currentId: string,
    start: { token: string; pending: SecretValue; resumed: boolean },
  ): Promise<{ token: string; pending: SecretValue }> {
    let { token, pending, resumed } = start;
    for (;;) {
      await this.#checkLock(lock);
      try {
        await this.#step('set', () => this.#set(pending, current, pending), this.#upstream.identify(pending));
      } catch (error) {
        if (resumed && !(error instanceof KeyfenceError && error.code === RotationErrorCode.REVOKE_REFUSED)) {
          if (await this.#works(current)) {
            this.#warn(
              `re-applying the saved pending version ${token} failed again upstream while the current value still works: making a fresh value instead`,
            );
            await this.#step('drop-pending', () => this.#vault.dropPending(token));
            ({ token, pending } = await this.#createPending(current, currentId));
            resumed = false;
            continue;
          }
        }
        throw error;
      }
      try {
        await this.#step('test', () => this.#validate(pending), this.#upstream.identify(pending));
      } catch (error) {
        return await this.#abandon(token, current, pending, error);
      }
      return { token, pending };
    }
  }

  #age(state: RotationState): { due: boolean; at?: Date } {
    const every = this.#runbook.rotateEveryMs;
    if (every === undefined) return { due: true };
    const since = state.promotion?.at;
    if (since === undefined) return { due: true };
    const at = new Date(since.getTime() + every);
    return { due: this.#now() >= at, at };
  }

  /** Rotates the runbook's secret, or finishes a rotation an earlier run left behind. */
  async rotate(): Promise<RunbookResult> {
    return this.#withLock(async (lock) => {
      let state = await this.#vault.state();
      this.#track(state);
      for (const warning of state.warnings) this.#warn(warning);
      if (state.current === undefined) {
        throw new KeyfenceError(
          RotationErrorCode.NO_CURRENT_VALUE,
          `${this.#vault.location} has no current value to rotate.`,
          {
            hint: 'Store the working credential first; keyfence rotates an existing value.',
          },
        );
      }
      const currentId = state.current.versionId;
      const current = await this.#read(currentId);

      let work: { token: string; pending: SecretValue; resumed: boolean };
      if (state.pending !== undefined) {
        const createdAt = state.pending.createdAt;
        if (
          createdAt !== undefined &&
          this.#now().getTime() - createdAt.getTime() > this.#runbook.staleAfterMs
        ) {
          this.#warn(
            `STALE PENDING VERSION ${state.pending.versionId} of ${this.#vault.location}, made ${formatDuration(this.#now().getTime() - createdAt.getTime())} ago by a run that did not finish: resuming it (it is never thrown away unread)`,
          );
        }
        const pending = await this.#read(state.pending.versionId);
        work = { token: state.pending.versionId, pending, resumed: true };
        this.#record('create', 'skipped', { message: `resuming pending version ${work.token}` });
        this.#note(`resumed pending version ${work.token}`);
      } else {
        await this.#revokeIfDue(state, lock);
        const age = this.#age(state);
        if (!age.due) {
          this.#note(
            `not due: the current value was promoted less than ${formatDuration(this.#runbook.rotateEveryMs ?? 0)} ago (next rotation from ${age.at?.toISOString()})`,
          );
          return 'nothing-to-do';
        }
        const promotion = state.promotion;
        if (this.#upstream.reusesPrevious && promotion !== undefined && promotion.revokedAt === undefined) {
          const until = new Date(promotion.at.getTime() + this.#runbook.gracePeriodMs);
          if (this.#now() < until) {
            this.#note(
              `not rotated: the previous login is still in its grace period until ${until.toISOString()}, and alternating users would re-password it`,
            );
            return 'nothing-to-do';
          }
        }
        work = { ...(await this.#createPending(current, currentId)), resumed: false };
      }

      const { token } = await this.#setAndTest(lock, current, currentId, work);

      await this.#checkLock(lock);
      await this.#step(
        'promote',
        () => this.#vault.promote(token, currentId, this.#now()),
        `${currentId} -> ${token}`,
      );
      state = await this.#vault.state();
      this.#track(state);
      this.#note(`promoted version ${token}; version ${currentId} is now the previous one`);
      const told = await this.#notify(currentId, state.current?.versionId ?? token, false);
      if (told) await this.#revokeIfDue(state, lock);
      return 'rotated';
    });
  }

  /** Makes the previous version current again (one step back), after showing it still works upstream. */
  async rollback(): Promise<RunbookResult> {
    return this.#withLock(async (lock) => {
      const state = await this.#vault.state();
      this.#track(state);
      if (state.pending !== undefined) {
        throw new KeyfenceError(
          RotationErrorCode.ROLLBACK_REFUSED,
          `${this.#vault.location} has a rotation in progress (pending version ${state.pending.versionId}).`,
          { hint: 'Run `keyfence rotate` to finish it first, then roll back.' },
        );
      }
      if (state.current === undefined || state.previous === undefined) {
        throw new KeyfenceError(
          RotationErrorCode.ROLLBACK_REFUSED,
          `${this.#vault.location} has no previous version to go back to.`,
        );
      }
      const currentId = state.current.versionId;
      const previousId = state.previous.versionId;
      const current = await this.#read(currentId);
      const previous = await this.#read(previousId);
      await this.#checkLock(lock);
      await this.#step(
        'set',
        () => this.#set(previous, current, previous),
        this.#upstream.identify(previous),
      );
      try {
        await this.#step('test', () => this.#validate(previous), this.#upstream.identify(previous));
      } catch (error) {
        if (this.#upstream.replacesCurrent) {
          await this.#step('restore', async () => {
            await this.#set(current, current, previous);
            await this.#validate(current);
          });
        }
        throw new KeyfenceError(
          RotationErrorCode.ROLLBACK_REFUSED,
          `The previous value no longer works upstream (it was revoked or changed); nothing was rolled back.`,
          { cause: error },
        );
      }
      await this.#checkLock(lock);
      await this.#step(
        'promote',
        () => this.#vault.promote(previousId, currentId, this.#now()),
        `${currentId} -> ${previousId}`,
      );
      this.#track(await this.#vault.state());
      this.#note(`rolled back: version ${previousId}'s value is current again`);
      await this.#notify(currentId, previousId, true);
      return 'rolled-back';
    });
  }

  /** What a run would do now, from the vault's state alone; changes nothing anywhere. */
  async plan(): Promise<RunbookResult> {
    const started = performance.now();
    try {
      const state = await this.#vault.state();
      this.#track(state);
      for (const warning of state.warnings) this.#warnings.push(warning);
      const now = this.#now();
      if (state.lock !== undefined && state.lock.expiresAt > now) {
        this.#note(
          `locked by ${state.lock.owner} until ${state.lock.expiresAt.toISOString()}: a run now would change nothing`,
        );
      }
      if (state.current === undefined) {
        this.#note(`${this.#vault.location} has no current value: a run would fail`);
        return this.#result('planned', started);
      }
      const steps = this.#upstream.replacesCurrent
        ? 'set it upstream (the old password stops working here; consumers retry with the pending value), test it, promote it'
        : 'set it on the standby credential, test it, promote it';
      if (state.pending !== undefined) {
        const created = state.pending.createdAt;
        const stale = created !== undefined && now.getTime() - created.getTime() > this.#runbook.staleAfterMs;
        if (stale)
          this.#warnings.push(
            `stale pending version ${state.pending.versionId} (made ${created?.toISOString()})`,
          );
        this.#note(`would resume pending version ${state.pending.versionId}: ${steps}`);
      } else {
        const promotion = state.promotion;
        if (promotion !== undefined && promotion.revokedAt === undefined) {
          const due = new Date(promotion.at.getTime() + this.#runbook.gracePeriodMs);
          this.#note(
            now >= due
              ? `would revoke previous version ${promotion.from} (grace period over since ${due.toISOString()})`
              : `previous version ${promotion.from} is revoked from ${due.toISOString()}`,
          );
        }
        const age = this.#age(state);
        if (!age.due) this.#note(`nothing to rotate before ${age.at?.toISOString()}`);
        else {
          this.#note(
            `would create a pending version from version ${state.current.versionId} (${this.#upstream.kind}), ${steps}, and revoke the old value after ${formatDuration(this.#runbook.gracePeriodMs)}`,
          );
        }
      }
      return this.#result('planned', started);
    } catch (error) {
      return this.#result('failed', started, error);
    }
  }
}
