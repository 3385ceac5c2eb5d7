import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import {
  CreateSecretCommand,
  GetSecretValueCommand,
  ListSecretVersionIdsCommand,
  type SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { addMaskCommands } from '@keyfence/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { type MotoServer, motoEnv, startMoto } from '../services/moto.js';
import { type Started, startOrSkip } from '../services/require.js';
import { findLeaks, newStep, runStep, type StepFiles, type StepRun } from '../support/action.js';
import { type OidcIssuer, startOidcIssuer } from '../support/oidc.js';
import {
  canLogIn,
  DatabaseFixture,
  type DbSecret,
  motoSecretsClient,
  startPostgres,
} from '../support/rotation.js';
import { parseCommands } from '../support/runner.js';

const ACTION_ROTATE = resolve(import.meta.dirname, '../../action-rotate/dist/index.js');
const AUDIT_FILE_NAME = 'keyfence-rotate-audit.jsonl';
const ROLE = 'arn:aws:iam::123456789012:role/keyfence-rotation';

beforeAll(() => {
  if (!existsSync(ACTION_ROTATE)) throw new Error(`${ACTION_ROTATE} is missing: run \`npm run build\` first`);
});

/** The smallest runbook of the rotation issue, one per entry, under the test's own secret names. */
function writeRunbooks(
  files: StepFiles,
  entries: { name: string; secretId: string; adminId: string }[],
): string {
  const body = entries
    .map(
      (entry) => `  - name: ${entry.name}
    store: { type: aws-secrets-manager, secret-id: ${entry.secretId} }
    upstream: { type: postgres, strategy: single-user, admin-secret-id: ${entry.adminId} }
`,
    )
    .join('');
  writeFileSync(join(files.dir, 'rotation.yaml'), `runbooks:\n${body}`);
  return 'rotation.yaml';
}

/** Runs the built action as a step whose workspace is the step folder (where the runbook file is). */
function rotate(files: StepFiles, inputs: Record<string, string>, env: Record<string, string> = {}) {
  return runStep(ACTION_ROTATE, { files, inputs, env: { GITHUB_WORKSPACE: files.dir, ...env } });
}

function errors(run: StepRun) {
  return parseCommands(run.stdout).filter((command) => command.command === 'error');
}

/** A stack trace's frames, wherever they were printed. */
function stackFrames(run: StepRun): string[] {
  return `${run.stdout}\n${run.stderr}`.split('\n').filter((line) => /^\s+at .+[(:]/.test(line));
}

describe('action-rotate: inputs and the runbook file', () => {
  it('fails with exit 1 and an error naming the input when dry-run is not a YAML 1.2 boolean', async () => {
    const files = newStep();
    const runbooks = writeRunbooks(files, [{ name: 'orders-db', secretId: 'prod/orders/db', adminId: 'x' }]);
    const run = await rotate(files, { runbooks, 'dry-run': 'yes' });
    expect(run.code).toBe(1);
    expect(errors(run)).toHaveLength(1);
    expect(errors(run)[0]?.message).toContain('input "dry-run" must be a YAML 1.2 boolean');
    expect(errors(run)[0]?.message).toContain('(got "yes")');
    expect(stackFrames(run)).toEqual([]);
    expect(run.stderr).toBe('');
    expect(run.outputs).toEqual({});
  });

  it('fails with exit 1 and an error naming file:line:column and field for a runbook with a typo, without a stack', async () => {
    const files = newStep();
    writeFileSync(
      join(files.dir, 'rotation.yaml'),
      'runbooks:\n  - name: orders-db\n    store: { type: aws-secrets-manager, secret-id: prod/orders/db }\n' +
        '    upstream: { type: postgres, strategy: single-user, admin-secert-id: prod/orders/db-admin }\n',
    );
    const run = await rotate(files, { runbooks: 'rotation.yaml' });
    expect(run.code).toBe(1);
    expect(errors(run)).toHaveLength(1);
    const message = errors(run)[0]?.message ?? '';
    // Named as the workflow names it (relative to the workspace), with line, column and field.
    expect(message).toContain(
      'rotation.yaml:4:56: runbooks[0].upstream.admin-secert-id: unknown field "admin-secert-id" (did you mean "admin-secret-id"?)',
    );
    expect(message).toContain('Hint: ');
    expect(stackFrames(run)).toEqual([]);
    expect(run.stderr).toBe('');
    expect(existsSync(join(files.runnerTemp, AUDIT_FILE_NAME))).toBe(false);
  });

  it('refuses dry-run together with rollback, naming both inputs', async () => {
    const files = newStep();
    const runbooks = writeRunbooks(files, [{ name: 'orders-db', secretId: 'prod/orders/db', adminId: 'x' }]);
    const run = await rotate(files, { runbooks, 'dry-run': 'true', rollback: 'True' });
    expect(run.code).toBe(1);
    expect(errors(run)[0]?.message).toContain('inputs "dry-run" and "rollback" do not go together');
  });

  it('fails with exit 1 naming the input when the runbook file does not exist', async () => {
    const files = newStep();
    const run = await rotate(files, { runbooks: '.github/rotation.yaml' });
    expect(run.code).toBe(1);
    expect(errors(run)[0]?.message).toContain(
      'input "runbooks" names .github/rotation.yaml, which does not exist',
    );
    expect(stackFrames(run)).toEqual([]);
  });
});

describe('action-rotate: the documented workflow', () => {
  const root = resolve(import.meta.dirname, '../..');
  const example = readFileSync(join(root, 'docs/examples/keyfence-rotate.yml'), 'utf8');

  interface Step {
    uses?: string;
    if?: string;
    with?: Record<string, unknown>;
  }

  function declaredInputs(action: string): string[] {
    const meta = parse(readFileSync(join(root, action, 'action.yml'), 'utf8')) as { inputs: object };
    return Object.keys(meta.inputs);
  }

  it('is the example file, word for word, on the action page', () => {
    const page = readFileSync(join(root, 'docs/action-rotate.md'), 'utf8');
    const block = /## A workflow that works when pasted[\s\S]*?```yaml\n([\s\S]*?)```/.exec(page)?.[1];
    // The file's own leading comment lines are the only difference.
    expect(block).toBe(example.replace(/^#.*\n/gm, ''));
  });

  it('runs on a schedule and by hand, in a concurrency group, the action logging in with OIDC itself, and an audit upload', () => {
    const workflow = parse(example) as {
      on: Record<string, unknown>;
      permissions: Record<string, string>;
      concurrency: { group: string; 'cancel-in-progress': boolean };
      jobs: Record<string, { steps: Step[] }>;
    };
    expect(Object.keys(workflow.on)).toEqual(['schedule', 'workflow_dispatch']);
    expect(workflow.permissions['id-token']).toBe('write');
    expect(workflow.concurrency).toMatchObject({ group: expect.any(String), 'cancel-in-progress': false });
    const steps = Object.values(workflow.jobs)[0]?.steps ?? [];
    const uses = steps.map((step) => step.uses?.replace(/@.*/, ''));
    expect(uses).toEqual(['actions/checkout', 'keyfence/keyfence/action-rotate', 'actions/upload-artifact']);
    const [, rotate, upload] = steps as [Step, Step, Step];
    expect(rotate.with?.['role-to-assume']).toMatch(/^arn:aws:iam::\d{12}:role\//);
    expect(rotate.with?.['aws-region']).toBeTruthy();
    expect(
      Object.keys(rotate.with ?? {}).filter((name) => !declaredInputs('action-rotate').includes(name)),
    ).toEqual([]);
    expect(rotate.with?.['runbooks']).toBeTruthy();
    expect(upload.if).toBe('always()');
    expect(String(upload.with?.['path'])).toContain('keyfence-rotate-audit.jsonl');
  });
});

// Started once for the file; under CI=true a service that cannot start fails the file instead of
// skipping. One after the other, so that a failure leaves no service running behind it.
const postgres = await startOrSkip('PostgreSQL', startPostgres);
const moto: Started<MotoServer> = postgres.ok
  ? await startOrSkip('moto', startMoto)
  : { ok: false, reason: 'PostgreSQL did not start' };

describe.skipIf(!postgres.ok || !moto.ok)(
  'action-rotate against PostgreSQL and Secrets Manager (moto)',
  () => {
    let sm: SecretsManagerClient;
    const fixtures: DatabaseFixture[] = [];
    let counter = 0;
    let issuer: OidcIssuer;

    beforeAll(async () => {
      if (moto.ok) sm = motoSecretsClient(moto.service.endpoint);
      issuer = await startOidcIssuer();
    });

    afterAll(async () => {
      for (const fixture of fixtures) await fixture.cleanup();
      sm?.destroy();
      await issuer?.stop();
    });

    /** A database with an application login and an admin login, their secrets in moto in AWS's layout. */
    async function seed() {
      if (!postgres.ok) throw new Error(postgres.reason);
      const fixture = await DatabaseFixture.create(postgres.service, 'act');
      fixtures.push(fixture);
      counter += 1;
      const secretId = `prod/action-${counter}/db`;
      const adminId = `prod/action-${counter}/db-admin`;
      await sm.send(
        new CreateSecretCommand({ Name: adminId, SecretString: JSON.stringify(fixture.adminSecret()) }),
      );
      await sm.send(
        new CreateSecretCommand({ Name: secretId, SecretString: JSON.stringify(fixture.appSecret()) }),
      );
      return { fixture, secretId, adminId };
    }

    async function current(secretId: string): Promise<DbSecret> {
      const answer = await sm.send(
        new GetSecretValueCommand({ SecretId: secretId, VersionStage: 'AWSCURRENT' }),
      );
      return JSON.parse(answer.SecretString ?? '{}') as DbSecret;
    }

    async function versions(secretId: string) {
      const answer = await sm.send(
        new ListSecretVersionIdsCommand({ SecretId: secretId, IncludeDeprecated: true }),
      );
      return (answer.Versions ?? [])
        .map((version) => ({ id: version.VersionId, stages: [...(version.VersionStages ?? [])].sort() }))
        .sort((a, b) => String(a.id).localeCompare(String(b.id)));
    }

    /** What an earlier OIDC step (configure-aws-credentials, or action-fetch with export-credentials) leaves in the job. */
    function awsEnv(): Record<string, string> {
      if (!moto.ok) throw new Error(moto.reason);
      return motoEnv(moto.service.endpoint);
    }

    it('rotates the smallest runbook: a new password that logs in, the old one dead, counts, summary, audit file, no value anywhere', async () => {
      const { fixture, secretId, adminId } = await seed();
      const files = newStep();
      const runbooks = writeRunbooks(files, [{ name: 'orders-db', secretId, adminId }]);

      const run = await rotate(files, { runbooks }, awsEnv());

      expect(run.code, run.stdout).toBe(0);
      const rotated = await current(secretId);
      expect(rotated.password).not.toBe(fixture.appPassword);
      expect(rotated.username).toBe(fixture.app);
      expect(await canLogIn(rotated)).toBe(true);
      // Single user: ALTER ROLE on the same login, so the old password no longer logs in.
      expect(await canLogIn(fixture.appSecret())).toBe(false);
      expect(
        (await versions(secretId)).find((version) => version.stages.includes('AWSPREVIOUS')),
      ).toBeDefined();

      const auditFile = join(files.runnerTemp, AUDIT_FILE_NAME);
      expect(run.outputs).toEqual({ rotated: '1', failed: '0', skipped: '0', 'audit-file': auditFile });

      expect(run.summary).toContain('### keyfence rotate: 1 rotated, 0 skipped, 0 failed');
      expect(run.summary).toContain('| Runbook | Outcome | Versions | Time | Details |');
      expect(run.summary).toMatch(/^\| orders-db \| rotated \| current \S+, previous \S+ \|/m);

      const records = readFileSync(auditFile, 'utf8')
        .trimEnd()
        .split('\n')
        .map((line) => JSON.parse(line) as { runbook: string; step: string; outcome: string; run: string });
      expect(records.every((record) => record.runbook === 'orders-db')).toBe(true);
      expect(new Set(records.map((record) => record.run)).size).toBe(1);
      for (const step of ['create', 'set', 'test', 'promote'])
        expect(
          records.some((record) => record.step === step && record.outcome === 'ok'),
          step,
        ).toBe(true);

      // Masking comes first: every ::add-mask:: line precedes every other line of the log.
      const lines = run.stdout.split('\n').filter((line) => line !== '');
      const firstOther = lines.findIndex((line) => !line.startsWith('::add-mask::'));
      expect(firstOther).toBeGreaterThan(0);
      // The one exception: the admin login's secret, read when the upstream first connects, is
      // masked then, before anything prints it.
      const adminMasks = new Set(addMaskCommands(JSON.stringify(fixture.adminSecret())));
      const lateMasks = lines.slice(firstOther).filter((line) => line.startsWith('::add-mask::'));
      expect(lateMasks.filter((line) => !adminMasks.has(line))).toEqual([]);
      expect(run.stdout).toContain(`::add-mask::${fixture.adminPassword}`);
      expect(run.stdout).toContain('✔ orders-db: rotated');

      // Neither password is anywhere but in ::add-mask:: lines (stdout, stderr, summary, outputs, state,
      // every file under RUNNER_TEMP, the audit file among them), and both were masked.
      expect(
        findLeaks(run, { 'the old password': fixture.appPassword, 'the new password': rotated.password }),
      ).toEqual([]);
      expect(findLeaks(run, { 'the admin password': fixture.adminPassword })).toEqual([]);
    });

    /** A job with no AWS credentials at all: only moto's endpoint, and the ID token when `idToken`. */
    function oidcEnv(idToken: boolean): Record<string, string> {
      if (!moto.ok) throw new Error(moto.reason);
      return {
        ...(idToken ? issuer.env() : {}),
        AWS_ENDPOINT_URL: moto.service.endpoint,
        AWS_EC2_METADATA_DISABLED: 'true',
      };
    }

    /** The session moto's STS handed out under this session name (moto keeps every assumed role). */
    async function assumedSession(sessionName: string) {
      if (!moto.ok) throw new Error(moto.reason);
      const data = (await (await fetch(`${moto.service.endpoint}/moto-api/data.json`)).json()) as {
        sts?: {
          AssumedRole?: Array<{
            session_name: string;
            access_key_id: string;
            secret_access_key: string;
            session_token: string;
          }>;
        };
      };
      return (data.sts?.AssumedRole ?? []).filter((role) => role.session_name === sessionName);
    }

    it('with role-to-assume: assumes the role with the OIDC token and rotates with its credentials, masked and nowhere else', async () => {
      const { fixture, secretId, adminId } = await seed();
      const files = newStep();
      const runbooks = writeRunbooks(files, [{ name: 'orders-db', secretId, adminId }]);
      const sessionName = `keyfence-rotate-${counter}-${Date.now()}`;

      const run = await rotate(
        files,
        { runbooks, 'role-to-assume': ROLE, 'aws-region': 'us-east-1', 'role-session-name': sessionName },
        oidcEnv(true),
      );

      expect(run.code, run.stdout).toBe(0);
      expect(issuer.requests.at(-1)).toEqual({ audience: 'sts.amazonaws.com', status: 200 });
      expect(run.stdout).toContain('GitHub OIDC token for AWS: ');
      expect(run.stdout).toContain(
        `Assumed arn:aws:sts::123456789012:assumed-role/keyfence-rotation/${sessionName}`,
      );
      const rotated = await current(secretId);
      expect(rotated.password).not.toBe(fixture.appPassword);
      expect(await canLogIn(rotated)).toBe(true);
      expect(run.outputs).toMatchObject({ rotated: '1', failed: '0', skipped: '0' });

      const sessions = await assumedSession(sessionName);
      expect(sessions).toHaveLength(1);
      const [session] = sessions as [(typeof sessions)[0]];
      // No session policy by default: rotation writes.
      expect(JSON.stringify(sessions)).not.toContain('"policy":"');
      // Nothing handed to later steps: the credentials are this step's only.
      expect(run.env).toEqual({});
      expect(
        findLeaks(run, {
          'the access key id': session.access_key_id,
          'the secret access key': session.secret_access_key,
          'the session token': session.session_token,
          'the old password': fixture.appPassword,
          'the new password': rotated.password,
        }),
      ).toEqual([]);
    });

    it('with role-to-assume but no id-token permission: fails at once naming `permissions: id-token: write`, rotating nothing', async () => {
      const { fixture, secretId, adminId } = await seed();
      const files = newStep();
      const runbooks = writeRunbooks(files, [{ name: 'orders-db', secretId, adminId }]);
      const before = await versions(secretId);
      const requestsBefore = issuer.requests.length;

      const run = await rotate(
        files,
        { runbooks, 'role-to-assume': ROLE, 'aws-region': 'us-east-1' },
        oidcEnv(false),
      );

      expect(run.code).toBe(1);
      expect(errors(run)).toHaveLength(1);
      expect(errors(run)[0]?.message).toContain('permissions: id-token: write');
      expect(stackFrames(run)).toEqual([]);
      expect(run.stderr).toBe('');
      expect(run.outputs).toEqual({});
      expect(issuer.requests.length).toBe(requestsBefore);
      expect(await versions(secretId)).toEqual(before);
      expect((await current(secretId)).password).toBe(fixture.appPassword);
      expect(await canLogIn(fixture.appSecret())).toBe(true);
      expect(existsSync(join(files.runnerTemp, AUDIT_FILE_NAME))).toBe(false);
    });

    it('with dry-run: plans, changes nothing anywhere, writes no audit file', async () => {
      const { fixture, secretId, adminId } = await seed();
      const files = newStep();
      const runbooks = writeRunbooks(files, [{ name: 'orders-db', secretId, adminId }]);
      const before = await versions(secretId);

      const run = await rotate(files, { runbooks, 'dry-run': 'true' }, awsEnv());

      expect(run.code, run.stdout).toBe(0);
      expect(run.outputs).toEqual({ rotated: '0', failed: '0', skipped: '1', 'audit-file': '' });
      expect(run.summary).toContain('### keyfence plan: 0 rotated, 1 skipped, 0 failed');
      expect(run.summary).toContain('| orders-db | planned |');
      expect(await versions(secretId)).toEqual(before);
      expect((await current(secretId)).password).toBe(fixture.appPassword);
      expect(await canLogIn(fixture.appSecret())).toBe(true);
      expect(existsSync(join(files.runnerTemp, AUDIT_FILE_NAME))).toBe(false);
      // A plan reads no value, so there is nothing to mask; nothing may leak all the same.
      expect(findLeaks(run, { 'the password': fixture.appPassword }, { neverRead: true })).toEqual([]);
    });

    it('rotates only the runbooks that `only` names (comma- or newline-separated names and globs), then rolls one back', async () => {
      const seeded = [await seed(), await seed(), await seed()];
      const files = newStep();
      const runbooks = writeRunbooks(
        files,
        seeded.map((entry, index) => ({
          name: `${'abc'[index]}-db`,
          secretId: entry.secretId,
          adminId: entry.adminId,
        })),
      );
      const [a, b, c] = seeded as [(typeof seeded)[0], (typeof seeded)[0], (typeof seeded)[0]];

      const run = await rotate(files, { runbooks, only: 'a-db,\nc-*' }, awsEnv());
      expect(run.code, run.stdout).toBe(0);
      expect(run.outputs).toMatchObject({ rotated: '2', failed: '0', skipped: '0' });
      expect((await current(a.secretId)).password).not.toBe(a.fixture.appPassword);
      expect((await current(b.secretId)).password).toBe(b.fixture.appPassword);
      expect((await current(c.secretId)).password).not.toBe(c.fixture.appPassword);

      // A later run of the workflow: a new step, the same checkout.
      const next = newStep();
      writeFileSync(join(next.dir, runbooks), readFileSync(join(files.dir, runbooks)));
      const back = await rotate(next, { runbooks, only: 'a-db', rollback: 'true' }, awsEnv());
      const rolledBack = await current(a.secretId);
      expect(back.code, back.stdout).toBe(0);
      expect(back.outputs).toMatchObject({ rotated: '1', failed: '0' });
      expect(back.summary).toContain('| a-db | rolled-back |');
      expect(rolledBack.password).toBe(a.fixture.appPassword);
      expect(await canLogIn(rolledBack)).toBe(true);
      // The leak check, on both runs: no password (old, new, admin) outside ::add-mask:: lines; the
      // rollback run reads only a-db's values, so c-db's must not appear there at all.
      const rotatedC = (await current(c.secretId)).password;
      const cValues = { 'c old password': c.fixture.appPassword, 'c new password': rotatedC };
      const aValues = { 'a old password': a.fixture.appPassword, 'admin password': a.fixture.adminPassword };
      expect(findLeaks(run, { ...aValues, ...cValues })).toEqual([]);
      expect(findLeaks(back, aValues)).toEqual([]);
      expect(findLeaks(back, cValues, { neverRead: true })).toEqual([]);
    });

    it('finishes the other runbooks when one fails, then exits 1 with an error naming it and the hint', async () => {
      const good = await seed();
      const files = newStep();
      const runbooks = writeRunbooks(files, [
        { name: 'missing-db', secretId: 'prod/action-none/db', adminId: good.adminId },
        { name: 'orders-db', secretId: good.secretId, adminId: good.adminId },
      ]);

      const run = await rotate(files, { runbooks }, awsEnv());

      expect(run.code).toBe(1);
      expect(run.outputs).toMatchObject({ rotated: '1', failed: '1', skipped: '0' });
      const rotated = await current(good.secretId);
      expect(await canLogIn(rotated)).toBe(true);
      expect(rotated.password).not.toBe(good.fixture.appPassword);

      const failures = errors(run);
      expect(failures).toHaveLength(1);
      expect(failures[0]?.properties['title']).toBe('keyfence rotate: missing-db failed');
      expect(failures[0]?.message).toMatch(/^missing-db failed: /);
      expect(failures[0]?.message).toContain('\nHint: ');
      expect(stackFrames(run)).toEqual([]);
      expect(run.summary).toContain('| missing-db | failed |');
      expect(run.summary).toContain('| orders-db | rotated |');
      expect(readFileSync(run.outputs['audit-file'] ?? '', 'utf8')).toContain('"runbook":"missing-db"');
      expect(
        findLeaks(run, {
          'the old password': good.fixture.appPassword,
          'the new password': rotated.password,
        }),
      ).toEqual([]);
    });
  },
);

afterAll(async () => {
  if (moto.ok) await moto.service.stop();
});
