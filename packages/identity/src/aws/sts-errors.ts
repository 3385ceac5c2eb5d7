import { KeyfenceError } from '@keyfence/core';
import { IdentityErrorCode } from '../errors.js';
import type { TokenClaims } from '../github/claims.js';

/** What was being done when STS failed, so the hint can name the role, audience and subject. */
export interface StsFailureSituation {
  operation: 'AssumeRoleWithWebIdentity' | 'AssumeRole';
  roleArn: string;
  claims?: TokenClaims;
  audience?: string;
}

interface AwsErrorShape {
  name: string;
  message: string;
  status: number | undefined;
  code: string | undefined;
}

function shapeOf(error: unknown): AwsErrorShape {
  if (!(error instanceof Error))
    return { name: '', message: String(error), status: undefined, code: undefined };
  const record = error as Error & { $metadata?: { httpStatusCode?: number }; code?: unknown; Code?: unknown };
  const code =
    typeof record.code === 'string' ? record.code : typeof record.Code === 'string' ? record.Code : undefined;
  return {
    // The SDK names modelled errors `FooException` and unmodelled ones by their wire code `Foo`.
    name: error.name.replace(/Exception$/, ''),
    message: error.message,
    status: record.$metadata?.httpStatusCode,
    code,
  };
}

const RETRYABLE_NAMES = new Set([
  'Throttling',
  'ThrottlingException',
  'TooManyRequests',
  'RequestLimitExceeded',
  'IDPCommunicationError',
  'ServiceUnavailable',
  'InternalFailure',
  'InternalError',
  'RequestTimeout',
  'TimeoutError',
]);

const RETRYABLE_NETWORK_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ETIMEDOUT',
  'EPIPE',
  'EAI_AGAIN',
  'ECONNABORTED',
]);

// STS answers InvalidIdentityToken both for tokens that will never pass (no such provider, wrong
// audience) and, under load, for a failed fetch of the provider's keys; only the latter heals.
const TRANSIENT_INVALID_TOKEN =
  /couldn'?t retrieve|could not retrieve|verification key|timed? ?out|temporar/i;

/** True for STS failures worth another try: throttling, IdP communication, transient token checks, 5xx, network. */
export function isRetryableStsError(error: unknown): boolean {
  const { name, message, status, code } = shapeOf(error);
  if (RETRYABLE_NAMES.has(name)) return true;
  if (name === 'InvalidIdentityToken') return TRANSIENT_INVALID_TOKEN.test(message);
  if (code !== undefined && RETRYABLE_NETWORK_CODES.has(code)) return true;
  return status !== undefined && (status === 429 || status >= 500);
}

function audienceOf(situation: StsFailureSituation): string {
  const aud = situation.claims?.aud ?? situation.audience;
  return Array.isArray(aud) ? aud.join(',') : (aud ?? 'sts.amazonaws.com');
}

function issuerHost(situation: StsFailureSituation): string {
  const iss = situation.claims?.iss ?? 'https://token.actions.githubusercontent.com';
  return iss.replace(/^https?:\/\//, '');
}

function hintFor(shape: AwsErrorShape, situation: StsFailureSituation): string | undefined {
  const { name, message } = shape;
  const provider = issuerHost(situation);
  if (situation.operation === 'AssumeRoleWithWebIdentity') {
    if (name === 'AccessDenied' || name === 'IDPRejectedClaim') {
      const sub = situation.claims?.sub ?? '(unknown)';
      return (
        `The trust policy of ${situation.roleArn} must allow sts:AssumeRoleWithWebIdentity for the federated ` +
        `principal of ${provider}, with conditions that match this token: "${provider}:aud" = "${audienceOf(situation)}" ` +
        `and "${provider}:sub" matching "${sub}" (StringLike; the sub changes with the branch, tag, ` +
        'pull request or environment the job runs for).'
      );
    }
    if (name === 'InvalidIdentityToken' && /no openid ?connect provider/i.test(message)) {
      return (
        `Create an IAM OpenID Connect identity provider for https://${provider} with audience ` +
        `"${audienceOf(situation)}" in the role's account (IAM > Identity providers).`
      );
    }
    if (name === 'InvalidIdentityToken' && /audience/i.test(message)) {
      return (
        `The token's audience "${audienceOf(situation)}" is not a client ID of the account's OIDC provider for ` +
        `${provider}: set the \`audience\` input to one that is (default sts.amazonaws.com), or add it to the provider.`
      );
    }
    if (name === 'ExpiredToken') {
      return 'The ID token expired before it reached STS (tokens live a few minutes); re-run the job.';
    }
  }
  if (name === 'AccessDenied' && situation.operation === 'AssumeRole') {
    return (
      `The current credentials must be allowed sts:AssumeRole on ${situation.roleArn}, and that role's trust ` +
      'policy must trust them. Role chaining caps role-duration-seconds at 3600.'
    );
  }
  if (name === 'ValidationError' && /duration/i.test(message)) {
    return "role-duration-seconds must lie between 900 and the role's MaxSessionDuration (3600 unless raised; 3600 at most when chaining).";
  }
  if (name === 'MalformedPolicyDocument') {
    return 'inline-session-policy must be an IAM policy document in JSON; managed-session-policies must be policy ARNs.';
  }
  if (name === 'PackedPolicyTooLarge') {
    return 'The session policies are too large: shorten inline-session-policy or pass fewer managed-session-policies.';
  }
  if (name === 'RegionDisabled') {
    return 'STS is not activated in this region for the account: activate it, or set aws-region to a region where it is.';
  }
  if (name === 'ExpiredToken') {
    return 'The credentials used for role chaining have expired; refresh them in an earlier step.';
  }
  return undefined;
}

/** Turns an STS failure into a user error that says what to fix in the trust policy, provider or inputs. */
export function explainStsError(error: unknown, situation: StsFailureSituation): KeyfenceError {
  if (error instanceof KeyfenceError) return error;
  const shape = shapeOf(error);
  const hint = hintFor(shape, situation);
  const what = shape.name === '' ? shape.message : `${shape.name}: ${shape.message}`;
  return new KeyfenceError(
    IdentityErrorCode.AWS_ASSUME_ROLE_FAILED,
    `Could not assume ${situation.roleArn} (${situation.operation}): ${what}`,
    hint === undefined ? { cause: error } : { cause: error, hint },
  );
}
