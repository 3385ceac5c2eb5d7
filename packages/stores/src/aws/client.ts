import {
  type BatchGetSecretValueCommand,
  type BatchGetSecretValueCommandOutput,
  type GetSecretValueCommand,
  type GetSecretValueCommandOutput,
  type ListSecretsCommand,
  type ListSecretsCommandOutput,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { proxyAgentsFromEnv } from '@keyfence/core';
import { NodeHttpHandler } from '@smithy/node-http-handler';

type Env = Readonly<Record<string, string | undefined>>;

/** The part of a Secrets Manager client this package uses; tests hand in fakes at this level. */
export interface SecretsManagerClientLike {
  send(command: ListSecretsCommand): Promise<ListSecretsCommandOutput>;
  send(command: BatchGetSecretValueCommand): Promise<BatchGetSecretValueCommandOutput>;
  send(command: GetSecretValueCommand): Promise<GetSecretValueCommandOutput>;
}

export interface SecretsManagerClientOptions {
  region: string;
  env: Env;
  /** Credentials to sign with (e.g. an assumed role's); the SDK's default chain when absent. */
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
}

/** A Secrets Manager client whose endpoint follows AWS_ENDPOINT_URL(_SECRETS_MANAGER), with proxy support. */
export function createSecretsManagerClient(options: SecretsManagerClientOptions): SecretsManagerClient {
  return new SecretsManagerClient({
    region: options.region,
    // The SDK's own retries (standard mode) cover throttling when many matrix jobs read at once.
    maxAttempts: 5,
    requestHandler: new NodeHttpHandler({
      connectionTimeout: 5_000,
      requestTimeout: 30_000,
      ...proxyAgentsFromEnv(options.env, { keepAlive: true }),
    }),
    ...(options.credentials === undefined ? {} : { credentials: options.credentials }),
  });
}
