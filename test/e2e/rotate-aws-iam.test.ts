import {
  CreateAccessKeyCommand,
  CreateUserCommand,
  IAMClient,
  ListAccessKeysCommand,
  UpdateAccessKeyCommand,
} from '@aws-sdk/client-iam';
import {
  CreateSecretCommand,
  GetSecretValueCommand,
  type SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import {
  AwsIamAccessKeyUpstream,
  checkRunbooks,
  MemoryAudit,
  RotationEngine,
  type Runbook,
} from '@keyfence/rotation';
import { AwsRotationVault } from '@keyfence/stores';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeClock, FakeProcess } from '../../packages/rotation/test/fakes.js';
import { type MotoServer, startMoto } from '../services/moto.js';
import { startOrSkip } from '../services/require.js';
import { motoSecretsClient } from '../support/rotation.js';

let moto: MotoServer | undefined;
let sm: SecretsManagerClient;
let iam: IAMClient;
let skipReason = '';

beforeAll(async () => {
  const started = await startOrSkip('moto', startMoto);
  if (!started.ok) {
    skipReason = started.reason;
    return;
  }
  moto = started.service;
  sm = motoSecretsClient(moto.endpoint);
  iam = new IAMClient({
    endpoint: moto.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
  });
});

afterAll(async () => {
  await moto?.stop();
});

interface KeySecret {
  AccessKeyId: string;
  SecretAccessKey: string;
}

let counter = 0;

async function setup(): Promise<{ user: string; secretId: string; first: KeySecret; runbook: Runbook }> {
  counter += 1;
  const user = `deployer-${counter}`;
  await iam.send(new CreateUserCommand({ UserName: user }));
  const key = (await iam.send(new CreateAccessKeyCommand({ UserName: user }))).AccessKey!;
  const first = { AccessKeyId: key.AccessKeyId!, SecretAccessKey: key.SecretAccessKey! };
  const secretId = `ci/${user}/aws-key`;
  await sm.send(new CreateSecretCommand({ Name: secretId, SecretString: JSON.stringify(first) }));
  const { runbooks, issues } = checkRunbooks(
    `runbooks:
  - name: ${user}
    store: { type: aws-secrets-manager, secret-id: ${secretId} }
    upstream: { type: aws-iam-access-key, user-name: ${user} }
    validation: { wait: 0s, attempts: 2, interval: 100ms }
    revocation: { grace-period: 1h }
`,
    'runbooks.yaml',
  );
  expect(issues).toEqual([]);
  return { user, secretId, first, runbook: runbooks[0]! };
}

function engineFor(
  runbook: Runbook,
  clock: FakeClock,
  process = new FakeProcess(),
  crash?: { on: 'vault' | 'upstream'; method: string },
) {
  if (runbook.store.type !== 'aws-secrets-manager' || runbook.upstream.type !== 'aws-iam-access-key')
    throw new Error('unexpected');
  const upstream = new AwsIamAccessKeyUpstream({
    config: runbook.upstream,
    iam,
    callerIdentity: async (credentials) => {
      const sts = new STSClient({ endpoint: moto!.endpoint, region: 'us-east-1', credentials });
      return { arn: (await sts.send(new GetCallerIdentityCommand({}))).Arn ?? '' };
    },
  });
  return new RotationEngine(runbook, {
    vault: process.wrap(
      new AwsRotationVault(sm, runbook.store.secretId),
      crash?.on === 'vault' ? crash.method : undefined,
    ),
    upstream: process.wrap(upstream, crash?.on === 'upstream' ? crash.method : undefined),
    audit: new MemoryAudit(),
    runId: 'iam',
    owner: 'e2e',
    now: clock.now,
    sleep: clock.sleep,
  });
}

async function keys(user: string): Promise<Record<string, string>> {
  const listed = await iam.send(new ListAccessKeysCommand({ UserName: user }));
  return Object.fromEntries(
    (listed.AccessKeyMetadata ?? []).map((key) => [key.AccessKeyId ?? '', key.Status ?? '']),
  );
}

async function current(secretId: string): Promise<KeySecret> {
  return JSON.parse(
    (await sm.send(new GetSecretValueCommand({ SecretId: secretId, VersionStage: 'AWSCURRENT' })))
      .SecretString ?? '{}',
  ) as KeySecret;
}

describe('aws-iam-access-key rotation against moto (IAM, STS, Secrets Manager)', () => {
  it('creates a second key, validates it, deactivates the old key at promotion and deletes it after the grace period', async (context) => {
    if (moto === undefined) return context.skip(skipReason);
    const { user, secretId, first, runbook } = await setup();
    const clock = new FakeClock(Date.now());
    const result = await engineFor(runbook, clock).rotate();
    expect(result.error).toBeUndefined();
    const second = await current(secretId);
    expect(second.AccessKeyId).not.toBe(first.AccessKeyId);
    expect(await keys(user)).toEqual({ [first.AccessKeyId]: 'Inactive', [second.AccessKeyId]: 'Active' });

    clock.advance(3_600_001);
    const later = await engineFor(runbook, clock).rotate();
    expect(later.error).toBeUndefined();
    const third = await current(secretId);
    // The old key is gone; the previous one is deactivated; the vault's current key is active.
    expect(await keys(user)).toEqual({ [second.AccessKeyId]: 'Inactive', [third.AccessKeyId]: 'Active' });
  });

  it('fails clearly, touching nothing, when the user already has two active keys', async (context) => {
    if (moto === undefined) return context.skip(skipReason);
    const { user, secretId, first, runbook } = await setup();
    const stray = (await iam.send(new CreateAccessKeyCommand({ UserName: user }))).AccessKey!.AccessKeyId!;
    const result = await engineFor(runbook, new FakeClock(Date.now())).rotate();
    expect(result.error?.message).toContain(`already has two active access keys`);
    expect(result.error?.hint).toContain(stray);
    expect(await keys(user)).toEqual({ [first.AccessKeyId]: 'Active', [stray]: 'Active' });
    expect((await current(secretId)).AccessKeyId).toBe(first.AccessKeyId);
  });

  it('removes an inactive extra key to make room', async (context) => {
    if (moto === undefined) return context.skip(skipReason);
    const { user, secretId, runbook } = await setup();
    const stray = (await iam.send(new CreateAccessKeyCommand({ UserName: user }))).AccessKey!.AccessKeyId!;
    await iam.send(new UpdateAccessKeyCommand({ UserName: user, AccessKeyId: stray, Status: 'Inactive' }));
    const result = await engineFor(runbook, new FakeClock(Date.now())).rotate();
    expect(result.error).toBeUndefined();
    expect(Object.keys(await keys(user))).not.toContain(stray);
    expect((await keys(user))[(await current(secretId)).AccessKeyId]).toBe('Active');
  });

  for (const [on, method] of [
    ['vault', 'putPending'],
    ['upstream', 'test'],
    ['vault', 'promote'],
    ['upstream', 'retire'],
  ] as const) {
    it(`a crash right after ${on}.${method} never leaves the vault's current key inactive, and the next run converges`, async (context) => {
      if (moto === undefined) return context.skip(skipReason);
      const { user, secretId, first, runbook } = await setup();
      const clock = new FakeClock(Date.now());
      const process = new FakeProcess();
      await engineFor(runbook, clock, process, { on, method }).rotate();
      expect(process.dead).toBe(true);
      expect((await keys(user))[(await current(secretId)).AccessKeyId]).toBe('Active');
      clock.advance(runbook.lockTtlMs + 1);
      const again = await engineFor(runbook, clock).rotate();
      expect(['rotated', 'nothing-to-do']).toContain(again.outcome);
      const now = await current(secretId);
      expect(now.AccessKeyId).not.toBe(first.AccessKeyId);
      expect(await keys(user)).toEqual({ [first.AccessKeyId]: 'Inactive', [now.AccessKeyId]: 'Active' });
    });
  }

  it('a crash right after the key was created (before the vault stored it) is reported clearly on the next run', async (context) => {
    if (moto === undefined) return context.skip(skipReason);
    const { user, secretId, first, runbook } = await setup();
    const clock = new FakeClock(Date.now());
    const process = new FakeProcess();
    await engineFor(runbook, clock, process, { on: 'upstream', method: 'create' }).rotate();
    clock.advance(runbook.lockTtlMs + 1);
    const again = await engineFor(runbook, clock).rotate();
    expect(again.error?.message).toContain('two active access keys');
    expect((await current(secretId)).AccessKeyId).toBe(first.AccessKeyId);
    expect((await keys(user))[first.AccessKeyId]).toBe('Active');
  });
});
