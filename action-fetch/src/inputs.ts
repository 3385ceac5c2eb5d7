import { ErrorCode, KeyfenceError } from '@keyfence/core';
import { type AwsRoleInputs, readIdentityInputs, type VaultLoginInputs } from '@keyfence/identity';
import type { NameTransformation } from '@keyfence/stores';

type Env = Readonly<Record<string, string | undefined>>;

export type Destination = 'env' | 'outputs' | 'file';

/** The AWS half of the inputs: configure-aws-credentials' and aws-secretsmanager-get-secrets' names. */
export interface AwsSettings extends AwsRoleInputs {
  leastPrivilege: boolean;
  exportCredentials: boolean;
  outputCredentials: boolean;
  secretIds: string[];
  parseJsonSecrets: boolean;
  nameTransformation: NameTransformation;
}

/** The Vault half: vault-action's names (`url`, `method`, `role`, `path`, `secrets`, `jwtGithubAudience`, `namespace`). */
export interface VaultSettings extends VaultLoginInputs {
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

  // The identity inputs are shared with action-rotate: parsed, and checked, in @keyfence/identity.
  const identity = readIdentityInputs(input, env);
  problems.push(...identity.problems);
  const transformation = input('name-transformation') || 'uppercase';
  if (!TRANSFORMATIONS.includes(transformation as NameTransformation)) {
    problems.push(`name-transformation: "${transformation}" is not one of ${TRANSFORMATIONS.join(', ')}`);
  }
  const aws: AwsSettings = {
    ...identity.aws,
    leastPrivilege: boolean('least-privilege', true),
    exportCredentials: boolean('export-credentials', false),
    outputCredentials: boolean('output-credentials', false),
    secretIds: lines(input('secret-ids')),
    parseJsonSecrets: boolean('parse-json-secrets', false),
    nameTransformation: (TRANSFORMATIONS.includes(transformation as NameTransformation)
      ? transformation
      : 'uppercase') as NameTransformation,
  };
  if ((aws.exportCredentials || aws.outputCredentials) && aws.roleToAssume === undefined) {
    problems.push(
      'export-credentials / output-credentials: there are no credentials to hand out without role-to-assume',
    );
  }

  const vaultSecrets = input('secrets');
  let vault: VaultSettings | undefined;
  if (identity.vault !== undefined) {
    vault = { ...identity.vault, secrets: vaultSecrets };
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
