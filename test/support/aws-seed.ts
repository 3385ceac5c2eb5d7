import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { motoEnv } from '../services/moto.js';

// The SDK's notice about future Node versions is noise in test output.
process.env['AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'] ??= 'true';

/** A Secrets Manager client for the test itself (seeding), pointed at moto with dummy keys. */
export function seedClient(endpoint: string): SecretsManagerClient {
  const env = motoEnv(endpoint);
  return new SecretsManagerClient({
    endpoint,
    region: env['AWS_REGION'] ?? 'us-east-1',
    credentials: {
      accessKeyId: env['AWS_ACCESS_KEY_ID'] ?? '',
      secretAccessKey: env['AWS_SECRET_ACCESS_KEY'] ?? '',
    },
  });
}

/** Creates secrets (string or binary) and returns their ARNs by name. */
export async function createSecrets(
  client: SecretsManagerClient,
  secrets: Record<string, string | Uint8Array>,
  concurrency = 8,
): Promise<Record<string, string>> {
  const arns: Record<string, string> = {};
  const entries = Object.entries(secrets);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < entries.length) {
      const [name, value] = entries[next++]!;
      const output = await client.send(
        new CreateSecretCommand(
          typeof value === 'string'
            ? { Name: name, SecretString: value }
            : { Name: name, SecretBinary: value },
        ),
      );
      arns[name] = output.ARN ?? '';
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return arns;
}

/** Whether an IAM ARN pattern (`*` any run, `?` one character) matches an ARN. */
export function iamPatternMatches(pattern: string, arn: string): boolean {
  const regex = pattern
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replaceAll('*', '.*')
    .replaceAll('?', '.');
  return new RegExp(`^${regex}$`).test(arn);
}
