import { IAMClient } from '@aws-sdk/client-iam';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { KeyfenceError, SecretValue } from '@keyfence/core';
import {
  AwsRotationVault,
  createSecretsManagerClient,
  Kv2RotationVault,
  type RotationVault,
} from '@keyfence/stores';
import { RotationErrorCode } from './errors.js';
import type { Runbook } from './runbook/types.js';
import { AwsIamAccessKeyUpstream } from './upstream/aws-iam.js';
import { CommandUpstream } from './upstream/command.js';
import { PostgresUpstream } from './upstream/postgres.js';
import type { Upstream } from './upstream/types.js';

type Env = Readonly<Record<string, string | undefined>>;

/** The vault and upstream one runbook rotates. */
export interface RotationTarget {
  vault: RotationVault;
  upstream: Upstream;
}

function missing(what: string, hint: string): KeyfenceError {
  return new KeyfenceError(RotationErrorCode.STORE_CONFIG_MISSING, `${what} is not set.`, { hint });
}

/** Builds the real vault and upstream for a runbook; endpoints and credentials come from the environment. */
export function createRotationTarget(
  runbook: Runbook,
  env: Env,
  onSecret?: (value: SecretValue) => void,
): RotationTarget {
  const store = runbook.store;
  let vault: RotationVault;
  let readSecret: (id: string) => Promise<SecretValue>;
  if (store.type === 'aws-secrets-manager') {
    const region = store.region ?? env['AWS_REGION'] ?? env['AWS_DEFAULT_REGION'];
    if (!region) throw missing('The AWS region', 'Set store.region in the runbook, or AWS_REGION.');
    const client = createSecretsManagerClient({ region, env });
    vault = new AwsRotationVault(client, store.secretId);
    readSecret = (id) => new AwsRotationVault(client, id).readCurrent();
  } else {
    const address = store.address ?? env['VAULT_ADDR'];
    if (!address) throw missing('The Vault address', 'Set store.address in the runbook, or VAULT_ADDR.');
    const tokenText = env['VAULT_TOKEN'];
    if (!tokenText)
      throw missing(
        'VAULT_TOKEN',
        'Log in first and export VAULT_TOKEN (keyfence action-fetch, or vault-action with exportToken).',
      );
    const token = new SecretValue(tokenText);
    const namespace = store.namespace ?? env['VAULT_NAMESPACE'];
    const base = { address, token, mount: store.mount, env, ...(namespace ? { namespace } : {}) };
    vault = new Kv2RotationVault({
      ...base,
      path: store.path,
      ...(store.statePath === undefined ? {} : { statePath: store.statePath }),
    });
    readSecret = (id) => new Kv2RotationVault({ ...base, path: id }).readCurrent();
  }
  // Values read for the upstream (the admin login) are registered for masking like the rotated one.
  const readSecretRaw = readSecret;
  readSecret = async (id) => {
    const value = await readSecretRaw(id);
    onSecret?.(value);
    return value;
  };
  const config = runbook.upstream;
  let upstream: Upstream;
  if (config.type === 'postgres') {
    upstream = new PostgresUpstream({
      config,
      readSecret,
      ...(runbook.validation.probe === undefined ? {} : { probe: runbook.validation.probe }),
    });
  } else if (config.type === 'aws-iam-access-key') {
    // IAM is global; its calls are signed for us-east-1 unless the environment says otherwise.
    const region = env['AWS_REGION'] ?? env['AWS_DEFAULT_REGION'] ?? 'us-east-1';
    upstream = new AwsIamAccessKeyUpstream({
      config,
      iam: new IAMClient({ region }),
      callerIdentity: async (credentials) => {
        const sts = new STSClient({ region, credentials, maxAttempts: 1 });
        try {
          const answer = await sts.send(new GetCallerIdentityCommand({}));
          return answer.Arn === undefined ? {} : { arn: answer.Arn };
        } finally {
          sts.destroy();
        }
      },
    });
  } else {
    upstream = new CommandUpstream(config, env);
  }
  return { vault, upstream };
}
