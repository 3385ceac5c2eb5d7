import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CreateSecretCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  PutSecretValueCommand,
  type SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import type { SecretValue } from '@keyfence/core';
import {
  checkRunbooks,
  MemoryAudit,
  PostgresUpstream,
  RotationEngine,
  type Runbook,
  rotateRunbooks,
  type Upstream,
} from '@keyfence/rotation';
import { AwsRotationVault } from '@keyfence/stores';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeClock, FakeProcess } from '../../packages/rotation/test/fakes.js';
import { type MotoServer, startMoto } from '../services/moto.js';
import { startBothOrSkip } from '../services/require.js';
import {
  canLogIn,
  DatabaseFixture,
  type DbSecret,
  loginLoad,
  motoSecretsClient,
  type PostgresServer,
  startPostgres,
} from '../support/rotation.js';

let moto: MotoServer | undefined;
let server: PostgresServer | undefined;
let sm: SecretsManagerClient;
let skipReason = '';
const fixtures: DatabaseFixture[] = [];
const work = mkdtempSync(join(tmpdir(), 'keyfence-rotate-aws-'));

beforeAll(async () => {
  const started = await startBothOrSkip(['PostgreSQL', startPostgres], ['moto', startMoto]);
  if (!started.ok) {
    skipReason = started.reason;
    return;
  }
  [server, moto] = started.service;
  sm = motoSecretsClient(moto.endpoint);
});

afterAll(async () => {
  for (const fixture of fixtures) await fixture.cleanup();
  await moto?.stop();
  rmSync(work, { recursive: true, force: true });
});

let counter = 0;

/** A database with its app and admin secrets in moto. */
async function setup(prefix: string, secretExtra: Record<string, unknown> = {}) {
  if (server === undefined) throw new Error(skipReason);
  const fixture = await DatabaseFixture.create(server, prefix);
  fixtures.push(fixture);
  counter += 1;
  const secretId = `test/${prefix}-${counter}/db`;
  const adminId = `test/${prefix}-${counter}/db-admin`;
  await sm.send(
    new CreateSecretCommand({ Name: adminId, SecretString: JSON.stringify(fixture.adminSecret()) }),
  );
  await sm.send(
    new CreateSecretCommand({ Name: secretId, SecretString: JSON.stringify(fixture.appSecret(secretExtra)) }),
  );
  return { fixture, secretId, adminId };
}

async function valueAt(secretId: string, stage: string): Promise<string | undefined> {
  try {
    const answer = await sm.send(new GetSecretValueCommand({ SecretId: secretId, VersionStage: stage }));
    return answer.SecretString;
  } catch {
    return undefined;
  }
}

async function stages(secretId: string): Promise<Record<string, string[]>> {
  return (await sm.send(new DescribeSecretCommand({ SecretId: secretId }))).VersionIdsToStages ?? {};
}

function runbookFor(
  name: string,
  secretId: string,
  adminId: string,
  strategy: 'single-user' | 'alternating-users',
  extra = '',
): Runbook {
  const { runbooks, issues } = checkRunbooks(
    `runbooks:
  - name: ${name}
    store: { type: aws-secrets-manager, secret-id: ${secretId} }
    upstream: { type: postgres, strategy: ${strategy}, admin-secret-id: ${adminId} }
    validation: { attempts: 2, interval: 100ms }
${extra}`,
    'runbooks.yaml',
  );
  expect(issues.filter((issue) => issue.severity === 'error')).toEqual([]);
  return runbooks[0]!;
}

function target(runbook: Runbook) {
  const store = runbook.store;
  if (store.type !== 'aws-secrets-manager' || runbook.upstream.type !== 'postgres')
    throw new Error('unexpected runbook');
  return {
    vault: new AwsRotationVault(sm, store.secretId),
    upstream: new PostgresUpstream({
      config: runbook.upstream,
      readSecret: (id) => new AwsRotationVault(sm, id).readCurrent(),
    }),
  };
}

function engineFor(
  runbook: Runbook,
  options: {
    clock?: FakeClock;
    process?: FakeProcess;
    crash?: { on: 'vault' | 'upstream'; method: string };
    audit?: MemoryAudit;
    runId?: string;
  } = {},
) {
  const { vault, upstream } = target(runbook);
  const process = options.process ?? new FakeProcess();
  const clock = options.clock;
  return new RotationEngine(runbook, {
    vault: process.wrap(vault, options.crash?.on === 'vault' ? options.crash.method : undefined),
    upstream: process.wrap(upstream, options.crash?.on === 'upstream' ? options.crash.method : undefined),
    audit: options.audit ?? new MemoryAudit(),
    runId: options.runId ?? 'e2e',
    owner: 'e2e test',
    ...(clock === undefined ? {} : { now: clock.now, sleep: clock.sleep }),
  });
}

function postgresLogFile(): string | undefined {
  const candidate = '/var/log/postgresql/postgresql-15-main.log';
  return existsSync(candidate) ? candidate : undefined;
}

describe('rotation against AWS Secrets Manager (moto) and a real PostgreSQL', () => {
  it('rotates the smallest runbook (single-user) end to end: the new password logs in, the old one is refused', async (context) => {
    if (server === undefined) return context.skip(skipReason);
    const { fixture, secretId, adminId } = await setup('single');
    const file = join(work, 'smallest.yaml');
    const audit = join(work, 'audit.jsonl');
    const text = `runbooks:
  - name: orders-db
    store: { type: aws-secrets-manager, secret-id: ${secretId} }
    upstream: { type: postgres, strategy: single-user, admin-secret-id: ${adminId} }
`;
    const logBefore = postgresLogFile() ? readFileSync(postgresLogFile()!, 'utf8').length : 0;
    const seen: SecretValue[] = [];
    const report = await rotateRunbooks({
      runbooksFile: file,
      readText: () => text,
      env: {},
      auditFile: audit,
      connect: target,
      onSecret: (value) => seen.push(value),
    });
    expect(report.results[0]?.error).toBeUndefined();
    expect(report.counts).toEqual({ rotated: 1, skipped: 0, failed: 0 });

    const current = JSON.parse((await valueAt(secretId, 'AWSCURRENT'))!) as DbSecret;
    const previous = JSON.parse((await valueAt(secretId, 'AWSPREVIOUS'))!) as DbSecret;
    expect(current.password).not.toBe(fixture.appPassword);
    expect(current.username).toBe(fixture.app);
    expect(previous.password).toBe(fixture.appPassword);
    expect(await canLogIn(current)).toBe(true);
    expect(await canLogIn(previous)).toBe(false);
    expect(Object.values(await stages(secretId)).flat()).not.toContain('AWSPENDING');
    expect(Object.values(await stages(secretId)).flat()).not.toContain('keyfence-lock');

    const lines = readFileSync(audit, 'utf8').trim().split('\n');
    const steps = lines.map((line) => (JSON.parse(line) as { step: string }).step);
    expect(steps).toEqual(
      expect.arrayContaining(['lock', 'create', 'set', 'test', 'promote', 'revoke', 'unlock', 'run']),
    );
    expect(readFileSync(audit, 'utf8')).not.toContain(current.password);
    expect(seen.some((value) => value.reveal().includes(current.password))).toBe(true);

    // The admin login's statements are logged, yet neither password appears in the server log.
    const log = postgresLogFile();
    if (log !== undefined) {
      const added = readFileSync(log, 'utf8').slice(logBefore);
      expect(added).toContain('SCRAM-SHA-256$4096:');
      expect(added).not.toContain(current.password);
    }
  });

  it('rotates alternating users: creates the clone with the same grants, and the vault current value never fails to log in under load', async (context) => {
    if (server === undefined) return context.skip(skipReason);
    const { fixture, secretId, adminId } = await setup('alt');
    const runbook = runbookFor(
      'orders-db',
      secretId,
      adminId,
      'alternating-users',
      '    revocation: { grace-period: 1s }\n',
    );
    const load = loginLoad(async () => valueAt(secretId, 'AWSCURRENT'), 3);
    await new Promise((done) => setTimeout(done, 200));

    const first = await engineFor(runbook).rotate();
    expect(first.error).toBeUndefined();
    expect(first.outcome).toBe('rotated');
    const afterFirst = JSON.parse((await valueAt(secretId, 'AWSCURRENT'))!) as DbSecret;
    expect(afterFirst.username).toBe(`${fixture.app}_clone`);
    // Same grants: the clone reads and writes the application's table.
    expect(await canLogIn(afterFirst, 'INSERT INTO orders (note) VALUES (current_user)')).toBe(true);
    // Within the grace period the old login still works (consumers that cached it reload first).
    expect(await canLogIn(fixture.appSecret())).toBe(true);

    await new Promise((done) => setTimeout(done, 1_100));
    const second = await engineFor(runbook).rotate();
    expect(second.error).toBeUndefined();
    expect(await canLogIn(fixture.appSecret())).toBe(false);
    const afterSecond = JSON.parse((await valueAt(secretId, 'AWSCURRENT'))!) as DbSecret;
    expect(afterSecond.username).toBe(fixture.app);
    expect(await canLogIn(afterSecond)).toBe(true);

    await new Promise((done) => setTimeout(done, 200));
    const stats = await load.stop();
    console.info(
      `load check (alternating users, AWS): ${stats.attempts} logins with the vault's current value, ${stats.failures} failed`,
    );
    expect(stats.attempts).toBeGreaterThan(20);
    expect(stats.failures).toBe(0);
  });

  it('finds the admin login through masterarn when the runbook names none', async (context) => {
    if (server === undefined) return context.skip(skipReason);
    const { fixture, secretId, adminId } = await setup('master');
    const adminArn = (await sm.send(new DescribeSecretCommand({ SecretId: adminId }))).ARN;
    await sm.send(
      new PutSecretValueCommand({
        SecretId: secretId,
        SecretString: JSON.stringify(fixture.appSecret({ masterarn: adminArn })),
      }),
    );
    const { runbooks } = checkRunbooks(
      `runbooks:\n  - name: m\n    store: { type: aws-secrets-manager, secret-id: ${secretId} }\n    upstream: { type: postgres, strategy: alternating-users }\n    revocation: { grace-period: 0s }\n`,
      'r.yaml',
    );
    const result = await engineFor(runbooks[0]!).rotate();
    expect(result.error).toBeUndefined();
    expect(await canLogIn((await valueAt(secretId, 'AWSCURRENT'))!)).toBe(true);
  });

  it('changes its own password with no admin secret (single-user)', async (context) => {
    if (server === undefined) return context.skip(skipReason);
    const { secretId } = await setup('self');
    const { runbooks } = checkRunbooks(
      `runbooks:\n  - name: s\n    store: { type: aws-secrets-manager, secret-id: ${secretId} }\n    upstream: { type: postgres, strategy: single-user }\n`,
      'r.yaml',
    );
    const result = await engineFor(runbooks[0]!).rotate();
    expect(result.error).toBeUndefined();
    expect(await canLogIn((await valueAt(secretId, 'AWSCURRENT'))!)).toBe(true);
    expect(await canLogIn((await valueAt(secretId, 'AWSPREVIOUS'))!)).toBe(false);
  });

  it('runs the custom probe with the new credential (a write, not only SELECT 1)', async (context) => {
    if (server === undefined) return context.skip(skipReason);
    const { fixture, secretId, adminId } = await setup('probe');
    const { runbooks } = checkRunbooks(
      `runbooks:
  - name: probe
    store: { type: aws-secrets-manager, secret-id: ${secretId} }
    upstream: { type: postgres, strategy: single-user, admin-secret-id: ${adminId} }
    validation: { probe: "INSERT INTO orders (note) VALUES ('probe by ' || current_user)" }
`,
      'r.yaml',
    );
    const runbook = runbooks[0]!;
    const { vault } = target(runbook);
    const upstream = new PostgresUpstream({
      config: runbook.upstream as Extract<Runbook['upstream'], { type: 'postgres' }>,
      readSecret: (id) => new AwsRotationVault(sm, id).readCurrent(),
      ...(runbook.validation.probe === undefined ? {} : { probe: runbook.validation.probe }),
    });
    const result = await new RotationEngine(runbook, {
      vault,
      upstream,
      audit: new MemoryAudit(),
      runId: 'p',
      owner: 'p',
    }).rotate();
    expect(result.error).toBeUndefined();
    expect(
      await canLogIn(
        (await valueAt(secretId, 'AWSCURRENT'))!,
        `SELECT 1/count(*) FROM orders WHERE note = 'probe by ${fixture.app}'`,
      ),
    ).toBe(true);
  });

  it('puts the current password back when the new one fails validation, and promotes nothing', async (context) => {
    if (server === undefined) return context.skip(skipReason);
    const { fixture, secretId, adminId } = await setup('invalid');
    const runbook = runbookFor('r', secretId, adminId, 'single-user');
    const { vault, upstream } = target(runbook);
    // The test's upstream wrapper fails every check of a value other than the original one.
    const picky: Upstream = {
      kind: upstream.kind,
      replacesCurrent: upstream.replacesCurrent,
      reusesPrevious: upstream.reusesPrevious,
      identify: (value) => upstream.identify(value),
      create: (value) => upstream.create(value),
      set: (request) => upstream.set(request),
      revoke: (request) => upstream.revoke(request),
      test: async (value) => {
        if (!value.reveal().includes(fixture.appPassword)) throw new Error('probe failed for the new value');
        return upstream.test(value);
      },
    };
    const engine = new RotationEngine(runbook, {
      vault,
      upstream: picky,
      audit: new MemoryAudit(),
      runId: 'e2e',
      owner: 'e2e',
    });
    const result = await engine.rotate();
    expect(result.error?.code).toBe('VALIDATION_FAILED');
    expect(await canLogIn(fixture.appSecret())).toBe(true);
    expect(JSON.parse((await valueAt(secretId, 'AWSCURRENT'))!)).toMatchObject({
      password: fixture.appPassword,
    });
    expect(Object.values(await stages(secretId)).flat()).not.toContain('AWSPENDING');
  });

  it('keeps the pending value while PostgreSQL is unreachable and finishes once it is back', async (context) => {
    if (server === undefined) return context.skip(skipReason);
    const { fixture, secretId, adminId } = await setup('down');
    // The admin secret points at a closed port: the set step cannot reach the server.
    await sm.send(
      new PutSecretValueCommand({
        SecretId: adminId,
        SecretString: JSON.stringify(fixture.adminSecret({ port: 1 })),
      }),
    );
    const runbook = runbookFor('r', secretId, adminId, 'single-user');
    const clock = new FakeClock(Date.now());
    const first = await engineFor(runbook, { clock }).rotate();
    expect(first.error?.code).toBe('UPSTREAM_UNREACHABLE');
    const pending = await valueAt(secretId, 'AWSPENDING');
    expect(pending).toBeDefined();
    expect(await canLogIn(fixture.appSecret())).toBe(true);

    await sm.send(
      new PutSecretValueCommand({ SecretId: adminId, SecretString: JSON.stringify(fixture.adminSecret()) }),
    );
    const second = await engineFor(runbook, { clock }).rotate();
    expect(second.error).toBeUndefined();
    expect(await valueAt(secretId, 'AWSCURRENT')).toBe(pending);
    expect(await canLogIn(pending)).toBe(true);
  });

  it('changes nothing when the vault cannot be reached', async (context) => {
    if (server === undefined) return context.skip(skipReason);
    const { fixture, secretId, adminId } = await setup('novault');
    const runbook = runbookFor('r', secretId, adminId, 'single-user');
    const offline = motoSecretsClient('http://127.0.0.1:1');
    const engine = new RotationEngine(runbook, {
      vault: new AwsRotationVault(offline, secretId),
      upstream: target(runbook).upstream,
      audit: new MemoryAudit(),
      runId: 'e2e',
      owner: 'e2e',
    });
    const result = await engine.rotate();
    expect(result.outcome).toBe('failed');
    expect(await canLogIn(fixture.appSecret())).toBe(true);
  });

  it('never lets two rotations of one secret overlap', async (context) => {
    if (server === undefined) return context.skip(skipReason);
    const { secretId, adminId } = await setup('race');
    const runbook = runbookFor('r', secretId, adminId, 'single-user');
    const audit = new MemoryAudit();
    const results = await Promise.all(
      [1, 2, 3].map((n) => engineFor(runbook, { audit, runId: `run-${n}` }).rotate()),
    );
    const rotated = results.filter((result) => result.outcome === 'rotated');
    const locked = results.filter((result) => result.error?.code === 'ROTATION_LOCKED');
    expect(rotated.length).toBeGreaterThanOrEqual(1);
    expect(rotated.length + locked.length).toBe(3);
    // Each winner ran alone: from taking the lock to giving it back, no other run held it.
    const spans = ['run-1', 'run-2', 'run-3']
      .map((run) => {
        const records = audit.records.filter((record) => record.run === run);
        const start = records.find((record) => record.step === 'lock' && record.outcome === 'ok');
        const end = records.find((record) => record.step === 'unlock');
        return start && end ? [Date.parse(start.time), Date.parse(end.time)] : undefined;
      })
      .filter((span): span is number[] => span !== undefined)
      .sort((a, b) => a[0]! - b[0]!);
    expect(spans.length).toBe(rotated.length);
    for (let i = 1; i < spans.length; i++) expect(spans[i]![0]).toBeGreaterThanOrEqual(spans[i - 1]![1]!);
    expect(await canLogIn((await valueAt(secretId, 'AWSCURRENT'))!)).toBe(true);
    expect(
      Object.values(await stages(secretId))
        .flat()
        .filter((stage) => stage === 'keyfence-lock'),
    ).toEqual([]);
  });

  it('rolls back one step', async (context) => {
    if (server === undefined) return context.skip(skipReason);
    const { fixture, secretId, adminId } = await setup('rollback');
    const runbook = runbookFor('r', secretId, adminId, 'single-user');
    expect((await engineFor(runbook).rotate()).outcome).toBe('rotated');
    const result = await engineFor(runbook).rollback();
    expect(result.error).toBeUndefined();
    expect(JSON.parse((await valueAt(secretId, 'AWSCURRENT'))!)).toMatchObject({
      password: fixture.appPassword,
    });
    expect(await canLogIn(fixture.appSecret())).toBe(true);
    expect(await canLogIn((await valueAt(secretId, 'AWSPREVIOUS'))!)).toBe(false);
  });

  for (const strategy of ['single-user', 'alternating-users'] as const) {
    for (const [on, method] of [
      ['vault', 'putPending'],
      ['upstream', 'set'],
      ['upstream', 'test'],
      ['vault', 'promote'],
      ['upstream', 'revoke'],
    ] as const) {
      it(`${strategy}: a crash right after ${on}.${method} converges on the next run, a working value all along`, async (context) => {
        if (server === undefined) return context.skip(skipReason);
        const { fixture, secretId, adminId } = await setup(`crash${strategy === 'single-user' ? 's' : 'a'}`);
        const runbook = runbookFor(
          'r',
          secretId,
          adminId,
          strategy,
          '    revocation: { grace-period: 0s }\n',
        );
        const clock = new FakeClock(Date.now());
        const process = new FakeProcess();
        const first = await engineFor(runbook, { clock, process, crash: { on, method } }).rotate();
        expect(process.dead).toBe(true);
        expect(first.outcome).not.toBe('nothing-to-do');
        // Right after the crash, a consumer still has a working value.
        const current = await valueAt(secretId, 'AWSCURRENT');
        const pending = await valueAt(secretId, 'AWSPENDING');
        if (strategy === 'alternating-users') expect(await canLogIn(current)).toBe(true);
        else expect((await canLogIn(current)) || (await canLogIn(pending))).toBe(true);

        clock.advance(runbook.lockTtlMs + 1);
        const second = await engineFor(runbook, { clock }).rotate();
        expect(second.error).toBeUndefined();
        const final = JSON.parse((await valueAt(secretId, 'AWSCURRENT'))!) as DbSecret;
        expect(final.password).not.toBe(fixture.appPassword);
        expect(await canLogIn(final)).toBe(true);
        expect(await canLogIn(fixture.appSecret())).toBe(false);
        expect(Object.values(await stages(secretId)).flat()).not.toContain('AWSPENDING');
      });
    }
  }
});
