import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startMoto } from '../services/moto.js';
import { startOpenBao } from '../services/openbao.js';
import { startOrSkip } from '../services/require.js';
import { ACTION_FETCH, assertBuilt, findLeaks, listFiles, runPost, runStep } from '../support/action.js';
import { createSecrets, seedClient } from '../support/aws-seed.js';
import { type OidcIssuer, startOidcIssuer } from '../support/oidc.js';
import { configureOpenBao, VAULT_AUDIENCE, writeKv1, writeKv2 } from '../support/openbao-setup.js';
import { randomString } from '../support/secrets.js';

const bao = await startOrSkip('OpenBao', startOpenBao);
const moto = await startOrSkip('moto', startMoto);

describe.skipIf(!bao.ok || !moto.ok)('action-fetch with Vault (OpenBao JWT auth, KV v2 and v1)', () => {
  let issuer: OidcIssuer;
  const app = {
    password: randomString(30),
    token: `tok-${randomString(36)}`,
    cert: Array.from({ length: 3 }, () => randomString(40)).join('\n'),
    nested: { db: { user: `u${randomString(14)}` } },
  };
  const legacy = { api_key: randomString(34) };
  const awsOnly = randomString(32);

  beforeAll(async () => {
    assertBuilt();
    if (!bao.ok || !moto.ok) return;
    issuer = await startOidcIssuer();
    await configureOpenBao(bao.service, issuer);
    await writeKv2(bao.service, 'ci/app', app);
    await writeKv2(bao.service, 'other/secret', { value: randomString(20) });
    await writeKv1(bao.service, 'ci/legacy', legacy);
    await createSecrets(seedClient(moto.service.endpoint), {
      'ci/aws-only': awsOnly,
      'ci/db-password': randomString(24),
    });
  }, 120_000);

  afterAll(async () => {
    await issuer?.stop();
    if (bao.ok) await bao.service.stop();
    if (moto.ok) await moto.service.stop();
  });

  let vaultUrl = '';
  beforeEach(() => {
    if (bao.ok) vaultUrl = bao.service.url;
  });

  /** AWS as an earlier configure-aws-credentials step leaves it: static keys and a region in the environment. */
  function awsFromEarlierStep(): Record<string, string> {
    return {
      AWS_ENDPOINT_URL: moto.ok ? moto.service.endpoint : '',
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'earlier-step',
      AWS_SECRET_ACCESS_KEY: 'earlier-step',
    };
  }

  function vaultInputs(secrets: string, extra: Record<string, string> = {}): Record<string, string> {
    return { url: vaultUrl, method: 'jwt', role: 'ci', jwtGithubAudience: VAULT_AUDIENCE, secrets, ...extra };
  }

  it("logs in with the GitHub token and reads KV v2 and KV v1 with vault-action's secrets syntax", async () => {
    const run = await runStep(ACTION_FETCH.main, {
      inputs: vaultInputs(
        [
          'secret/data/ci/app password | APP_PASSWORD ;',
          'secret/data/ci/app token ;',
          'secret/data/ci/app cert | TLS_CERT ;',
          'secret/data/ci/app nested.db.user | DB_USER ;',
          'kv1/ci/legacy api_key',
        ].join('\n'),
        { destination: 'env,outputs' },
      ),
      env: issuer.env(),
    });
    expect(run.stdout).not.toContain('::error::');
    expect(run.code).toBe(0);
    expect(issuer.requests.at(-1)).toEqual({ audience: VAULT_AUDIENCE, status: 200 });
    const expected = {
      APP_PASSWORD: app.password,
      TOKEN: app.token,
      TLS_CERT: app.cert,
      DB_USER: app.nested.db.user,
      API_KEY: legacy.api_key,
    };
    expect(run.env).toEqual(expected);
    expect(run.outputs).toEqual(expected);
    expect(run.stdout).toContain('policies: ci-read, default');
    expect(run.summary).toContain('`ci-read`');
    expect(run.summary).toMatch(/vault "secret\/data\/ci\/app password".*\| 1 \|/);
    expect(findLeaks(run, expected, { env: true, outputs: true })).toEqual([]);
  });

  it('reads every key of a path with *, prefixed by the given name', async () => {
    const run = await runStep(ACTION_FETCH.main, {
      inputs: vaultInputs('kv1/ci/legacy * | LEGACY ; secret/data/ci/app password'),
      env: issuer.env(),
    });
    expect(run.code).toBe(0);
    expect(run.env).toEqual({ LEGACY_API_KEY: legacy.api_key, PASSWORD: app.password });
  });

  it('is refused by OpenBao for a token minted for another audience, and exports nothing', async () => {
    const run = await runStep(ACTION_FETCH.main, {
      inputs: vaultInputs('secret/data/ci/app password', {
        jwtGithubAudience: 'https://github.com/octo-org',
      }),
      env: issuer.env(),
    });
    expect(run.code).toBe(1);
    expect(run.stdout).toContain('invalid audience');
    expect(run.stdout).toContain('jwtGithubAudience');
    expect(run.env).toEqual({});
    expect(findLeaks(run, { password: app.password }, { neverRead: true })).toEqual([]);
  });

  it('is refused by a role bound to another subject (a production-only role from a branch job)', async () => {
    const run = await runStep(ACTION_FETCH.main, {
      inputs: vaultInputs('secret/data/ci/app password', { role: 'prod-deploy' }),
      env: issuer.env(),
    });
    expect(run.code).toBe(1);
    expect(run.stdout).toContain('invalid subject');
    expect(run.stdout).toContain('repo:octo-org/octo-repo:ref:refs/heads/main');
    expect(run.env).toEqual({});
  });

  it("names the path and the policy when the role's token may not read it", async () => {
    const run = await runStep(ACTION_FETCH.main, {
      inputs: vaultInputs(
        'secret/data/ci/app password ; secret/data/other/secret value ; secret/ci/app token',
      ),
      env: issuer.env(),
    });
    expect(run.code).toBe(1);
    const error = run.stdout.split('\n').find((line) => line.startsWith('::error::')) ?? '';
    expect(error).toContain('secret/data/other/secret: HTTP 403');
    expect(error).toContain('secret/ci/app: HTTP');
    expect(error).toContain('data/');
    expect(run.env).toEqual({});
  });

  it('fetches from AWS and Vault in one step, into 0600 files that the post step removes', async () => {
    const run = await runStep(ACTION_FETCH.main, {
      inputs: {
        ...vaultInputs('secret/data/ci/app password | APP_PASSWORD'),
        'secret-ids': 'ci/aws-only',
        destination: 'file',
      },
      env: { ...issuer.env(), ...awsFromEarlierStep() },
    });
    expect(run.stdout).not.toContain('::error::');
    expect(run.code).toBe(0);
    expect(run.env).toEqual({});
    const dir = run.outputs['secrets-dir'] ?? '';
    expect(
      listFiles(dir)
        .map((path) => path.slice(dir.length + 1))
        .sort(),
    ).toEqual(['APP_PASSWORD', 'CI_AWS_ONLY']);
    expect(findLeaks(run, { vault: app.password, aws: awsOnly }, { filesDir: dir })).toEqual([]);
    const post = await runPost(run);
    expect(post.code).toBe(0);
    expect(listFiles(run.files.runnerTemp)).toEqual([]);
  });

  it('refuses a name that AWS and Vault would both set, naming both sources', async () => {
    const run = await runStep(ACTION_FETCH.main, {
      inputs: {
        ...vaultInputs('secret/data/ci/app password | DB_PASSWORD'),
        'secret-ids': 'DB_PASSWORD,ci/db-password',
      },
      env: { ...issuer.env(), ...awsFromEarlierStep() },
    });
    expect(run.code).toBe(1);
    expect(run.stdout).toContain(
      'DB_PASSWORD would be set by both aws-secrets-manager "ci/db-password" and vault "secret/data/ci/app password"',
    );
    expect(run.env).toEqual({});
    expect(run.outputs).toEqual({});
  });
});
