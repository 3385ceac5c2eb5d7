import {
  createHttpSend,
  type HttpResponse,
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
import type { TokenClaims } from '../github/claims.js';

type Env = Readonly<Record<string, string | undefined>>;

/** Where and as whom to log in to Vault or OpenBao with a GitHub ID token. */
export interface VaultJwtLoginParams {
  /** The server, e.g. https://vault.example.com:8200. */
  url: string;
  /** The JWT auth method's mount path; `jwt` by default. */
  mount?: string;
  /** The JWT auth role; the mount's default role when absent. */
  role?: string;
  jwt: SecretValue;
  /** Vault Enterprise / OpenBao namespace, sent as X-Vault-Namespace. */
  namespace?: string;
  /** The token's claims, quoted in the hint when the role refuses them. */
  claims?: TokenClaims;
}

export interface VaultLoginOptions {
  env: Env;
  onSecret: OnSecret;
  send?: HttpSend;
  retry?: Partial<RetryOptions>;
}

/** A Vault client token, kept in memory only, with what is safe to report about it. */
export interface VaultToken {
  token: SecretValue;
  policies: string[];
  leaseDurationSeconds: number;
}

class VaultHttpError extends Error {
  override name = 'VaultHttpError';
  constructor(
    readonly status: number,
    readonly errors: string[],
  ) {
    super(errors.length > 0 ? errors.join('; ') : `HTTP ${status}`);
  }
}

/** Vault's `{"errors": [...]}` list from a failed response. */
export function vaultErrors(response: HttpResponse): string[] {
  const body = parseJsonBody(response);
  const errors =
    typeof body === 'object' && body !== null ? (body as Record<string, unknown>)['errors'] : undefined;
  return Array.isArray(errors) ? errors.filter((item): item is string => typeof item === 'string') : [];
}

// Vault answers 412 while a new token has not reached a performance standby yet.
function isRetryableVaultError(error: unknown): boolean {
  if (error instanceof HttpTransportError) return true;
  return error instanceof VaultHttpError && (isRetryableHttpStatus(error.status) || error.status === 412);
}

/** Joins a server URL and an API path without doubling or losing slashes. */
export function vaultUrl(base: string, apiPath: string): URL {
  const url = new URL(base);
  url.pathname = `${url.pathname.replace(/\/+$/, '')}/v1/${apiPath.replace(/^\/+/, '')}`;
  return url;
}

function hintFor(error: VaultHttpError, params: VaultJwtLoginParams, mount: string): string | undefined {
  const text = error.errors.join(' ').toLowerCase();
  const role = params.role ?? '(the default role)';
  const aud = params.claims?.aud;
  const sub = params.claims?.sub;
  if (text.includes('audience') || text.includes('aud claim')) {
    return (
      `The token's audience "${Array.isArray(aud) ? aud.join(',') : (aud ?? '?')}" is not in bound_audiences of role ` +
      `${role}: set jwtGithubAudience to one of them, or add it to the role.`
    );
  }
  if (
    text.includes('could not be found') ||
    text.includes('role not found') ||
    text.includes('missing role')
  ) {
    return `There is no role ${role} on auth/${mount}: check the \`role\` input, or create the role.`;
  }
  // Vault and OpenBao answer "permission denied" (403) for a login path where nothing is mounted.
  if (text.includes('no handler for route') || [403, 404, 405].includes(error.status)) {
    return `No JWT auth method is mounted at auth/${mount}: set \`path\` to its mount path, or enable it (bao auth enable jwt).`;
  }
  if (text.includes('claim') || text.includes('subject') || text.includes('bound')) {
    return (
      `The token's claims do not satisfy role ${role} (bound_subject / bound_claims). This token has ` +
      `sub "${sub ?? '?'}", repository "${params.claims?.repository ?? '?'}", ref "${params.claims?.ref ?? '?'}".`
    );
  }
  if (text.includes('issuer') || text.includes('signature') || text.includes('verify')) {
    return `auth/${mount}/config must trust GitHub's issuer: oidc_discovery_url=${params.claims?.iss ?? 'https://token.actions.githubusercontent.com'}.`;
  }
  return undefined;
}

/** Logs in with the JWT auth method (POST auth/MOUNT/login) and returns the client token, masked first. */
export async function vaultJwtLogin(
  params: VaultJwtLoginParams,
  options: VaultLoginOptions,
): Promise<VaultToken> {
  const mount = (params.mount ?? 'jwt').replace(/^\/+|\/+$/g, '') || 'jwt';
  let url: URL;
  try {
    url = vaultUrl(params.url, `auth/${mount}/login`);
  } catch (cause) {
    throw new KeyfenceError(
      IdentityErrorCode.VAULT_LOGIN_FAILED,
      `The Vault url "${params.url}" is not a URL.`,
      { cause },
    );
  }
  const send = options.send ?? createHttpSend(options.env);
  const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json' };
  if (params.namespace) headers['x-vault-namespace'] = params.namespace;
  const body = JSON.stringify({ jwt: params.jwt.reveal(), ...(params.role ? { role: params.role } : {}) });
  let response: HttpResponse;
  try {
    response = await retry(
      async () => {
        const answer = await send({ url, method: 'POST', headers, body, timeoutMs: 20_000 });
        if (answer.status !== 200) throw new VaultHttpError(answer.status, vaultErrors(answer));
        return answer;
      },
      {
        retries: 4,
        baseDelayMs: 250,
        maxDelayMs: 5_000,
        timeoutMs: 60_000,
        ...options.retry,
        isRetryable: isRetryableVaultError,
      },
    );
  } catch (cause) {
    const hint = cause instanceof VaultHttpError ? hintFor(cause, params, mount) : undefined;
    // Vault does not echo the JWT, but an error is printed, so make sure of it.
    const reason = (cause instanceof Error ? cause.message : String(cause)).replaceAll(
      params.jwt.reveal(),
      '[REDACTED]',
    );
    throw new KeyfenceError(
      IdentityErrorCode.VAULT_LOGIN_FAILED,
      `Vault refused the JWT login at auth/${mount} as role ${params.role ?? '(default)'}: ${reason}`,
      hint === undefined ? { cause } : { cause, hint },
    );
  }
  const auth = (parseJsonBody(response) as { auth?: Record<string, unknown> } | undefined)?.auth;
  const clientToken = auth?.['client_token'];
  if (typeof clientToken !== 'string' || clientToken === '') {
    throw new KeyfenceError(
      IdentityErrorCode.VAULT_LOGIN_FAILED,
      'Vault answered the login without a client token.',
    );
  }
  const token = new SecretValue(clientToken);
  options.onSecret(token);
  const policies = auth?.['policies'];
  const lease = auth?.['lease_duration'];
  return {
    token,
    policies: Array.isArray(policies)
      ? policies.filter((item): item is string => typeof item === 'string')
      : [],
    leaseDurationSeconds: typeof lease === 'number' ? lease : 0,
  };
}
