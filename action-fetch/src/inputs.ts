import { ErrorCode, KeyfenceError } from '@keyfence/core';
import { DEFAULT_ROLE_SESSION_NAME, sanitizeRoleSessionName } from '@keyfence/identity';
import type { NameTransformation } from '@keyfence/stores';

type Env = Readonly<Record<string, string | undefined>>;

export type Destination = 'env' | 'outputs' | 'file';

/** The AWS half of the inputs: configure-aws-credentials' and aws-secretsmanager-get-secrets' names. */
export interface AwsSettings {
  roleToAssume?: string;
  region?: string;
  roleSessionName: string;
  roleDurationSeconds: number;
  audience: string;
  roleChaining: boolean;
  inlineSessionPolicy?: string;
  managedSessionPolicies: string[];
  leastPrivilege: boolean;
  exportCredentials: boolean;
  outputCredentials: boolean;
  retryMaxAttempts: number;
  secretIds: string[];
  parseJsonSecrets: boolean;
  nameTransformation: NameTransformation;
}

/** The Vault half: vault-action's names (`url`, `method`, `role`, `path`, `secrets`, `jwtGithubAudience`, `namespace`). */
export interface VaultSettings {
  url: string;
  role?: string;
  mount: string;
  audience: string;
  namespace?: string;
  secrets: string;
}

export interface Settings {
  aws: AwsSettings;
  vault?: VaultSettings;
  destinations: ReadonlySet<Destination>;
}

const TRUE = ['true', 'True', 'TRUE'];
const FALSE = ['false', 'False', 'FALSE'];
const DESTINATIONS: readonly Destination[] = ['env', 'outputs', 'file'];
const TRANSFORMATIONS: readonly NameTransformation[] = ['uppercase', 'lowercase', 'none'];

function lines(text: string): string[] {
  return text
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== '');
}

/** Parses the step's inputs once, into typed settings; every problem is reported at once, each naming its input. */
export function readSettings(input: (name: string) => string, env: Env): Settings {
  const problems: string[] = [];
  const boolean = (name: string, fallback: boolean): boolean => {
    const value = input(name);
    if (value === '') return fallback;
    if (TRUE.includes(value)) return true;
    if (FALSE.includes(value)) return false;
    problems.push(`${name}: "${value}" is not a boolean (true | True | TRUE | false | False | FALSE)`);
    return fallback;
  };
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

  const roleToAssume = input('role-to-assume');
  const region = input('aws-region') || env['AWS_REGION'] || env['AWS_DEFAULT_REGION'] || '';
  const rawSessionName = input('role-session-name') || DEFAULT_ROLE_SESSION_NAME;
  const transformation = input('name-transformation') || 'uppercase';
  if (!TRANSFORMATIONS.includes(transformation as NameTransformation)) {
    problems.push(`name-transformation: "${transformation}" is not one of ${TRANSFORMATIONS.join(', ')}`);
  }
  const inlineSessionPolicy = input('inline-session-policy');
  if (inlineSessionPolicy !== '') {
    try {
      JSON.parse(inlineSessionPolicy);
    } catch {
      problems.push('inline-session-policy: not valid JSON');
    }
  }
  const aws: AwsSettings = {
    roleSessionName: sanitizeRoleSessionName(rawSessionName),
    roleDurationSeconds: integer('role-duration-seconds', 3600, 900, 43200),
    audience: input('audience') || 'sts.amazonaws.com',
    roleChaining: boolean('role-chaining', false),
    managedSessionPolicies: lines(input('managed-session-policies')),
    leastPrivilege: boolean('least-privilege', true),
    exportCredentials: boolean('export-credentials', false),
    outputCredentials: boolean('output-credentials', false),
    retryMaxAttempts: integer('retry-max-attempts', 8, 1, 20),
    secretIds: lines(input('secret-ids')),
    parseJsonSecrets: boolean('parse-json-secrets', false),
    nameTransformation: (TRANSFORMATIONS.includes(transformation as NameTransformation)
      ? transformation
      : 'uppercase') as NameTransformation,
  };
  if (roleToAssume !== '') aws.roleToAssume = roleToAssume;
  if (region !== '') aws.region = region;
  if (inlineSessionPolicy !== '') aws.inlineSessionPolicy = inlineSessionPolicy;

  if (aws.roleChaining && aws.roleToAssume === undefined)
    problems.push('role-chaining: needs role-to-assume');
  if ((aws.exportCredentials || aws.outputCredentials) && aws.roleToAssume === undefined) {
    problems.push(
      'export-credentials / output-credentials: there are no credentials to hand out without role-to-assume',
    );
  }
  if (aws.roleToAssume !== undefined && aws.region === undefined) {
    problems.push('aws-region: needed to call STS (or set AWS_REGION)');
  }

  const url = input('url');
  const method = input('method') || 'jwt';
  const vaultSecrets = input('secrets');
  let vault: VaultSettings | undefined;
  if (url !== '') {
    if (method.toLowerCase() !== 'jwt') {
      problems.push(
        `method: "${method}" is not supported; keyfence logs in to Vault with the GitHub OIDC token (method: jwt)`,
      );
    }
    vault = {
      url,
      mount: input('path') || 'jwt',
      // vault-action's default audience, kept so existing bound_audiences still match.
      audience: input('jwtGithubAudience') || 'sigstore',
      secrets: vaultSecrets,
    };
    const role = input('role');
    const namespace = input('namespace');
    if (role !== '') vault.role = role;
    if (namespace !== '') vault.namespace = namespace;
  } else if (vaultSecrets !== '') {
    problems.push('secrets: needs url (the Vault or OpenBao server)');
  }

  const destinations = new Set<Destination>();
  for (const item of (input('destination') || 'env').split(/[\s,]+/).filter((part) => part !== '')) {
    if (DESTINATIONS.includes(item as Destination)) destinations.add(item as Destination);
    else problems.push(`destination: "${item}" is not one of ${DESTINATIONS.join(', ')}`);
  }

  if (aws.roleToAssume === undefined && aws.secretIds.length === 0 && vault === undefined) {
    problems.push('nothing to do: give role-to-assume, secret-ids, or url with secrets');
  }
  if (problems.length > 0) {
    throw new KeyfenceError(ErrorCode.USAGE, `Invalid inputs:\n  - ${problems.join('\n  - ')}`, {
      hint: 'See docs/action-fetch.md for every input and its default.',
    });
  }
  return { aws, ...(vault === undefined ? {} : { vault }), destinations };
}
