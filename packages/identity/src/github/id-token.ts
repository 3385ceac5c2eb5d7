import {
  createHttpSend,
  type HttpSend,
  HttpTransportError,
  isRetryableHttpStatus,
  KeyfenceError,
  parseJsonBody,
  type RetryOptions,
  retry,
  SecretValue,
} from '@keyfence/core';
import { IdentityErrorCode, type OnSecret } from '../errors.js';
import { readTokenClaims, type TokenClaims } from './claims.js';

type Env = Readonly<Record<string, string | undefined>>;

/** What requestGitHubIdToken needs; only env and onSecret are required. */
export interface IdTokenOptions {
  /** The `aud` claim to ask for; GitHub's default audience when absent. */
  audience?: string;
  /** Where ACTIONS_ID_TOKEN_REQUEST_URL / _TOKEN and the proxy variables are read. */
  env: Env;
  /** Receives the token before this function returns, so it is masked before anything can print it. */
  onSecret: OnSecret;
  send?: HttpSend;
  retry?: Partial<RetryOptions>;
}

/** A GitHub Actions ID token and its readable claims. */
export interface GitHubIdToken {
  token: SecretValue;
  claims: TokenClaims;
}

class TokenEndpointError extends Error {
  override name = 'TokenEndpointError';
  constructor(readonly status: number) {
    super(`the ID token endpoint answered HTTP ${status}`);
  }
}

const MISSING_PERMISSION_HINT =
  'Give the job `permissions: id-token: write` (at the workflow or the job level; a `permissions:` block ' +
  'that omits it takes it away). Workflows triggered by pull requests from forks never receive an ID ' +
  'token: skip this step for forks, or run it from a trusted event.';

/** True for failures of the token endpoint worth another try: no response, 408, 429, 5xx. */
export function isRetryableTokenRequestError(error: unknown): boolean {
  if (error instanceof HttpTransportError) return true;
  return error instanceof TokenEndpointError && isRetryableHttpStatus(error.status);
}

/** Fails at once, naming the missing permission, when the runner offers no ID token (before any cloud call). */
export function assertIdTokenAvailable(env: Env): { url: string; bearer: SecretValue } {
  const url = env['ACTIONS_ID_TOKEN_REQUEST_URL'];
  const bearer = env['ACTIONS_ID_TOKEN_REQUEST_TOKEN'];
  if (!url || !bearer) {
    throw new KeyfenceError(
      IdentityErrorCode.ID_TOKEN_UNAVAILABLE,
      'This job cannot request a GitHub OIDC token: ACTIONS_ID_TOKEN_REQUEST_URL and ACTIONS_ID_TOKEN_REQUEST_TOKEN are not set.',
      { hint: MISSING_PERMISSION_HINT },
    );
  }
  return { url, bearer: new SecretValue(bearer) };
}

/** Requests an ID token from the runner for the given audience, the way the toolkit's getIDToken does. */
export async function requestGitHubIdToken(options: IdTokenOptions): Promise<GitHubIdToken> {
  const { url, bearer } = assertIdTokenAvailable(options.env);
  options.onSecret(bearer);
  let endpoint: URL;
  try {
    endpoint = new URL(url);
  } catch (cause) {
    throw new KeyfenceError(
      IdentityErrorCode.ID_TOKEN_REQUEST_FAILED,
      'ACTIONS_ID_TOKEN_REQUEST_URL is not a URL.',
      {
        cause,
      },
    );
  }
  if (options.audience !== undefined && options.audience !== '') {
    endpoint.searchParams.set('audience', options.audience);
  }
  const send = options.send ?? createHttpSend(options.env);
  let body: unknown;
  try {
    body = await retry(
      async () => {
        const response = await send({
          url: endpoint,
          headers: { authorization: `Bearer ${bearer.reveal()}`, accept: 'application/json' },
          timeoutMs: 15_000,
        });
        if (response.status !== 200) throw new TokenEndpointError(response.status);
        return parseJsonBody(response);
      },
      {
        retries: 4,
        baseDelayMs: 250,
        maxDelayMs: 5_000,
        timeoutMs: 60_000,
        ...options.retry,
        isRetryable: isRetryableTokenRequestError,
      },
    );
  } catch (cause) {
    const denied = cause instanceof TokenEndpointError && (cause.status === 401 || cause.status === 403);
    throw new KeyfenceError(
      IdentityErrorCode.ID_TOKEN_REQUEST_FAILED,
      `Could not get a GitHub OIDC token: ${cause instanceof Error ? cause.message : String(cause)}.`,
      denied ? { cause, hint: MISSING_PERMISSION_HINT } : { cause },
    );
  }
  const value =
    typeof body === 'object' && body !== null ? (body as Record<string, unknown>)['value'] : undefined;
  if (typeof value !== 'string' || value === '') {
    throw new KeyfenceError(
      IdentityErrorCode.ID_TOKEN_REQUEST_FAILED,
      'The ID token endpoint answered without a token (no "value" in its JSON).',
    );
  }
  const token = new SecretValue(value);
  options.onSecret(token);
  return { token, claims: readTokenClaims(token) };
}
