import { SecretValue } from '@keyfence/core';
import {
  checkRunbooks,
  MemoryAudit,
  PostgresUpstream,
  RotationEngine,
  type Runbook,
} from '@keyfence/rotation';
import { Kv2RotationVault } from '@keyfence/stores';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeClock, FakeProcess } from '../../packages/rotation/test/fakes.js';
import { type OpenBaoServer, startOpenBao } from '../services/openbao.js';
import { startBothOrSkip } from '../services/require.js';
import {
  canLogIn,
  DatabaseFixture,
  type DbSecret,
  fetchSend,
  loginLoad,
  type PostgresServer,
  startPostgres,
} from '../support/rotation.js';

let bao: OpenBaoServer | undefined;
let server: PostgresServer | undefined;
let skipReason = '';
const fixtures: DatabaseFixture[] = [];

beforeAll(async () => {
  const started = await startBothOrSkip(['PostgreSQL', startPostgres], ['OpenBao', startOpenBao]);
  if (!started.ok) {
    skipReason = started.reason;
    return;
  }
  [server, bao] = started.service;
});

afterAll(async () => {
  for (const fixture of fixtures) await fixture.cleanup();
  await bao?.stop();
});

let counter = 0;

type Data = { data?: { data?: Record<string, unknown>; metadata?: { version?: number } } };

async function latest(path: string): Promise<DbSecret | undefined> {
  const answer = (await bao!.api('GET', `secret/data/${path}`)) as Data;
  return answer.data?.data as DbSecret | undefined;
}

async function version(path: string, n: number): Promise<DbSecret | undefined> {
  const answer = (await bao!.api('GET', `secret/data/${path}?version=${n}`)) as Data;
  return answer.data?.data as DbSecret | undefined;
}

async function record(path: string): Promise<Record<string, unknown>> {
  const answer = (await bao!.api('GET', `secret/data/${path}.keyfence-rotation`)) as Data;
  return answer.data?.data ?? {};
}

async function setup(prefix: string) {
  if (server === undefined || bao === undefined) throw new Error(skipReason);
  const fixture = await DatabaseFixture.create(server, prefix);
  fixtures.push(fixture);
  counter += 1;
  const path = `test/${prefix}-${counter}/db`;
  const adminPath = `test/${prefix}-${counter}/db-admin`;
  await bao.api('POST', `secret/data/${adminPath}`, { data: fixture.adminSecret() });
  await bao.api('POST', `secret/data/${path}`, { data: fixture.appSecret() });
  return { fixture, path, adminPath };
}

function runbookFor(
  path: string,
  adminPath: string,
  strategy: 'single-user' | 'alternating-users',
  extra = '',
): Runbook {
  const { runbooks, issues } = checkRunbooks(
    `runbooks:
  - name: kv-db
    store: { type: vault-kv2, path: ${path} }
    upstream: { type: postgres, strategy: ${strategy}, admin-secret-id: ${adminPath} }
    validation: { attempts: 2, interval: 100ms }
${extra}`,
    'runbooks.yaml',
  );
  expect(issues.filter((issue) => issue.severity === 'error')).toEqual([]);
  return runbooks[0]!;
}

function vaultAt(
  path: string,
  send?: ConstructorParameters<typeof Kv2RotationVault>[0]['send'],
): Kv2RotationVault {
  return new Kv2RotationVault({
    address: bao!.url,
    token: new SecretValue(bao!.rootToken),
    path,
    ...(send === undefined ? {} : { send }),
  });
}

function engineFor(
  runbook: Runbook,
  options: {
    clock?: FakeClock;
    process?: FakeProcess;
    crash?: { on: 'vault' | 'upstream'; method: string };
    vault?: Kv2RotationVault;
  } = {},
) {
  if (runbook.store.type !== 'vault-kv2' || runbook.upstream.type !== 'postgres')
    throw new Error('unexpected runbook');
  const vault = options.vault ?? vaultAt(runbook.store.path);
  const upstream = new PostgresUpstream({
    config: runbook.upstream,
    readSecret: (id) => vaultAt(id).readCurrent(),
  });
  const process = options.process ?? new FakeProcess();
  return new RotationEngine(runbook, {
    vault: process.wrap(vault, options.crash?.on === 'vault' ? options.crash.method : undefined),
    upstream: process.wrap(upstream, options.crash?.on === 'upstream' ? options.crash.method : undefined),
    audit: new MemoryAudit(),
    runId: 'e2e',
    owner: 'e2e test',
    ...(options.clock === undefined ? {} : { now: options.clock.now, sleep: options.clock.sleep }),
  });
}

describe('rotation against OpenBao KV v2 and a real PostgreSQL', () => {
  it('rotates a single user: the new value is the latest version, the old one stays as the previous version', async (context) => {
    if (bao === undefined) return context.skip(skipReason);
    const { fixture, path, adminPath } = await setup('kvsingle');
    const result = await engineFor(runbookFor(path, adminPath, 'single-user')).rotate();
    expect(result.error).toBeUndefined();
    const current = (await latest(path))!;
    expect(current.password).not.toBe(fixture.appPassword);
    expect(await canLogIn(current)).toBe(true);
    expect((await version(path, 1))?.password).toBe(fixture.appPassword);
    expect(await canLogIn(fixture.appSecret())).toBe(false);
    const metadata = (await bao.api('GET', `secret/metadata/${path}`)) as {
      data: { current_version: number; custom_metadata: Record<string, string> };
    };
    expect(metadata.data.current_version).toBe(2);
    expect(metadata.data.custom_metadata['keyfence-previous-version']).toBe('1');
    const state = await record(path);
    expect(state['pending']).toBeUndefined();
    expect(state['lock']).toBeUndefined();
    expect(state['promotion']).toMatchObject({ to: '2', from: '1' });
  });

  it('rotates alternating users with zero failed logins for a client reading the latest version throughout', async (context) => {
    if (bao === undefined) return context.skip(skipReason);
    const { fixture, path, adminPath } = await setup('kvalt');
    const runbook = runbookFor(
      path,
      adminPath,
      'alternating-users',
      '    revocation: { grace-period: 1s }\n',
    );
    const load = loginLoad(() => latest(path), 3);
    await new Promise((done) => setTimeout(done, 200));
    expect((await engineFor(runbook).rotate()).error).toBeUndefined();
    expect((await latest(path))?.username).toBe(`${fixture.app}_clone`);
    await new Promise((done) => setTimeout(done, 1_100));
    expect((await engineFor(runbook).rotate()).error).toBeUndefined();
    expect((await latest(path))?.username).toBe(fixture.app);
    expect(await canLogIn(fixture.appSecret())).toBe(false);
    await new Promise((done) => setTimeout(done, 200));
    const stats = await load.stop();
    console.info(
      `load check (alternating users, KV v2): ${stats.attempts} logins with the latest version, ${stats.failures} failed`,
    );
    expect(stats.attempts).toBeGreaterThan(20);
    expect(stats.failures).toBe(0);
  });

  it('refuses to promote over a version someone else wrote meanwhile (check-and-set)', async (context) => {
    if (bao === undefined) return context.skip(skipReason);
    const { fixture, path } = await setup('kvcas');
    const vault = vaultAt(path);
    const lock = await vault.acquireLock('test', 60_000, new Date());
    expect(lock.acquired).toBe(true);
    await vault.putPending(
      'token-1',
      new SecretValue(JSON.stringify({ ...fixture.appSecret(), password: 'x' })),
      '1',
    );
    await bao.api('POST', `secret/data/${path}`, { data: fixture.appSecret({ note: 'written by hand' }) });
    await expect(vault.promote('token-1', '1', new Date())).rejects.toMatchObject({
      code: 'PROMOTION_CONFLICT',
    });
    expect((await latest(path))?.['note']).toBe('written by hand');
  });

  it('lets only one of two simultaneous runs take the lock', async (context) => {
    if (bao === undefined) return context.skip(skipReason);
    const { path, adminPath } = await setup('kvrace');
    const runbook = runbookFor(path, adminPath, 'single-user');
    const results = await Promise.all([engineFor(runbook).rotate(), engineFor(runbook).rotate()]);
    expect(results.filter((result) => result.outcome === 'rotated').length).toBeGreaterThanOrEqual(1);
    expect(
      results.every((result) => result.outcome === 'rotated' || result.error?.code === 'ROTATION_LOCKED'),
    ).toBe(true);
    expect(await canLogIn(await latest(path))).toBe(true);
  });

  it('rolls back one step', async (context) => {
    if (bao === undefined) return context.skip(skipReason);
    const { fixture, path, adminPath } = await setup('kvback');
    const runbook = runbookFor(path, adminPath, 'single-user');
    expect((await engineFor(runbook).rotate()).error).toBeUndefined();
    const result = await engineFor(runbook).rollback();
    expect(result.error).toBeUndefined();
    expect((await latest(path))?.password).toBe(fixture.appPassword);
    expect(await canLogIn(fixture.appSecret())).toBe(true);
  });

  it('finishes a promotion that crashed between the new version and the rotation record', async (context) => {
    if (bao === undefined) return context.skip(skipReason);
    const { path, adminPath } = await setup('kvmid');
    // rotate-every keeps the second run from starting a new rotation once it has finished the first.
    const runbook = runbookFor(path, adminPath, 'single-user', '    rotate-every: 1d\n');
    const process = new FakeProcess();
    // The transport dies right after the check-and-set write of the new version lands.
    const vault = vaultAt(path, async (request) => {
      if (process.dead) throw new Error('the process is gone');
      const response = await fetchSend(request);
      if (request.method === 'POST' && request.url.pathname.endsWith(`/secret/data/${path}`))
        process.dead = true;
      return response;
    });
    const clock = new FakeClock(Date.now());
    const first = await engineFor(runbook, { clock, process, vault }).rotate();
    expect(first.outcome).toBe('failed');
    const written = (await record(path))['pending'] as { promoting?: unknown; value: DbSecret };
    expect(written.promoting).toBeDefined();
    expect(await latest(path)).toEqual(written.value);
    expect(await canLogIn(await latest(path))).toBe(true);
    clock.advance(runbook.lockTtlMs + 1);
    const second = await engineFor(runbook, { clock }).rotate();
    expect(second.error).toBeUndefined();
    expect(second.outcome).toBe('nothing-to-do');
    const metadata = (await bao.api('GET', `secret/metadata/${path}`)) as {
      data: { current_version: number };
    };
    // One promotion, not two: the resumed run recognised the version the crashed run had written.
    expect(metadata.data.current_version).toBe(2);
    expect(await canLogIn(await latest(path))).toBe(true);
    expect((await record(path))['pending']).toBeUndefined();
  });

  for (const strategy of ['single-user', 'alternating-users'] as const) {
    for (const [on, method] of [
      ['vault', 'putPending'],
      ['upstream', 'set'],
      ['upstream', 'test'],
      ['vault', 'promote'],
    ] as const) {
      it(`${strategy}: a crash right after ${on}.${method} converges on the next run`, async (context) => {
        if (bao === undefined) return context.skip(skipReason);
        const { fixture, path, adminPath } = await setup(`kvcrash${strategy === 'single-user' ? 's' : 'a'}`);
        const runbook = runbookFor(path, adminPath, strategy, '    revocation: { grace-period: 0s }\n');
        const clock = new FakeClock(Date.now());
        const process = new FakeProcess();
        await engineFor(runbook, { clock, process, crash: { on, method } }).rotate();
        expect(process.dead).toBe(true);
        const state = await record(path);
        const pending = (state['pending'] as { value?: DbSecret } | undefined)?.value;
        if (strategy === 'alternating-users') expect(await canLogIn(await latest(path))).toBe(true);
        else expect((await canLogIn(await latest(path))) || (await canLogIn(pending))).toBe(true);
        clock.advance(runbook.lockTtlMs + 1);
        const second = await engineFor(runbook, { clock }).rotate();
        expect(second.error).toBeUndefined();
        const final = (await latest(path))!;
        expect(final.password).not.toBe(fixture.appPassword);
        expect(await canLogIn(final)).toBe(true);
        expect(await canLogIn(fixture.appSecret())).toBe(false);
      });
    }
  }
});
