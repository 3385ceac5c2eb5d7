import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startMoto } from '../services/moto.js';
import { startOrSkip } from '../services/require.js';
import { ACTION_FETCH, assertBuilt, findLeaks, listFiles, runPost, runStep } from '../support/action.js';
import { type AwsRecorder, startAwsRecorder } from '../support/aws-recorder.js';
import { createSecrets, iamPatternMatches, seedClient } from '../support/aws-seed.js';
import { startConnectProxy } from '../support/connect-proxy.js';
import { type OidcIssuer, startOidcIssuer } from '../support/oidc.js';
import { randomString } from '../support/secrets.js';

const ROLE = 'arn:aws:iam::123456789012:role/keyfence-ci';
const moto = await startOrSkip('moto', startMoto);

describe.skipIf(!moto.ok)('action-fetch with AWS (moto)', () => {
  let recorder: AwsRecorder;
  let issuer: OidcIssuer;
  const values: Record<string, string> = {};
  let arns: Record<string, string> = {};
  const batchNames = Array.from(
    { length: 45 },
    (_, index) => `ci/batch/s${String(index + 1).padStart(2, '0')}`,
  );
  const manyNames = Array.from(
    { length: 150 },
    (_, index) => `ci/many/app-${String(index + 1).padStart(3, '0')}`,
  );
  const json = {
    username: `user-${randomString(10)}`,
    password: randomString(28),
    config: { db: { host: `db-${randomString(12)}.internal`, port: 5432 } },
  };
  const blankAliasJson = { api_key: randomString(32) };
  const multiline = Array.from({ length: 4 }, () => randomString(48)).join('\n');
  const binaryText = `bin-${randomString(30)}`;

  beforeAll(async () => {
    assertBuilt();
    if (!moto.ok) return;
    recorder = await startAwsRecorder(moto.service.endpoint);
    issuer = await startOidcIssuer();
    for (const name of [...batchNames, ...manyNames]) values[name] = randomString(32);
    values['ci/many-extra'] = randomString(32);
    values['ci/json/app'] = JSON.stringify(json);
    values['ci/json/blank'] = JSON.stringify(blankAliasJson);
    values['ci/multiline/cert'] = multiline;
    values['ci/arn/token'] = randomString(40);
    arns = await createSecrets(seedClient(moto.service.endpoint), {
      ...values,
      'ci/binary/blob': new TextEncoder().encode(binaryText),
    });
  }, 120_000);

  afterAll(async () => {
    await recorder?.stop();
    await issuer?.stop();
    if (moto.ok) await moto.service.stop();
  });

  beforeEach(() => recorder.reset());

  /** The env of a job with `permissions: id-token: write`, AWS pointed at moto through the recorder, no static keys. */
  function oidcEnv(extra: Record<string, string> = {}): Record<string, string> {
    return {
      ...issuer.env(),
      AWS_ENDPOINT_URL: recorder.endpoint,
      AWS_EC2_METADATA_DISABLED: 'true',
      ...extra,
    };
  }

  /** The env after an earlier configure-aws-credentials step: static keys in the environment. */
  function ambientEnv(extra: Record<string, string> = {}): Record<string, string> {
    return {
      AWS_ENDPOINT_URL: recorder.endpoint,
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'from-an-earlier-step',
      AWS_SECRET_ACCESS_KEY: 'from-an-earlier-step',
      AWS_EC2_METADATA_DISABLED: 'true',
      ...extra,
    };
  }

  function pick(names: readonly string[]): Record<string, string> {
    return Object.fromEntries(names.map((name) => [name, values[name] ?? '']));
  }

  it('assumes the role with the OIDC token and reads 45 secrets in three BatchGetSecretValue calls', async () => {
    const run = await runStep(ACTION_FETCH.main, {
      inputs: {
        'role-to-assume': ROLE,
        'aws-region': 'us-east-1',
        'role-session-name': 'deploy #42 (main)',
        'secret-ids': batchNames.join('\n'),
        destination: 'env, outputs',
      },
      env: oidcEnv(),
    });
    expect(run.stdout).not.toContain('::error::');
    expect(run.code).toBe(0);

    expect(issuer.requests.at(-1)).toEqual({ audience: 'sts.amazonaws.com', status: 200 });
    expect(run.stdout).toContain('sub=repo:octo-org/octo-repo:ref:refs/heads/main');
    const sts = recorder.calls.filter((call) => call.action === 'AssumeRoleWithWebIdentity');
    expect(sts).toHaveLength(1);
    expect(sts[0]?.params).toMatchObject({
      RoleArn: ROLE,
      RoleSessionName: 'deploy_42_main_',
      DurationSeconds: '3600',
    });

    // Least privilege: the session may read these 45 secrets; 45 exact ARNs exceed 2048 characters, so
    // the policy is widened to common prefixes, and says so.
    const policy = JSON.parse(String(sts[0]?.params['Policy'])) as {
      Statement: Array<{ Action: unknown; Resource: unknown }>;
    };
    expect(JSON.stringify(policy).length).toBeLessThanOrEqual(2048);
    const resources = policy.Statement[0]?.Resource as string[];
    for (const name of batchNames)
      expect(resources.some((pattern) => iamPatternMatches(pattern, arns[name] ?? ''))).toBe(true);
    expect(resources.some((pattern) => iamPatternMatches(pattern, arns['ci/json/app'] ?? ''))).toBe(false);
    expect(run.stdout).toContain('::notice::The session policy was widened');

    const batches = recorder.calls.filter((call) => call.action === 'BatchGetSecretValue');
    expect(
      batches.map((call) => (call.params['SecretIdList'] as string[]).length).sort((a, b) => a - b),
    ).toEqual([5, 20, 20]);
    expect(recorder.count('GetSecretValue')).toBe(0);

    for (const name of batchNames) {
      const envName = name.toUpperCase().replaceAll('/', '_');
      expect(run.env[envName]).toBe(values[name]);
      expect(run.outputs[envName]).toBe(values[name]);
    }
    expect(Object.keys(run.env)).toHaveLength(45);
    expect(run.summary).toContain('`CI_BATCH_S01`');
    expect(run.summary).toContain('ci/batch/s45');
    expect(run.summary).toContain('assumed-role/keyfence-ci/deploy_42_main_');

    const token = String(sts[0]?.params['WebIdentityToken']);
    expect(
      findLeaks(run, { ...pick(batchNames), 'the ID token': token }, { env: true, outputs: true }),
    ).toEqual([]);
  });

  it('expands a prefix of 150 secrets across ListSecrets pages, then reads them 20 at a time', async () => {
    const run = await runStep(ACTION_FETCH.main, {
      inputs: { 'secret-ids': 'ci/many/*' },
      env: ambientEnv(),
    });
    expect(run.stdout).not.toContain('::error::');
    expect(run.code).toBe(0);
    expect(recorder.count('ListSecrets')).toBeGreaterThanOrEqual(2);
    const batches = recorder.calls.filter((call) => call.action === 'BatchGetSecretValue');
    expect(batches).toHaveLength(8);
    expect(batches.every((call) => (call.params['SecretIdList'] as string[]).length <= 20)).toBe(true);
    expect(Object.keys(run.env)).toHaveLength(150);
    expect(run.env['CI_MANY_APP_150']).toBe(values['ci/many/app-150']);
    expect(run.env['CI_MANY_EXTRA']).toBeUndefined();
    expect(findLeaks(run, pick(manyNames), { env: true })).toEqual([]);
    // Start-up: from spawning the bundle to its first request.
    console.log(
      `action-fetch: first AWS request ${recorder.calls[0]?.at} ms after the recorder reset (spawn)`,
    );
    expect(recorder.calls[0]?.at ?? Number.POSITIVE_INFINITY).toBeLessThan(2_000);
  });

  it('parses JSON (nested keys joined by _), multi-line, ARN and binary secrets into env and 0600 files; the post step cleans up', async () => {
    const run = await runStep(ACTION_FETCH.main, {
      inputs: {
        'role-to-assume': ROLE,
        'aws-region': 'us-east-1',
        'parse-json-secrets': 'true',
        'secret-ids': [
          'ci/json/app',
          ',ci/json/blank',
          'TLS_BUNDLE, ci/multiline/cert',
          arns['ci/arn/token'],
          'BIN,ci/binary/blob',
        ].join('\n'),
        destination: 'env,file',
      },
      env: oidcEnv(),
    });
    expect(run.stdout).not.toContain('::error::');
    expect(run.code).toBe(0);
    const expected: Record<string, string> = {
      CI_JSON_APP_USERNAME: json.username,
      CI_JSON_APP_PASSWORD: json.password,
      CI_JSON_APP_CONFIG_DB_HOST: json.config.db.host,
      CI_JSON_APP_CONFIG_DB_PORT: '5432',
      API_KEY: blankAliasJson.api_key,
      TLS_BUNDLE: multiline,
      CI_ARN_TOKEN: values['ci/arn/token'] ?? '',
      BIN: binaryText,
    };
    expect(run.env).toEqual(expected);
    const dir = run.outputs['secrets-dir'] ?? '';
    expect(dir.startsWith(run.files.runnerTemp)).toBe(true);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    for (const [name, value] of Object.entries(expected)) {
      const path = join(dir, name);
      expect(statSync(path).mode & 0o777).toBe(0o600);
      expect(readFileSync(path, 'utf8')).toBe(value);
    }
    const secrets = { ...expected, 'the whole JSON': values['ci/json/app'] ?? '' };
    delete (secrets as Record<string, string>)['CI_JSON_APP_CONFIG_DB_PORT'];
    expect(findLeaks(run, secrets, { env: true, filesDir: dir })).toEqual([]);

    const post = await runPost(run);
    expect(post.code).toBe(0);
    expect(post.env).toEqual(Object.fromEntries(Object.keys(expected).map((name) => [name, ''])));
    expect(listFiles(run.files.runnerTemp)).toEqual([]);
    expect(findLeaks({ ...post, stdout: `${post.stdout}\n${run.stdout}` }, {}, {})).toEqual([]);
    expect(`${post.stdout}${post.stderr}`).not.toContain(json.password);
  });

  it('fails with a clear error naming every missing secret, and exports nothing', async () => {
    const run = await runStep(ACTION_FETCH.main, {
      inputs: {
        'secret-ids': 'ci/batch/s01\nci/does-not-exist\nALIAS,ci/also-missing',
        destination: 'env,outputs,file',
      },
      env: ambientEnv(),
    });
    expect(run.code).toBe(1);
    const error = run.stdout.split('\n').find((line) => line.startsWith('::error::')) ?? '';
    expect(error).toContain('ci/does-not-exist');
    expect(error).toContain('ci/also-missing');
    expect(error).toContain('nothing was exported');
    expect(run.env).toEqual({});
    expect(run.outputs).toEqual({});
    expect(listFiles(run.files.runnerTemp)).toEqual([]);
    expect(findLeaks(run, pick(['ci/batch/s01']))).toEqual([]);
  });

  it('refuses a name collision, naming both sources, and exports nothing', async () => {
    const run = await runStep(ACTION_FETCH.main, {
      inputs: { 'secret-ids': 'DB_PASSWORD,ci/batch/s01\nDB_PASSWORD,ci/batch/s02' },
      env: ambientEnv(),
    });
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(
      /::error::.*DB_PASSWORD would be set by both aws-secrets-manager "ci\/batch\/s01" and aws-secrets-manager "ci\/batch\/s02"/,
    );
    expect(run.env).toEqual({});
    expect(findLeaks(run, pick(['ci/batch/s01', 'ci/batch/s02']))).toEqual([]);
  });

  it('without id-token permission fails before any cloud call, naming `permissions: id-token: write`', async () => {
    const requestsBefore = issuer.requests.length;
    const run = await runStep(ACTION_FETCH.main, {
      inputs: { 'role-to-assume': ROLE, 'aws-region': 'us-east-1', 'secret-ids': 'ci/batch/s01' },
      env: { AWS_ENDPOINT_URL: recorder.endpoint },
    });
    expect(run.code).toBe(1);
    expect(run.stdout).toContain('permissions: id-token: write');
    expect(run.stdout).toContain('forks');
    expect(recorder.calls).toEqual([]);
    expect(issuer.requests.length).toBe(requestsBefore);
  });

  it('hands out the role credentials only when asked, masked; the post step clears them', async () => {
    const run = await runStep(ACTION_FETCH.main, {
      inputs: {
        'role-to-assume': ROLE,
        'aws-region': 'eu-west-1',
        'export-credentials': 'true',
        'output-credentials': 'true',
      },
      env: oidcEnv(),
    });
    expect(run.stdout).not.toContain('::error::');
    expect(run.code).toBe(0);
    // No secrets were asked for, so no session policy narrows these credentials.
    expect(
      recorder.calls.find((call) => call.action === 'AssumeRoleWithWebIdentity')?.params['Policy'],
    ).toBeUndefined();
    const credentials = {
      'access key id': run.outputs['aws-access-key-id'] ?? '',
      'secret access key': run.outputs['aws-secret-access-key'] ?? '',
      'session token': run.outputs['aws-session-token'] ?? '',
    };
    expect(Object.values(credentials).every((value) => value.length >= 16)).toBe(true);
    expect(run.env).toEqual({
      AWS_ACCESS_KEY_ID: credentials['access key id'],
      AWS_SECRET_ACCESS_KEY: credentials['secret access key'],
      AWS_SESSION_TOKEN: credentials['session token'],
      AWS_REGION: 'eu-west-1',
      AWS_DEFAULT_REGION: 'eu-west-1',
    });
    expect(run.outputs['aws-expiration']).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect(findLeaks(run, credentials, { env: true, outputs: true })).toEqual([]);

    const post = await runPost(run);
    expect(post.env['AWS_SESSION_TOKEN']).toBe('');
    expect(post.env['AWS_ACCESS_KEY_ID']).toBe('');

    const quiet = await runStep(ACTION_FETCH.main, {
      inputs: { 'role-to-assume': ROLE, 'aws-region': 'eu-west-1' },
      env: oidcEnv(),
    });
    expect(quiet.code).toBe(0);
    expect(quiet.env).toEqual({});
    expect(quiet.outputs).toEqual({});
  });

  it('chains from the credentials in the environment with AssumeRole, passing managed session policies', async () => {
    const requestsBefore = issuer.requests.length;
    const run = await runStep(ACTION_FETCH.main, {
      inputs: {
        'role-to-assume': ROLE,
        'role-chaining': 'true',
        'role-duration-seconds': '900',
        'managed-session-policies':
          'arn:aws:iam::aws:policy/ReadOnlyAccess\narn:aws:iam::123456789012:policy/extra',
        'secret-ids': 'ci/batch/s03',
      },
      env: ambientEnv(),
    });
    expect(run.stdout).not.toContain('::error::');
    expect(run.code).toBe(0);
    expect(issuer.requests.length).toBe(requestsBefore);
    expect(recorder.count('AssumeRoleWithWebIdentity')).toBe(0);
    const chained = recorder.calls.find((call) => call.action === 'AssumeRole');
    expect(chained?.params).toMatchObject({
      RoleArn: ROLE,
      DurationSeconds: '900',
      'PolicyArns.member.1.arn': 'arn:aws:iam::aws:policy/ReadOnlyAccess',
      'PolicyArns.member.2.arn': 'arn:aws:iam::123456789012:policy/extra',
    });
    expect(String(chained?.params['Policy'])).toContain('secret:ci/batch/s03-??????');
    expect(run.env['CI_BATCH_S03']).toBe(values['ci/batch/s03']);
  });

  it('retries IDPCommunicationError from STS, and stops at once on AccessDenied with a trust-policy hint', async () => {
    recorder.fail({
      action: 'AssumeRoleWithWebIdentity',
      times: 2,
      status: 400,
      code: 'IDPCommunicationError',
      message: 'Couldn&apos;t retrieve verification key from your identity provider',
    });
    const retried = await runStep(ACTION_FETCH.main, {
      inputs: { 'role-to-assume': ROLE, 'aws-region': 'us-east-1', 'secret-ids': 'ci/batch/s07' },
      env: oidcEnv(),
    });
    expect(retried.stdout).not.toContain('::error::');
    expect(retried.code).toBe(0);
    expect(recorder.count('AssumeRoleWithWebIdentity')).toBe(3);
    expect(retried.env['CI_BATCH_S07']).toBe(values['ci/batch/s07']);

    recorder.reset();
    recorder.fail({
      action: 'AssumeRoleWithWebIdentity',
      times: 5,
      status: 403,
      code: 'AccessDenied',
      message: 'Not authorized to perform sts:AssumeRoleWithWebIdentity',
    });
    const denied = await runStep(ACTION_FETCH.main, {
      inputs: { 'role-to-assume': ROLE, 'aws-region': 'us-east-1', 'secret-ids': 'ci/batch/s07' },
      env: oidcEnv(),
    });
    expect(denied.code).toBe(1);
    expect(recorder.count('AssumeRoleWithWebIdentity')).toBe(1);
    expect(denied.stdout).toContain('trust policy');
    expect(denied.stdout).toContain('repo:octo-org/octo-repo:ref:refs/heads/main');
    expect(recorder.count('BatchGetSecretValue')).toBe(0);
  });

  it('falls back to GetSecretValue when the role may not call BatchGetSecretValue', async () => {
    recorder.fail({
      action: 'BatchGetSecretValue',
      times: 1,
      status: 400,
      code: 'AccessDeniedException',
      message: 'denied',
    });
    const names = batchNames.slice(0, 5);
    const run = await runStep(ACTION_FETCH.main, {
      inputs: { 'secret-ids': names.join('\n') },
      env: ambientEnv(),
    });
    expect(run.stdout).not.toContain('::error::');
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('::notice::BatchGetSecretValue failed');
    expect(recorder.count('GetSecretValue')).toBe(5);
    expect(run.env['CI_BATCH_S05']).toBe(values['ci/batch/s05']);
    expect(findLeaks(run, pick(names), { env: true })).toEqual([]);
  });

  it('goes through HTTP_PROXY for AWS and straight to hosts NO_PROXY names', async () => {
    const proxy = await startConnectProxy();
    try {
      const issuerHost = new URL(issuer.issuer).host;
      const run = await runStep(ACTION_FETCH.main, {
        inputs: { 'role-to-assume': ROLE, 'aws-region': 'us-east-1', 'secret-ids': 'ci/batch/s09' },
        env: oidcEnv({ HTTP_PROXY: proxy.url, NO_PROXY: `example.invalid,${issuerHost}` }),
      });
      expect(run.stdout).not.toContain('::error::');
      expect(run.code).toBe(0);
      expect(run.env['CI_BATCH_S09']).toBe(values['ci/batch/s09']);
      expect(proxy.tunnels).toContain(new URL(recorder.endpoint).host);
      expect(proxy.tunnels).not.toContain(issuerHost);
    } finally {
      await proxy.stop();
    }
  });

  it('rejects invalid inputs before any request, naming each input', async () => {
    const run = await runStep(ACTION_FETCH.main, {
      inputs: {
        'role-to-assume': ROLE,
        'aws-region': 'us-east-1',
        'parse-json-secrets': 'yes',
        'role-duration-seconds': '60',
        'secret-ids': 'ok/name\nbad name with spaces\nab*',
      },
      env: oidcEnv(),
    });
    expect(run.code).toBe(1);
    expect(run.stdout).toContain('parse-json-secrets');
    expect(run.stdout).toContain('role-duration-seconds');
    expect(recorder.calls).toEqual([]);
    const ids = await runStep(ACTION_FETCH.main, {
      inputs: { 'secret-ids': 'ok/name\nbad name with spaces\nab*' },
      env: ambientEnv(),
    });
    expect(ids.code).toBe(1);
    expect(ids.stdout).toContain('bad name with spaces');
    expect(ids.stdout).toContain('ab*');
    expect(recorder.calls).toEqual([]);
  });
});
