import { KeyfenceError } from '@keyfence/core';
import {
  type AwsCredentials,
  assertIdTokenForInputs,
  assumeJobRole,
  awsCredentialsEnv,
  loginToVaultAsJob,
  parseRoleArn,
} from '@keyfence/identity';
import {
  checkNames,
  createSecretsManagerClient,
  fetchSecretsManagerSecrets,
  type NamedSecret,
  nameAwsSecrets,
  parseSecretIds,
  parseVaultSecrets,
  readVaultSecrets,
  type SecretsManagerRequest,
  type SessionPolicy,
  StoreErrorCode,
  secretsReadSessionPolicy,
} from '@keyfence/stores';
import { deliver } from './destinations.js';
import { readSettings, type Settings } from './inputs.js';
import type { Runner } from './runner.js';
import { STATE_EXPORTED_ENV } from './state.js';
import { type IdentitySummary, renderSummary } from './summary.js';

type Env = Readonly<Record<string, string | undefined>>;

/** The side effects of one run: the runner and the environment the step sees. */
export interface FetchDeps {
  runner: Runner;
  env: Env;
}

/** Names the exported AWS credentials take; a secret may not take one of them too. */
const CREDENTIAL_ENV_NAMES = [
  'AWS_ACCESS_KEY_ID',
  'AWS_SECRET_ACCESS_KEY',
  'AWS_SESSION_TOKEN',
  'AWS_REGION',
  'AWS_DEFAULT_REGION',
];

interface Closable {
  destroy(): void;
}

async function assumeAwsRole(
  settings: Settings,
  requests: readonly SecretsManagerRequest[],
  deps: FetchDeps,
  identity: IdentitySummary,
): Promise<AwsCredentials | undefined> {
  const { aws } = settings;
  if (aws.roleToAssume === undefined || aws.region === undefined) return undefined;
  const { runner, env } = deps;
  const role = parseRoleArn(aws.roleToAssume);
  let policy: SessionPolicy | undefined;
  let inlineSessionPolicy = aws.inlineSessionPolicy;
  if (inlineSessionPolicy === undefined && aws.leastPrivilege && requests.length > 0) {
    policy = secretsReadSessionPolicy(requests, {
      partition: role.partition,
      accountId: role.accountId,
      region: aws.region,
    });
    inlineSessionPolicy = policy.document;
    if (policy.widened) {
      runner.notice(
        `The session policy was widened to fit AWS's 2048-character limit; it allows GetSecretValue on: ${policy.resources.join(', ')}`,
      );
    }
  }
  identity.aws = {
    roleArn: role.arn,
    sessionName: aws.roleSessionName,
    sessionPolicy:
      policy !== undefined
        ? `least privilege: ${policy.resources.length} secret pattern(s)${policy.widened ? ', widened to fit' : ''}`
        : inlineSessionPolicy !== undefined
          ? 'inline-session-policy'
          : "none (the role's own permissions)",
  };
  const assumed = await assumeJobRole(
    {
      ...aws,
      roleToAssume: role.arn,
      region: aws.region,
      ...(inlineSessionPolicy === undefined ? {} : { inlineSessionPolicy }),
    },
    { env, onSecret: runner.mask, onInfo: runner.info },
  );
  const { credentials } = assumed;
  if (assumed.claims !== undefined) identity.awsClaims = assumed.claims;
  if (credentials.assumedRoleArn !== undefined) identity.aws.assumedRoleArn = credentials.assumedRoleArn;
  return credentials;
}

function plainCredentials(credentials: AwsCredentials | undefined) {
  return credentials === undefined
    ? undefined
    : {
        accessKeyId: credentials.accessKeyId.reveal(),
        secretAccessKey: credentials.secretAccessKey.reveal(),
        sessionToken: credentials.sessionToken.reveal(),
      };
}

async function fetchFromVault(
  settings: Settings,
  deps: FetchDeps,
  identity: IdentitySummary,
): Promise<NamedSecret[]> {
  const { vault } = settings;
  if (vault === undefined) return [];
  const { runner, env } = deps;
  const requests = parseVaultSecrets(vault.secrets);
  const login = await loginToVaultAsJob(vault, { env, onSecret: runner.mask, onInfo: runner.info });
  identity.vault = {
    url: vault.url,
    mount: vault.mount,
    role: vault.role ?? '(default)',
    policies: login.policies,
    claims: login.claims,
  };
  return readVaultSecrets(requests, {
    url: vault.url,
    token: login.token,
    env,
    onSecret: runner.mask,
    ...(vault.namespace === undefined ? {} : { namespace: vault.namespace }),
  });
}

function assertNoCredentialNameClash(secrets: readonly NamedSecret[], settings: Settings): void {
  if (!settings.aws.exportCredentials || !settings.destinations.has('env')) return;
  const clash = secrets.find((secret) => CREDENTIAL_ENV_NAMES.includes(secret.name.toUpperCase()));
  if (clash === undefined) return;
  throw new KeyfenceError(
    StoreErrorCode.SECRET_NAME_COLLISION,
    `${clash.name} would be set by both export-credentials (the assumed role's credentials) and ${clash.origin.store} "${clash.origin.requested}"; nothing was exported.`,
    {
      hint: 'Give the secret another name (an alias in secret-ids, `| NAME` in secrets), or drop export-credentials.',
    },
  );
}

function exportCredentials(credentials: AwsCredentials, settings: Settings, runner: Runner): void {
  const pairs = awsCredentialsEnv(credentials, settings.aws.region ?? '');
  if (settings.aws.exportCredentials) {
    for (const [name, value] of pairs) {
      runner.exportVariable(name, typeof value === 'string' ? value : value.reveal());
    }
  }
  if (settings.aws.outputCredentials) {
    runner.setOutput('aws-access-key-id', credentials.accessKeyId.reveal());
    runner.setOutput('aws-secret-access-key', credentials.secretAccessKey.reveal());
    runner.setOutput('aws-session-token', credentials.sessionToken.reveal());
    if (credentials.expiration !== undefined)
      runner.setOutput('aws-expiration', credentials.expiration.toISOString());
  }
}

/** Reads the inputs, obtains identities, fetches every secret, and only then hands them out; throws on any failure. */
export async function fetchSecrets(deps: FetchDeps): Promise<void> {
  const { runner, env } = deps;
  const settings = readSettings(runner.input, env);
  // Parse everything the user wrote before the first network call, so a typo costs no round trip.
  const awsRequests = parseSecretIds(settings.aws.secretIds);
  if (settings.vault !== undefined) parseVaultSecrets(settings.vault.secrets);
  assertIdTokenForInputs(settings, env);

  const identity: IdentitySummary = {};
  const closables: Closable[] = [];
  try {
    const named: NamedSecret[] = [];
    const credentials = await assumeAwsRole(settings, awsRequests, deps, identity);
    if (awsRequests.length > 0) {
      const fetched = await fetchSecretsManagerSecrets(awsRequests, {
        clientFor: (region) => {
          const plain = plainCredentials(credentials);
          const client = createSecretsManagerClient({
            region,
            env,
            ...(plain === undefined ? {} : { credentials: plain }),
          });
          closables.push(client);
          return client;
        },
        ...(settings.aws.region === undefined ? {} : { region: settings.aws.region }),
        onSecret: runner.mask,
        onNotice: runner.notice,
      });
      named.push(
        ...nameAwsSecrets(fetched, {
          parseJson: settings.aws.parseJsonSecrets,
          transformation: settings.aws.nameTransformation,
          onSecret: runner.mask,
        }),
      );
    }
    named.push(...(await fetchFromVault(settings, deps, identity)));

    const secrets = checkNames(named);
    assertNoCredentialNameClash(secrets, settings);
    // The post step learns what to clear before anything is exported, so a failure half-way still gets cleaned.
    const envNames = [
      ...(settings.destinations.has('env') ? secrets.map((secret) => secret.name) : []),
      ...(credentials !== undefined && settings.aws.exportCredentials ? CREDENTIAL_ENV_NAMES : []),
    ];
    if (envNames.length > 0) runner.saveState(STATE_EXPORTED_ENV, JSON.stringify(envNames));
    const delivered = deliver(secrets, settings.destinations, runner, env);
    if (credentials !== undefined) exportCredentials(credentials, settings, runner);
    runner.info(
      `Fetched ${secrets.length} value(s) into ${[...settings.destinations].join(', ')}: ${secrets.map((secret) => secret.name).join(', ')}`,
    );
    runner.appendSummary(renderSummary(secrets, settings, identity, delivered));
  } finally {
    for (const closable of closables) closable.destroy();
  }
}
