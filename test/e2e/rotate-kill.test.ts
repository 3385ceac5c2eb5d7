import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import {
  CreateSecretCommand,
  GetSecretValueCommand,
  type SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { checkRunbooks, MemoryAudit, PostgresUpstream, RotationEngine } from '@keyfence/rotation';
import { AwsRotationVault } from '@keyfence/stores';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeClock } from '../../packages/rotation/test/fakes.js';
import { type MotoServer, startMoto } from '../services/moto.js';
import { startBothOrSkip } from '../services/require.js';
import {
  canLogIn,
  DatabaseFixture,
  type DbSecret,
  motoSecretsClient,
  type PostgresServer,
  startPostgres,
} from '../support/rotation.js';

const CHILD = resolve(import.meta.dirname, '../support/rotate-child.mjs');
let moto: MotoServer | undefined;
let server: PostgresServer | undefined;
let sm: SecretsManagerClient;
let skipReason = '';
const fixtures: DatabaseFixture[] = [];

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
});

async function current(secretId: string, stage = 'AWSCURRENT'): Promise<string | undefined> {
  try {
    return (await sm.send(new GetSecretValueCommand({ SecretId: secretId, VersionStage: stage })))
      .SecretString;
  } catch {
    return undefined;
  }
}

let counter = 0;

describe('a rotation process killed with SIGKILL after a step', () => {
  for (const [strategy, on, method] of [
    ['single-user', 'vault', 'putPending'],
    ['single-user', 'upstream', 'set'],
    ['single-user', 'vault', 'promote'],
    ['alternating-users', 'upstream', 'set'],
    ['alternating-users', 'vault', 'promote'],
  ] as const) {
    it(`${strategy}: killed right after ${on}.${method}, the next run converges with a working value`, async (context) => {
      if (server === undefined || moto === undefined) return context.skip(skipReason);
      const fixture = await DatabaseFixture.create(server, 'kill');
      fixtures.push(fixture);
      counter += 1;
      const secretId = `test/kill-${counter}/db`;
      const adminId = `test/kill-${counter}/db-admin`;
      await sm.send(
        new CreateSecretCommand({ Name: adminId, SecretString: JSON.stringify(fixture.adminSecret()) }),
      );
      await sm.send(
        new CreateSecretCommand({ Name: secretId, SecretString: JSON.stringify(fixture.appSecret()) }),
      );
      const text = `runbooks:
  - name: killed
    store: { type: aws-secrets-manager, secret-id: ${secretId} }
    upstream: { type: postgres, strategy: ${strategy}, admin-secret-id: ${adminId} }
    revocation: { grace-period: 0s }
`;
      const child = spawnSync(
        process.execPath,
        [CHILD, JSON.stringify({ endpoint: moto.endpoint, runbook: text, killAfter: { on, method } })],
        {
          encoding: 'utf8',
          timeout: 60_000,
        },
      );
      expect(child.signal, child.stderr).toBe('SIGKILL');
      const cur = await current(secretId);
      const pending = await current(secretId, 'AWSPENDING');
      if (strategy === 'alternating-users') expect(await canLogIn(cur)).toBe(true);
      else expect((await canLogIn(cur)) || (await canLogIn(pending))).toBe(true);

      const runbook = checkRunbooks(text, 'runbooks.yaml').runbooks[0]!;
      if (runbook.upstream.type !== 'postgres') throw new Error('unexpected runbook');
      // The killed run never released its lock: the next run comes after the lock's expiry.
      const clock = new FakeClock(Date.now() + runbook.lockTtlMs + 1_000);
      const engine = new RotationEngine(runbook, {
        vault: new AwsRotationVault(sm, secretId),
        upstream: new PostgresUpstream({
          config: runbook.upstream,
          readSecret: (id) => new AwsRotationVault(sm, id).readCurrent(),
        }),
        audit: new MemoryAudit(),
        runId: 'after-kill',
        owner: 'test',
        now: clock.now,
      });
      const result = await engine.rotate();
      expect(result.error).toBeUndefined();
      const final = JSON.parse((await current(secretId))!) as DbSecret;
      expect(final.password).not.toBe(fixture.appPassword);
      expect(await canLogIn(final)).toBe(true);
      expect(await canLogIn(fixture.appSecret())).toBe(false);
      expect(await current(secretId, 'AWSPENDING')).toBeUndefined();
    });
  }
});
