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
import { mapLimit } from '../concurrency.js';
import { type OnSecret, StoreErrorCode } from '../errors.js';
import type { NamedSecret, SecretOrigin } from '../types.js';
import { normalizeVaultKeyName, type VaultSecretRequest } from './secrets-syntax.js';

type Env = Readonly<Record<string, string | undefined>>;

export interface VaultReadOptions {
  url: string;
  token: SecretValue;
  namespace?: string;
  env: Env;
  onSecret: OnSecret;
  send?: HttpSend;
  retry?: Partial<RetryOptions>;
  /** Paths read at once. Default 4. */
  concurrency?: number;
}

/** The fields of one Vault secret and its KV v2 version, when it has one. */
export interface VaultSecretData {
  path: string;
  fields: Record<string, unknown>;
  version?: number;
}

class VaultReadError extends Error {
  override name = 'VaultReadError';
  constructor(
    readonly path: string,
    readonly status: number,
    readonly errors: string[],
  ) {
    super(errors.length > 0 ? errors.join('; ') : `HTTP ${status}`);
  }
}

function errorsOf(response: HttpResponse): string[] {
  const body = parseJsonBody(response);
  const errors =
    typeof body === 'object' && body !== null ? (body as Record<string, unknown>)['errors'] : undefined;
  return Array.isArray(errors) ? errors.filter((item): item is string => typeof item === 'string') : [];
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Reads one path: KV v2 answers `{data: {data, metadata}}`, KV v1 and other engines `{data}`. */
export function secretDataFromResponse(path: string, body: unknown): VaultSecretData | undefined {
  if (!isObject(body) || !isObject(body['data'])) return undefined;
  const data = body['data'];
  if (isObject(data['data']) && isObject(data['metadata'])) {
    const version = data['metadata']['version'];
    return { path, fields: data['data'], ...(typeof version === 'number' ? { version } : {}) };
  }
  return { path, fields: data };
}

function apiUrl(base: string, path: string): URL {
  const url = new URL(base);
  url.pathname = `${url.pathname.replace(/\/+$/, '')}/v1/${path.split('/').map(encodeURIComponent).join('/')}`;
  return url;
}

function hintFor(error: VaultReadError): string {
  if (error.status === 403) {
    return `The token's policies must grant "read" on ${error.path} (for KV v2 the policy path includes data/, e.g. secret/data/ci/*).`;
  }
  if (error.status === 404 && !error.path.includes('/data/')) {
    return `Nothing at ${error.path}. For a KV v2 engine write the API path with data/ after the mount (e.g. secret/data/ci/app).`;
  }
  return `Nothing readable at ${error.path}: check the mount and the path.`;
}

function toText(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

function select(fields: Record<string, unknown>, selector: string): unknown {
  if (selector.startsWith('"') && selector.endsWith('"') && selector.length >= 2)
    return fields[selector.slice(1, -1)];
  if (Object.hasOwn(fields, selector)) return fields[selector];
  let node: unknown = fields;
  for (const step of selector.split('.')) {
    if (!isObject(node) || !Object.hasOwn(node, step)) return undefined;
    node = node[step];
  }
  return node;
}

/**
 * Reads the requested Vault/OpenBao secrets (each path once) and names every value: `| NAME`, or the key
 * normalised as vault-action does; `*` yields every key, prefixed with `NAME_` when a name is given.
 */
export async function readVaultSecrets(
  requests: readonly VaultSecretRequest[],
  options: VaultReadOptions,
): Promise<NamedSecret[]> {
  const send = options.send ?? createHttpSend(options.env);
  const headers: Record<string, string> = {
    'x-vault-token': options.token.reveal(),
    accept: 'application/json',
  };
  if (options.namespace) headers['x-vault-namespace'] = options.namespace;
  const paths = [...new Set(requests.map((request) => request.path))];
  const problems: string[] = [];
  const hints = new Set<string>();
  const read = await mapLimit(paths, options.concurrency ?? 4, async (path) => {
    try {
      return await retry(
        async () => {
          const response = await send({ url: apiUrl(options.url, path), headers, timeoutMs: 20_000 });
          if (response.status !== 200) throw new VaultReadError(path, response.status, errorsOf(response));
          const data = secretDataFromResponse(path, parseJsonBody(response));
          if (data === undefined)
            throw new VaultReadError(path, response.status, ['the answer holds no data']);
          return data;
        },
        {
          retries: 4,
          baseDelayMs: 250,
          maxDelayMs: 5_000,
          timeoutMs: 60_000,
          ...options.retry,
          isRetryable: (error) =>
            error instanceof HttpTransportError ||
            (error instanceof VaultReadError &&
              (isRetryableHttpStatus(error.status) || error.status === 412)),
        },
      );
    } catch (error) {
      if (!(error instanceof VaultReadError)) throw error;
      problems.push(
        `${path}: HTTP ${error.status}${error.errors.length > 0 ? ` (${error.errors.join('; ')})` : ''}`,
      );
      hints.add(hintFor(error));
      return undefined;
    }
  });
  const byPath = new Map(
    read.filter((data): data is VaultSecretData => data !== undefined).map((data) => [data.path, data]),
  );

  const named: NamedSecret[] = [];
  for (const request of requests) {
    const data = byPath.get(request.path);
    if (data === undefined) continue;
    const origin: SecretOrigin = {
      store: 'vault',
      requested: `${request.path} ${request.selector}`,
      location: request.path,
      ...(data.version === undefined ? {} : { version: String(data.version) }),
    };
    const add = (name: string, raw: unknown, field: string): void => {
      const value = new SecretValue(toText(raw));
      options.onSecret(value);
      named.push({ name, value, origin: { ...origin, field } });
    };
    if (request.selector === '*') {
      for (const [key, raw] of Object.entries(data.fields)) {
        const keyName = normalizeVaultKeyName(key);
        add(request.name === undefined ? keyName : `${request.name}_${keyName}`, raw, key);
      }
      continue;
    }
    const raw = select(data.fields, request.selector);
    if (raw === undefined) {
      problems.push(
        `${request.path}: no key ${request.selector} (keys there: ${Object.keys(data.fields).join(', ') || 'none'})`,
      );
      continue;
    }
    add(request.name ?? normalizeVaultKeyName(request.selector.replaceAll('"', '')), raw, request.selector);
  }
  if (problems.length > 0) {
    throw new KeyfenceError(
      problems.some((problem) => problem.includes('HTTP 403'))
        ? StoreErrorCode.SECRET_ACCESS_DENIED
        : StoreErrorCode.SECRET_NOT_FOUND,
      `Could not read ${problems.length} Vault secret(s); nothing was exported:\n  - ${problems.join('\n  - ')}`,
      hints.size > 0 ? { hint: [...hints].join(' ') } : {},
    );
  }
  return named;
}
