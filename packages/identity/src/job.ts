import type { SecretValue } from '@keyfence/core';
import { parseRoleArn } from './aws/role-arn.js';
import { DEFAULT_ROLE_SESSION_NAME, sanitizeRoleSessionName } from './aws/session-name.js';
import {
  type AwsCredentials,
  assumeRoleWithCurrentCredentials,
  assumeRoleWithWebIdentity,
  createStsClient,
  DEFAULT_STS_RETRY,
} from './aws/sts.js';
import type { OnSecret } from './errors.js';
import { describeClaims } from './github/claims.js';
import { assertIdTokenAvailable, requestGitHubIdToken } from './github/id-token.js';
import { type VaultToken, vaultJwtLogin } from './vault/jwt-login.js';

type Env = Readonly<Record<string, string | undefined>>;

/**
 * The identity inputs the keyfence actions share, under configure-aws-credentials' and vault-action's
 * names: `role-to-assume`, `aws-region`, `role-session-name`, `role-duration-seconds`, `audience`,
 * `role-chaining`, `inline-session-policy`, `managed-session-policies`, `retry-max-attempts`; `url`,
 * `method`, `role`, `path`, `jwtGithubAudience`, `namespace`.
 */
export interface AwsRoleInputs {
  roleToAssume?: string;
  region?: string;
  roleSessionName: string;
  roleDurationSeconds: number;
  audience: string;
  roleChaining: boolean;
  inlineSessionPolicy?: string;
  managedSessionPolicies: string[];
  retryMaxAttempts: number;
}

/** Where and as whom to log in to Vault / OpenBao with the job's OIDC token. */
export interface VaultLoginInputs {
  url: string;
  mount: string;
  audience: string;
  role?: string;
  namespace?: string;
}

export interface IdentityInputs {
  aws: AwsRoleInputs;
  vault?: VaultLoginInputs;
  /** Every problem found, each starting with the input's name; empty when all is well. */
  problems: string[];
}

const TRUE = ['true', 'True', 'TRUE'];
const FALSE = ['false', 'False', 'FALSE'];

/** Parses the shared identity inputs (`input` returns '' for an input not given); never throws. */
export function readIdentityInputs(input: (name: string) => string, env: Env): IdentityInputs {
  const problems: string[] = [];
  const integer = (name: string, fallback: number, min: number, max: number): number => {
    const value = input(name);
    if (value === '') return fallback;
    const parsed = Number(value);
    if (!Number.isInteger(parsed) || parsed < min || parsed > max) {
      problems.push(`${name}: "${value}" is not a whole number from ${min} to ${max}`);
      return fallback;
    }
    return parsed;
  };
  const chaining = input('role-chaining');
  if (chaining !== '' && !TRUE.includes(chaining) && !FALSE.includes(chaining)) {
    problems.push(
      `role-chaining: "${chaining}" is not a boolean (true | True | TRUE | false | False | FALSE)`,
    );
  }
  const inlineSessionPolicy = input('inline-session-policy');
  if (inlineSessionPolicy !== '') {
    try {
      JSON.parse(inlineSessionPolicy);
    } catch {
      problems.push('inline-session-policy: not valid JSON');
    }
  }
  const aws: AwsRoleInputs = {
    roleSessionName: sanitizeRoleSessionName(input('role-session-name') || DEFAULT_ROLE_SESSION_NAME),
    roleDurationSeconds: integer('role-duration-seconds', 3600, 900, 43200),
    audience: input('audience') || 'sts.amazonaws.com',
    roleChaining: TRUE.includes(chaining),
    managedSessionPolicies: input('managed-session-policies')
      .split(/\r?\n/)
      .map((line) => line.trim())
      .filter((line) => line !== ''),
    retryMaxAttempts: integer('retry-max-attempts', 8, 1, 20),
  };
  const roleToAssume = input('role-to-assume');
  const region = input('aws-region') || env['AWS_REGION'] || env['AWS_DEFAULT_REGION'] || '';
  if (roleToAssume !== '') aws.roleToAssume = roleToAssume;
  if (region !== '') aws.region = region;
  if (inlineSessionPolicy !== '') aws.inlineSessionPolicy = inlineSessionPolicy;
  if (aws.roleChaining && aws.roleToAssume === undefined)
    problems.push('role-chaining: needs role-to-assume');
  if (aws.roleToAssume !== undefined && aws.region === undefined) {
    problems.push('aws-region: needed to call STS (or set AWS_REGION)');
  }

  const url = input('url');
  if (url === '') return { aws, problems };
  const method = input('method') || 'jwt';
  if (method.toLowerCase() !== 'jwt') {
    problems.push(
      `method: "${method}" is not supported; keyfence logs in to Vault with the GitHub OIDC token (method: jwt)`,
    );
  }
  const vault: VaultLoginInputs = {
    url,
    mount: input('path') || 'jwt',
    // vault-action's default audience, kept so existing bound_audiences still match.
    audience: input('jwtGithubAudience') || 'sigstore',
  };
  const role = input('role');
  const namespace = input('namespace');
  if (role !== '') vault.role = role;
  if (namespace !== '') vault.namespace = namespace;
  return { aws, vault, problems };
}

/** Fails at once, naming `permissions: id-token: write`, when a step that needs the OIDC token cannot get one. */
export function assertIdTokenForInputs(inputs: Omit<IdentityInputs, 'problems'>, env: Env): void {
  if ((inputs.aws.roleToAssume !== undefined && !inputs.aws.roleChaining) || inputs.vault !== undefined) {
    assertIdTokenAvailable(env);
  }
}

/** Masking and logging for the job-level helpers. */
export interface JobIdentityOptions {
  env: Env;
  onSecret: OnSecret;
  /** Receives lines safe to log (claims, the assumed role, the Vault policies). */
  onInfo?: (line: string) => void;
}

/** What assumeJobRole did, for summaries. */
export interface AssumedJobRole {
  credentials: AwsCredentials;
  roleArn: string;
  /** The OIDC token's claims, described; absent with role chaining. */
  claims?: string;
}

/**
 * Assumes `role-to-assume`: with the job's OIDC token (AssumeRoleWithWebIdentity), or with the
 * credentials in the environment when chaining (AssumeRole). Only the inline session policy the
 * caller passes (or the user gave) narrows the session. Every credential is masked before return.
 */
export async function assumeJobRole(
  aws: AwsRoleInputs & { roleToAssume: string; region: string },
  options: JobIdentityOptions,
): Promise<AssumedJobRole> {
  const { env, onSecret } = options;
  const info = options.onInfo ?? (() => {});
  const role = parseRoleArn(aws.roleToAssume);
  const params = {
    roleArn: role.arn,
    sessionName: aws.roleSessionName,
    durationSeconds: aws.roleDurationSeconds,
    ...(aws.inlineSessionPolicy === undefined ? {} : { inlineSessionPolicy: aws.inlineSessionPolicy }),
    managedSessionPolicyArns: aws.managedSessionPolicies,
  };
  const retry = { ...DEFAULT_STS_RETRY, retries: aws.retryMaxAttempts - 1 };
  const client = createStsClient({ region: aws.region, env });
  try {
    let credentials: AwsCredentials;
    let claims: string | undefined;
    if (aws.roleChaining) {
      credentials = await assumeRoleWithCurrentCredentials(params, { client, onSecret, retry });
    } else {
      const token = await requestGitHubIdToken({ audience: aws.audience, env, onSecret });
      claims = describeClaims(token.claims);
      info(`GitHub OIDC token for AWS: ${claims}`);
      credentials = await assumeRoleWithWebIdentity(
        { ...params, webIdentityToken: token.token },
        { client, onSecret, retry, claims: token.claims, audience: aws.audience },
      );
    }
    info(`Assumed ${credentials.assumedRoleArn ?? role.arn}`);
    return { credentials, roleArn: role.arn, ...(claims === undefined ? {} : { claims }) };
  } finally {
    client.destroy();
  }
}

/** The variables the AWS SDK reads, for the assumed role's session. */
export function awsCredentialsEnv(
  credentials: AwsCredentials,
  region: string,
): Array<[string, SecretValue | string]> {
  return [
    ['AWS_ACCESS_KEY_ID', credentials.accessKeyId],
    ['AWS_SECRET_ACCESS_KEY', credentials.secretAccessKey],
    ['AWS_SESSION_TOKEN', credentials.sessionToken],
    ['AWS_REGION', region],
    ['AWS_DEFAULT_REGION', region],
  ];
}

/** Logs in to Vault / OpenBao with the job's OIDC token (JWT auth); the token is masked before return. */
export async function loginToVaultAsJob(
  vault: VaultLoginInputs,
  options: JobIdentityOptions,
): Promise<VaultToken & { claims: string }> {
  const { env, onSecret } = options;
  const info = options.onInfo ?? (() => {});
  const { token: jwt, claims } = await requestGitHubIdToken({ audience: vault.audience, env, onSecret });
  info(`GitHub OIDC token for Vault: ${describeClaims(claims)}`);
  const login = await vaultJwtLogin(
    {
      url: vault.url,
      mount: vault.mount,
      jwt,
      claims,
      ...(vault.role === undefined ? {} : { role: vault.role }),
      ...(vault.namespace === undefined ? {} : { namespace: vault.namespace }),
    },
    { env, onSecret },
  );
  info(`Logged in to ${vault.url} at auth/${vault.mount} (policies: ${login.policies.join(', ') || 'none'})`);
  return { ...login, claims: describeClaims(claims) };
}
