/** Where the rotated secret lives. */
export type StoreConfig =
  | { type: 'aws-secrets-manager'; secretId: string; region?: string }
  | {
      type: 'vault-kv2';
      mount: string;
      path: string;
      statePath?: string;
      /** Server address; VAULT_ADDR when absent. */
      address?: string;
      namespace?: string;
    };

/** How the single-user and alternating-users strategies differ is the core of the engine's safety rules. */
export type Strategy = 'single-user' | 'alternating-users';

export type TlsMode = 'require' | 'verify-full' | 'disable';

export interface PostgresUpstreamConfig {
  type: 'postgres';
  strategy: Strategy;
  /** A secret in the same store with the admin login (same JSON layout); the secret's `masterarn` when absent. */
  adminSecretId?: string;
  tls: TlsMode;
  /** Suffix of the second login for alternating users. Default `_clone`. */
  cloneSuffix: string;
  passwordLength: number;
  excludeCharacters: string;
}

/** User scripts for any other upstream; values reach them on stdin, never in argv or the environment. */
export interface CommandUpstreamConfig {
  type: 'command';
  /**
   * single-user: `set` changes the credential consumers use; alternating-users: `set` changes a standby
   * one; independent: a new credential lives beside the old one until it is revoked (API keys).
   */
  strategy: Strategy | 'independent';
  create: string[];
  set?: string[];
  test: string[];
  revoke?: string[];
  timeoutMs: number;
}

/** An IAM user's access key; the runner's own AWS credentials make the IAM calls. */
export interface AwsIamUpstreamConfig {
  type: 'aws-iam-access-key';
  userName: string;
}

export type UpstreamConfig = PostgresUpstreamConfig | CommandUpstreamConfig | AwsIamUpstreamConfig;

export interface ValidationConfig {
  /** Wait before the first test, for a new credential to propagate. */
  waitMs: number;
  attempts: number;
  intervalMs: number;
  /** A custom probe run with the new credential (SQL for postgres), beyond logging in. */
  probe?: string;
}

export interface NotifyConfig {
  /** POSTed a JSON event (no values) after each promotion. */
  webhook?: string;
  /** `OWNER/REPO`: a repository_dispatch event is sent there with GITHUB_TOKEN after each promotion. */
  repositoryDispatch?: { repository: string; eventType: string };
}

/** One secret's rotation, as validated from a runbook file. */
export interface Runbook {
  name: string;
  store: StoreConfig;
  upstream: UpstreamConfig;
  validation: ValidationConfig;
  /** Time between promotion and revocation of the previous value. */
  gracePeriodMs: number;
  /** When set, a run rotates only when the current value is at least this old. */
  rotateEveryMs?: number;
  lockTtlMs: number;
  /** A pending version older than this is reported as stale (and still resumed, never dropped). */
  staleAfterMs: number;
  notify?: NotifyConfig;
  /** Where the runbook was defined. */
  source: { file: string; line: number };
}
