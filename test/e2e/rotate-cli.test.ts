import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import {
  CreateSecretCommand,
  GetSecretValueCommand,
  type SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { isKeyfenceError } from '@keyfence/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runRotate } from '../../packages/cli/src/commands/rotate.js';
import { type MotoServer, motoEnv, startMoto } from '../services/moto.js';
import { startOrSkip } from '../services/require.js';
import {
  canLogIn,
  DatabaseFixture,
  type DbSecret,
  motoSecretsClient,
  type PostgresServer,
  startPostgres,
} from '../support/rotation.js';

let moto: MotoServer | undefined;
let server: PostgresServer | undefined;
let sm: SecretsManagerClient;
let skipReason = '';
const fixtures: DatabaseFixture[] = [];
const dir = mkdtempSync(join(tmpdir(), 'keyfence-rotate-cli-'));

function sink(): Writable & { text: string } {
  const stream = new Writable({
    write(chunk, _encoding, done) {
      stream.text += String(chunk);
      done();
    },
  }) as Writable & { text: string };
  stream.text = '';
  return stream;
}

async function rotate(args: string[], env: NodeJS.ProcessEnv = process.env) {
  const stdout = sink();
  const stderr = sink();
  const code = await runRotate(args, { stdout, stderr, cwd: dir, env });
  return { code, stdout: stdout.text, stderr: stderr.text };
}

beforeAll(async () => {
  const [pgStarted, motoStarted] = await Promise.all([
    startOrSkip('PostgreSQL', startPostgres),
    startOrSkip('moto', startMoto),
  ]);
  if (!pgStarted.ok || !motoStarted.ok) {
    skipReason = pgStarted.ok ? (motoStarted.ok ? '' : motoStarted.reason) : pgStarted.reason;
    if (motoStarted.ok) await motoStarted.service.stop();
    return;
  }
  server = pgStarted.service;
  moto = motoStarted.service;
  sm = motoSecretsClient(moto.endpoint);
  // The CLI finds moto the way it finds AWS: through the SDK's standard environment variables.
  Object.assign(process.env, motoEnv(moto.endpoint));
});

afterAll(async () => {
  for (const fixture of fixtures) await fixture.cleanup();
  await moto?.stop();
  rmSync(dir, { recursive: true, force: true });
});

let counter = 0;

async function seed(): Promise<{ fixture: DatabaseFixture; secretId: string; adminId: string }> {
  if (server === undefined) throw new Error(skipReason);
  const fixture = await DatabaseFixture.create(server, 'cli');
  fixtures.push(fixture);
  counter += 1;
  const secretId = `prod/cli-${counter}/db`;
  const adminId = `prod/cli-${counter}/db-admin`;
  await sm.send(
    new CreateSecretCommand({ Name: adminId, SecretString: JSON.stringify(fixture.adminSecret()) }),
  );
  await sm.send(
    new CreateSecretCommand({ Name: secretId, SecretString: JSON.stringify(fixture.appSecret()) }),
  );
  return { fixture, secretId, adminId };
}

async function currentOf(secretId: string): Promise<DbSecret> {
  const answer = await sm.send(new GetSecretValueCommand({ SecretId: secretId, VersionStage: 'AWSCURRENT' }));
  return JSON.parse(answer.SecretString ?? '{}') as DbSecret;
}

function runbookFile(name: string, entries: { name: string; secretId: string; adminId: string }[]): string {
  const file = join(dir, name);
  writeFileSync(
    file,
    `runbooks:\n${entries
      .map(
        (entry) => `  - name: ${entry.name}
    store: { type: aws-secrets-manager, secret-id: ${entry.secretId} }
    upstream: { type: postgres, strategy: single-user, admin-secret-id: ${entry.adminId} }
`,
      )
      .join('')}`,
  );
  return file;
}

describe('keyfence rotate', () => {
  it('exits 2 for a runbook with a typo, naming the file, line and field, and changes nothing', async () => {
    const file = join(dir, 'typo.yaml');
    writeFileSync(
      file,
      'runbooks:\n  - name: orders-db\n    store: { type: aws-secrets-manager, secret-id: prod/orders/db }\n    upstream: { type: postgres, strategy: single-user, admin-secert-id: x }\n',
    );
    const error = await rotate(['--runbooks', file]).catch((thrown: unknown) => thrown);
    expect(isKeyfenceError(error) && error.exitCode).toBe(2);
    expect((error as Error).message).toContain(
      `${file}:4:56: runbooks[0].upstream.admin-secert-id: unknown field "admin-secert-id" (did you mean "admin-secret-id"?)`,
    );
  });

  it('exits 2 when --only matches no runbook', async () => {
    const file = runbookFile('only.yaml', [{ name: 'orders-db', secretId: 'x', adminId: 'y' }]);
    const error = await rotate(['--runbooks', file, '--only', 'orders-dv']).catch(
      (thrown: unknown) => thrown,
    );
    expect(isKeyfenceError(error) && error.exitCode).toBe(2);
  });

  it('plans with --dry-run and changes nothing', async (context) => {
    if (moto === undefined) return context.skip(skipReason);
    const { fixture, secretId, adminId } = await seed();
    const file = runbookFile('plan.yaml', [{ name: 'orders-db', secretId, adminId }]);
    const run = await rotate(['--runbooks', file, '--dry-run']);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('would create a pending version');
    expect((await currentOf(secretId)).password).toBe(fixture.appPassword);
  });

  it('rotates every runbook, finishes the others when one fails, and exits 1', async (context) => {
    if (moto === undefined) return context.skip(skipReason);
    const good = await seed();
    const alsoGood = await seed();
    const audit = join(dir, 'audit.jsonl');
    const file = runbookFile('mixed.yaml', [
      { name: 'a-db', secretId: good.secretId, adminId: good.adminId },
      { name: 'missing-db', secretId: 'prod/does-not-exist', adminId: good.adminId },
      { name: 'c-db', secretId: alsoGood.secretId, adminId: alsoGood.adminId },
    ]);
    const run = await rotate(['--runbooks', file, '--audit', audit]);
    expect(run.code).toBe(1);
    expect(run.stdout).toContain('✘ missing-db: failed');
    expect(run.stdout).toContain('2 rotated, 0 with nothing to do, 1 failed');
    for (const { fixture, secretId } of [good, alsoGood]) {
      const current = await currentOf(secretId);
      expect(current.password).not.toBe(fixture.appPassword);
      expect(await canLogIn(current)).toBe(true);
    }
    expect(readFileSync(audit, 'utf8')).toContain('"runbook":"missing-db"');
  });

  it('on a runner: masks every value first, annotates, writes a job summary, and prints no value unmasked', async (context) => {
    if (moto === undefined) return context.skip(skipReason);
    const { secretId, adminId } = await seed();
    const file = runbookFile('runner.yaml', [{ name: 'orders-db', secretId, adminId }]);
    const summary = join(dir, 'summary.md');
    writeFileSync(summary, '');
    const run = await rotate(['--runbooks', file], {
      ...process.env,
      GITHUB_ACTIONS: 'true',
      GITHUB_STEP_SUMMARY: summary,
      RUNNER_TEMP: dir,
    });
    expect(run.code).toBe(0);
    const current = await currentOf(secretId);
    const lines = run.stdout.split('\n');
    const firstMask = lines.findIndex(
      (line) => line.startsWith('::add-mask::') && line.includes(current.password),
    );
    expect(firstMask).toBeGreaterThanOrEqual(0);
    // The leak check: outside ::add-mask:: commands, no output line carries a value.
    const leaks = lines.filter((line) => !line.startsWith('::add-mask::') && line.includes(current.password));
    expect(leaks).toEqual([]);
    expect(readFileSync(summary, 'utf8')).toContain('| orders-db | rotated |');
    expect(readFileSync(join(dir, 'keyfence-rotate-audit.jsonl'), 'utf8')).not.toContain(current.password);
  });
});
