import { describe, expect, it } from 'vitest';
import {
  FakeClock,
  FakeDatabase,
  FakeProcess,
  FakeUpstream,
  FakeVault,
  fakeRunbook,
} from '../../test/fakes.js';
import { RotationErrorCode } from '../errors.js';
import type { Runbook } from '../runbook/types.js';
import { MemoryAudit } from './audit.js';
import { RotationEngine } from './engine.js';

type Strategy = 'single-user' | 'alternating-users';

const INITIAL = JSON.stringify({ username: 'app', password: 'initial-password-1' });

function world(strategy: Strategy, overrides: Partial<Runbook> = {}) {
  const clock = new FakeClock();
  const db = new FakeDatabase();
  db.passwords.set('app', 'initial-password-1');
  const vault = new FakeVault(INITIAL, clock);
  const upstream = new FakeUpstream(db, strategy);
  const audit = new MemoryAudit();
  const runbook = fakeRunbook(strategy, overrides);
  const engine = (
    process = new FakeProcess(),
    crash?: { on: 'vault' | 'upstream'; method: string; nth?: number },
  ) =>
    new RotationEngine(runbook, {
      vault: process.wrap(vault, crash?.on === 'vault' ? crash.method : undefined, crash?.nth),
      upstream: process.wrap(upstream, crash?.on === 'upstream' ? crash.method : undefined, crash?.nth),
      audit,
      runId: 'run-1',
      owner: 'test',
      now: clock.now,
      sleep: clock.sleep,
    });
  return { clock, db, vault, upstream, audit, runbook, engine };
}

describe('RotationEngine.rotate', () => {
  it('rotates a single-user credential: the new value is current, the old password no longer logs in', async () => {
    const w = world('single-user');
    const result = await w.engine().rotate();
    expect(result.outcome).toBe('rotated');
    const current = w.vault.valueAt('AWSCURRENT');
    expect(current).not.toBe(INITIAL);
    expect(w.db.login(current)).toBe(true);
    expect(w.db.login(INITIAL)).toBe(false);
    expect(w.vault.valueAt('AWSPREVIOUS')).toBe(INITIAL);
    expect(w.vault.lock).toBeUndefined();
  });

  it('rotates alternating users: creates the clone, switches the vault to it, then revokes the old login', async () => {
    const w = world('alternating-users');
    const result = await w.engine().rotate();
    expect(result.outcome).toBe('rotated');
    const current = JSON.parse(w.vault.valueAt('AWSCURRENT')!) as { username: string };
    expect(current.username).toBe('app_clone');
    expect(w.db.login(w.vault.valueAt('AWSCURRENT'))).toBe(true);
    expect(w.upstream.revoked).toEqual(['app']);
    expect(w.db.login(INITIAL)).toBe(false);
    // The next rotation goes back to the first login.
    w.clock.advance(1_000);
    expect((await w.engine().rotate()).outcome).toBe('rotated');
    expect((JSON.parse(w.vault.valueAt('AWSCURRENT')!) as { username: string }).username).toBe('app');
  });

  it('keeps the previous login working during the grace period and revokes it on a later run', async () => {
    const w = world('alternating-users', { gracePeriodMs: 3_600_000 });
    await w.engine().rotate();
    expect(w.db.login(INITIAL)).toBe(true);
    expect(w.upstream.revoked).toEqual([]);
    w.clock.advance(1_800_000);
    const early = await w.engine().rotate();
    expect(early.outcome).toBe('nothing-to-do');
    expect(early.notes.join(' ')).toContain('grace period');
    expect(w.db.login(INITIAL)).toBe(true);
    w.clock.advance(1_800_001);
    await w.engine().rotate();
    expect(w.upstream.revoked).toEqual(['app']);
  });

  it('never writes a value into the audit records, notes or errors', async () => {
    const w = world('single-user');
    w.upstream.rejectTest = () => true;
    const result = await w.engine().rotate();
    const text = JSON.stringify({ records: w.audit.records, result });
    for (const version of w.vault.versions.values()) {
      const { password } = JSON.parse(version.value) as { password: string };
      expect(text).not.toContain(password);
    }
    expect(w.audit.records.map((record) => record.step)).toContain('restore');
  });

  it('puts the current value back upstream when the new one fails validation (single-user), and promotes nothing', async () => {
    const w = world('single-user');
    w.upstream.rejectTest = (value) => value.password !== 'initial-password-1';
    const result = await w.engine().rotate();
    expect(result.outcome).toBe('failed');
    expect(result.error?.code).toBe(RotationErrorCode.VALIDATION_FAILED);
    expect(w.vault.valueAt('AWSCURRENT')).toBe(INITIAL);
    expect(w.vault.valueAt('AWSPENDING')).toBeUndefined();
    expect(w.db.login(INITIAL)).toBe(true);
  });

  it('keeps the pending value when putting the current one back fails too, so a working credential is never lost', async () => {
    const w = world('single-user');
    w.upstream.rejectTest = (value) => value.password !== 'initial-password-1';
    w.upstream.rejectSet = (target) => target.password === 'initial-password-1';
    const result = await w.engine().rotate();
    expect(result.error?.code).toBe(RotationErrorCode.RESTORE_FAILED);
    const pending = w.vault.valueAt('AWSPENDING');
    expect(w.db.login(pending)).toBe(true);
    expect(w.vault.valueAt('AWSCURRENT')).toBe(INITIAL);
  });

  it('drops a failed pending login with alternating users and leaves the current login alone', async () => {
    const w = world('alternating-users');
    w.upstream.rejectTest = (value) => value.username === 'app_clone';
    const result = await w.engine().rotate();
    expect(result.error?.code).toBe(RotationErrorCode.VALIDATION_FAILED);
    expect(w.vault.valueAt('AWSCURRENT')).toBe(INITIAL);
    expect(w.vault.valueAt('AWSPENDING')).toBeUndefined();
    expect(w.db.login(INITIAL)).toBe(true);
    expect(w.upstream.revoked).toEqual([]);
  });

  it('fails cleanly with nothing changed upstream when the vault is down', async () => {
    const w = world('single-user');
    w.vault.down = true;
    const result = await w.engine().rotate();
    expect(result.outcome).toBe('failed');
    expect(w.db.passwords.get('app')).toBe('initial-password-1');
  });

  it('keeps the pending value when the upstream is down, and the next run finishes the rotation', async () => {
    const w = world('single-user');
    w.db.down = true;
    const first = await w.engine().rotate();
    expect(first.error?.code).toBe(RotationErrorCode.UPSTREAM_UNREACHABLE);
    const pending = w.vault.valueAt('AWSPENDING');
    expect(pending).toBeDefined();
    w.db.down = false;
    const second = await w.engine().rotate();
    expect(second.outcome).toBe('rotated');
    expect(w.vault.valueAt('AWSCURRENT')).toBe(pending);
    expect(w.db.login(pending)).toBe(true);
  });

  it('makes a fresh value when re-applying the saved one keeps failing and the current one still works', async () => {
    const w = world('single-user');
    let rejected: string | undefined;
    w.upstream.rejectSet = (target) => {
      if (target.password === 'initial-password-1') return false;
      rejected ??= target.password;
      return target.password === rejected;
    };
    const first = await w.engine().rotate();
    expect(first.outcome).toBe('failed');
    const second = await w.engine().rotate();
    expect(second.outcome).toBe('rotated');
    expect(second.warnings.join(' ')).toContain('fresh value');
    expect(w.vault.valueAt('AWSCURRENT')).not.toContain(rejected);
    expect(w.db.login(w.vault.valueAt('AWSCURRENT'))).toBe(true);
  });

  it('reports a stale pending version loudly and resumes it instead of throwing it away', async () => {
    const w = world('single-user');
    w.db.down = true;
    await w.engine().rotate();
    const pending = w.vault.valueAt('AWSPENDING');
    w.db.down = false;
    w.clock.advance(2 * 3_600_000);
    const result = await w.engine().rotate();
    expect(result.warnings.join(' ')).toMatch(/STALE PENDING VERSION/);
    expect(result.outcome).toBe('rotated');
    expect(w.vault.valueAt('AWSCURRENT')).toBe(pending);
  });

  it('does nothing before rotate-every has passed since the last promotion', async () => {
    const w = world('single-user', { rotateEveryMs: 86_400_000 });
    expect((await w.engine().rotate()).outcome).toBe('rotated');
    w.clock.advance(3_600_000);
    expect((await w.engine().rotate()).outcome).toBe('nothing-to-do');
    w.clock.advance(86_400_000);
    expect((await w.engine().rotate()).outcome).toBe('rotated');
  });

  it('refuses to run while another rotation holds the lock, and changes nothing', async () => {
    const w = world('single-user');
    await w.vault.acquireLock('someone else', 60_000, w.clock.now());
    const result = await w.engine().rotate();
    expect(result.error?.code).toBe(RotationErrorCode.ROTATION_LOCKED);
    expect(result.error?.message).toContain('someone else');
    expect(w.vault.valueAt('AWSPENDING')).toBeUndefined();
    expect(w.db.passwords.get('app')).toBe('initial-password-1');
  });

  it('lets two rotations started at once run one after the other, never together', async () => {
    const w = world('single-user');
    const results = await Promise.all([w.engine().rotate(), w.engine().rotate()]);
    expect(results.map((result) => result.outcome).sort()).toEqual(['failed', 'rotated']);
    expect(results.find((result) => result.outcome === 'failed')?.error?.code).toBe(
      RotationErrorCode.ROTATION_LOCKED,
    );
    expect(w.db.login(w.vault.valueAt('AWSCURRENT'))).toBe(true);
  });

  it('stops before changing anything when its lock expired and another run took over', async () => {
    const w = world('single-user', { validation: { waitMs: 20 * 60_000, attempts: 1, intervalMs: 10 } });
    const result = await w.engine().rotate();
    // The propagation wait outlived the 15-minute lock, so promotion was refused.
    expect(result.error?.code).toBe('LOCK_LOST');
    expect(w.vault.valueAt('AWSCURRENT')).toBe(INITIAL);
    expect(w.db.login(w.vault.valueAt('AWSPENDING'))).toBe(true);
  });
});

describe('RotationEngine crash safety', () => {
  const vaultSteps = ['acquireLock', 'putPending', 'promote', 'markRevoked', 'releaseLock'];
  const upstreamSteps = ['create', 'set', 'test', 'revoke'];

  for (const strategy of ['single-user', 'alternating-users'] as const) {
    for (const [on, methods] of [
      ['vault', vaultSteps],
      ['upstream', upstreamSteps],
    ] as const) {
      for (const method of methods) {
        it(`${strategy}: a crash right after ${on}.${method} converges on the next run with a working credential`, async () => {
          const w = world(strategy);
          const violations: string[] = [];
          // At every change: alternating users never leave the vault's current value dead; a single user
          // always has the current or the pending value working.
          const check = (): void => {
            const current = w.vault.valueAt('AWSCURRENT');
            const pending = w.vault.valueAt('AWSPENDING');
            const ok =
              strategy === 'alternating-users'
                ? w.db.login(current)
                : w.db.login(current) || w.db.login(pending);
            if (!ok) violations.push(`after a change nothing works (current ${current}, pending ${pending})`);
          };
          w.db.onChange = check;
          w.vault.onChange = check;
          const process = new FakeProcess();
          const first = await w.engine(process, { on, method }).rotate();
          expect(process.dead).toBe(true);
          // Past the lock's expiry: the crashed run never released it.
          w.clock.advance(w.runbook.lockTtlMs + 1);
          const second = await w.engine().rotate();
          expect(['rotated', 'nothing-to-do']).toContain(second.outcome);
          expect([first.outcome, second.outcome]).toContain('rotated');
          const current = w.vault.valueAt('AWSCURRENT');
          expect(current).not.toBe(INITIAL);
          expect(w.db.login(current)).toBe(true);
          expect(w.db.login(INITIAL)).toBe(false);
          expect(w.vault.valueAt('AWSPENDING')).toBeUndefined();
          expect(w.vault.promotion?.revokedAt).toBeDefined();
          expect(violations).toEqual([]);
        });
      }
    }
  }

  for (const [on, method] of [
    ['vault', 'putPending'],
    ['upstream', 'set'],
    ['upstream', 'test'],
  ] as const) {
    it(`alternating users: a crash after ${on}.${method} (before promotion) revokes nothing`, async () => {
      const w = world('alternating-users');
      const process = new FakeProcess();
      await w.engine(process, { on, method }).rotate();
      expect(process.dead).toBe(true);
      expect(w.upstream.revoked).toEqual([]);
      expect(w.vault.valueAt('AWSCURRENT')).toBe(INITIAL);
      expect(w.db.login(INITIAL)).toBe(true);
    });
  }
});

describe('RotationEngine.rollback', () => {
  it('puts the previous value back upstream and makes it current again', async () => {
    const w = world('single-user');
    await w.engine().rotate();
    const rotated = w.vault.valueAt('AWSCURRENT');
    const result = await w.engine().rollback();
    expect(result.outcome).toBe('rolled-back');
    expect(w.vault.valueAt('AWSCURRENT')).toBe(INITIAL);
    expect(w.vault.valueAt('AWSPREVIOUS')).toBe(rotated);
    expect(w.db.login(INITIAL)).toBe(true);
  });

  it('refuses while a rotation is in progress', async () => {
    const w = world('single-user');
    w.db.down = true;
    await w.engine().rotate();
    w.db.down = false;
    const result = await w.engine().rollback();
    expect(result.error?.code).toBe(RotationErrorCode.ROLLBACK_REFUSED);
  });
});

describe('RotationEngine.plan', () => {
  it('describes the next run and changes nothing', async () => {
    const w = world('single-user');
    const before = JSON.stringify([...w.vault.versions]);
    const result = await w.engine().plan();
    expect(result.outcome).toBe('planned');
    expect(result.notes.join(' ')).toContain('would create a pending version');
    expect(JSON.stringify([...w.vault.versions])).toBe(before);
    expect(w.vault.lock).toBeUndefined();
    expect(w.db.logins).toBe(0);
  });

  it('says it would resume a pending version', async () => {
    const w = world('single-user');
    w.db.down = true;
    await w.engine().rotate();
    const result = await w.engine().plan();
    expect(result.notes.join(' ')).toContain('would resume pending version');
  });
});

describe('RotationEngine notifications', () => {
  it('tells consumers after promotion with ids only, and keeps the old value until a later run when that fails', async () => {
    const w = world('alternating-users');
    const events: unknown[] = [];
    let fail = true;
    const engine = () =>
      new RotationEngine(w.runbook, {
        vault: w.vault,
        upstream: w.upstream,
        audit: w.audit,
        runId: 'n',
        owner: 't',
        now: w.clock.now,
        sleep: w.clock.sleep,
        notify: async (event) => {
          events.push(event);
          if (fail) throw new Error('webhook down');
        },
      });
    const result = await engine().rotate();
    expect(result.outcome).toBe('rotated');
    expect(result.warnings.join(' ')).toContain('were not told');
    expect(w.upstream.revoked).toEqual([]);
    expect(w.db.login(INITIAL)).toBe(true);
    expect(JSON.stringify(events)).not.toContain('generated-');
    expect(events[0]).toMatchObject({ runbook: 'fake-db', from: 'v0', rollback: false });
    fail = false;
    await engine().plan();
    const later = await new RotationEngine(w.runbook, {
      vault: w.vault,
      upstream: w.upstream,
      audit: w.audit,
      runId: 'n2',
      owner: 't',
      now: w.clock.now,
    }).rotate();
    expect(later.outcome).toBe('rotated');
    // The later run first revokes the login the failed notification kept alive.
    expect(w.upstream.revoked[0]).toBe('app');
  });
});
