import {
  AssumeRoleCommand,
  type AssumeRoleCommandOutput,
  AssumeRoleWithWebIdentityCommand,
  type AssumeRoleWithWebIdentityCommandOutput,
  STSClient,
} from '@aws-sdk/client-sts';
import { KeyfenceError, proxyAgentsFromEnv, type RetryOptions, retry, SecretValue } from '@keyfence/core';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { IdentityErrorCode, type OnSecret } from '../errors.js';
import type { TokenClaims } from '../github/claims.js';
import { explainStsError, isRetryableStsError } from './sts-errors.js';

type Env = Readonly<Record<string, string | undefined>>;

/** Short-lived AWS credentials; every part is masked by the caller's onSecret before it is returned. */
export interface AwsCredentials {
  accessKeyId: SecretValue;
  secretAccessKey: SecretValue;
  sessionToken: SecretValue;
  expiration?: Date;
  /** `arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION`, safe to log. */
  assumedRoleArn?: string;
}

/** The part of an STS client this module uses, so tests can hand in a fake at the SDK-client level. */
export interface StsClientLike {
  send(command: AssumeRoleWithWebIdentityCommand): Promise<AssumeRoleWithWebIdentityCommandOutput>;
  send(command: AssumeRoleCommand): Promise<AssumeRoleCommandOutput>;
}

/** Role, session and policies for one AssumeRole call. */
export interface AssumeRoleParams {
  roleArn: string;
  sessionName: string;
  durationSeconds?: number;
  /** An IAM policy document (JSON) that narrows the session below the role's own permissions. */
  inlineSessionPolicy?: string;
  managedSessionPolicyArns?: readonly string[];
}

/** Client, masking, retry and what the hints may mention. */
export interface StsCallOptions {
  client: StsClientLike;
  onSecret: OnSecret;
  retry?: Partial<RetryOptions>;
  /** The token's claims and audience, quoted in the hint when the trust policy refuses them. */
  claims?: TokenClaims;
  audience?: string;
}

export interface StsClientOptions {
  region: string;
  env: Env;
  /** Credentials that sign the call (role chaining); the SDK's default chain when absent. */
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
}

/** An STS client whose endpoint follows AWS_ENDPOINT_URL(_STS), with proxy support and no SDK-level retries (ours wrap it). */
export function createStsClient(options: StsClientOptions): STSClient {
  return new STSClient({
    region: options.region,
    maxAttempts: 1,
    requestHandler: new NodeHttpHandler({
      connectionTimeout: 5_000,
      requestTimeout: 20_000,
      ...proxyAgentsFromEnv(options.env, { keepAlive: true }),
    }),
    ...(options.credentials === undefined ? {} : { credentials: options.credentials }),
  });
}

/** Default retry policy: jittered backoff on throttling and IdP hiccups, bounded by an overall deadline. */
export const DEFAULT_STS_RETRY: Omit<RetryOptions, 'isRetryable'> = {
  retries: 7,
  baseDelayMs: 300,
  maxDelayMs: 10_000,
  timeoutMs: 120_000,
};

function policyParams(params: AssumeRoleParams) {
  return {
    RoleArn: params.roleArn,
    RoleSessionName: params.sessionName,
    ...(params.durationSeconds === undefined ? {} : { DurationSeconds: params.durationSeconds }),
    ...(params.inlineSessionPolicy === undefined ? {} : { Policy: params.inlineSessionPolicy }),
    ...(params.managedSessionPolicyArns === undefined || params.managedSessionPolicyArns.length === 0
      ? {}
      : { PolicyArns: params.managedSessionPolicyArns.map((arn) => ({ arn })) }),
  };
}

function toCredentials(
  output: AssumeRoleCommandOutput | AssumeRoleWithWebIdentityCommandOutput,
  onSecret: OnSecret,
): AwsCredentials {
  const raw = output.Credentials;
  if (!raw?.AccessKeyId || !raw.SecretAccessKey || !raw.SessionToken) {
    throw new KeyfenceError(IdentityErrorCode.AWS_ASSUME_ROLE_FAILED, 'STS answered without credentials.');
  }
  const credentials: AwsCredentials = {
    accessKeyId: new SecretValue(raw.AccessKeyId),
    secretAccessKey: new SecretValue(raw.SecretAccessKey),
    sessionToken: new SecretValue(raw.SessionToken),
  };
  onSecret(credentials.accessKeyId);
  onSecret(credentials.secretAccessKey);
  onSecret(credentials.sessionToken);
  if (raw.Expiration !== undefined) credentials.expiration = raw.Expiration;
  const arn = output.AssumedRoleUser?.Arn;
  if (arn !== undefined) credentials.assumedRoleArn = arn;
  return credentials;
}

async function callSts<T>(
  call: () => Promise<T>,
  options: StsCallOptions,
  situation: { operation: 'AssumeRoleWithWebIdentity' | 'AssumeRole'; roleArn: string },
): Promise<T> {
  try {
    return await retry(call, { ...DEFAULT_STS_RETRY, ...options.retry, isRetryable: isRetryableStsError });
  } catch (error) {
    throw explainStsError(error, {
      ...situation,
      ...(options.claims === undefined ? {} : { claims: options.claims }),
      ...(options.audience === undefined ? {} : { audience: options.audience }),
    });
  }
}

/** Exchanges a GitHub ID token for role credentials (STS AssumeRoleWithWebIdentity), retrying transient failures. */
export async function assumeRoleWithWebIdentity(
  params: AssumeRoleParams & { webIdentityToken: SecretValue },
  options: StsCallOptions,
): Promise<AwsCredentials> {
  const command = new AssumeRoleWithWebIdentityCommand({
    ...policyParams(params),
    WebIdentityToken: params.webIdentityToken.reveal(),
  });
  const output = await callSts(() => options.client.send(command), options, {
    operation: 'AssumeRoleWithWebIdentity',
    roleArn: params.roleArn,
  });
  return toCredentials(output, options.onSecret);
}

/** Assumes a role with the credentials the client already signs with (role chaining), retrying transient failures. */
export async function assumeRoleWithCurrentCredentials(
  params: AssumeRoleParams,
  options: StsCallOptions,
): Promise<AwsCredentials> {
  const command = new AssumeRoleCommand(policyParams(params));
  const output = await callSts(() => options.client.send(command), options, {
    operation: 'AssumeRole',
    roleArn: params.roleArn,
  });
  return toCredentials(output, options.onSecret);
}
