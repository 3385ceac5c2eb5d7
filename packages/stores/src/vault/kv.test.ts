import type { HttpRequest, HttpResponse, HttpSend } from '@keyfence/core';
import { KeyfenceError, SecretValue } from '@keyfence/core';
import { describe, expect, it, vi } from 'vitest';
import { readVaultSecrets, secretDataFromResponse } from './kv.js';
import { parseVaultSecrets } from './secrets-syntax.js';

const kv2 = (data: Record<string, unknown>, version = 3) => ({
  data: { data, metadata: { version, destroyed: false } },
});
const kv1 = (data: Record<string, unknown>) => ({ data, lease_duration: 2764800 });

function server(paths: Record<string, { status?: number; body: unknown }>) {
  const requests: HttpRequest[] = [];
  const send: HttpSend = vi.fn(async (request: HttpRequest): Promise<HttpResponse> => {
    requests.push(request);
    const path = request.url.pathname.replace(/^\/v1\//, '');
    const answer = paths[path] ?? { status: 404, body: { errors: [] } };
    return { status: answer.status ?? 200, headers: {}, body: JSON.stringify(answer.body) };
  });
  return { send, requests };
}

const token = new SecretValue('vault-client-token');
const options = (send: HttpSend) => ({
  url: 'http://vault:8200',
  token,
  env: {},
  onSecret: () => {},
  send,
  retry: { sleep: async () => {} },
});

describe('secretDataFromResponse', () => {
  it('tells KV v2 (data.data + data.metadata) from KV v1', () => {
    expect(secretDataFromResponse('p', kv2({ a: 'b' }, 7))).toEqual({
      path: 'p',
      fields: { a: 'b' },
      version: 7,
    });
    expect(secretDataFromResponse('p', kv1({ a: 'b' }))).toEqual({ path: 'p', fields: { a: 'b' } });
    // A KV v1 secret that happens to have a "data" key is not mistaken for KV v2.
    expect(secretDataFromResponse('p', kv1({ data: { x: 1 } }))).toEqual({
      path: 'p',
      fields: { data: { x: 1 } },
    });
    expect(secretDataFromResponse('p', { errors: [] })).toBeUndefined();
  });
});

describe('readVaultSecrets', () => {
  it('reads each path once, selects keys, dotted paths and *, names and masks every value', async () => {
    const { send, requests } = server({
      'secret/data/ci/app': {
        body: kv2({ password: 'pw', 'api-key': 'k', nested: { db: { user: 'u' } }, port: 5432 }),
      },
      'kv/ci/legacy': { body: kv1({ a: '1', b: '2' }) },
    });
    const masked: string[] = [];
    const secrets = await readVaultSecrets(
      parseVaultSecrets(
        'secret/data/ci/app password | DB_PASSWORD ; secret/data/ci/app api-key ; secret/data/ci/app nested.db.user ; secret/data/ci/app port ; kv/ci/legacy * | LEGACY',
      ),
      { ...options(send), onSecret: (secret) => masked.push(secret.reveal()) },
    );
    expect(requests.map((request) => request.url.pathname).sort()).toEqual([
      '/v1/kv/ci/legacy',
      '/v1/secret/data/ci/app',
    ]);
    expect(requests[0]?.headers?.['x-vault-token']).toBe('vault-client-token');
    expect(Object.fromEntries(secrets.map((secret) => [secret.name, secret.value.reveal()]))).toEqual({
      DB_PASSWORD: 'pw',
      APIKEY: 'k',
      NESTED__DBUSER: 'u',
      PORT: '5432',
      LEGACY_A: '1',
      LEGACY_B: '2',
    });
    expect(masked.sort()).toEqual(['1', '2', '5432', 'k', 'pw', 'u']);
    expect(secrets[0]?.origin).toEqual({
      store: 'vault',
      requested: 'secret/data/ci/app password',
      location: 'secret/data/ci/app',
      field: 'password',
      version: '3',
    });
  });

  it('reports a missing key with the keys that exist, and refused or missing paths with hints, all at once', async () => {
    const { send } = server({
      'secret/data/ci/app': { body: kv2({ password: 'pw' }) },
      'secret/data/other': {
        status: 403,
        body: { errors: ['1 error occurred:\n\t* permission denied\n\n'] },
      },
    });
    const error = (await readVaultSecrets(
      parseVaultSecrets('secret/data/ci/app token ; secret/data/other x ; secret/ci/app password'),
      options(send),
    ).catch((thrown: unknown) => thrown)) as KeyfenceError;
    expect(error).toBeInstanceOf(KeyfenceError);
    expect(error.code).toBe('SECRET_ACCESS_DENIED');
    expect(error.message).toContain('secret/data/ci/app: no key token (keys there: password)');
    expect(error.message).toContain('secret/data/other: HTTP 403');
    expect(error.message).toContain('secret/ci/app: HTTP 404');
    expect(error.message).not.toContain('pw');
    expect(error.hint).toContain('grant "read"');
    expect(error.hint).toContain('data/ after the mount');
  });

  it('retries a sealed or overloaded server', async () => {
    let calls = 0;
    const send: HttpSend = async () => {
      calls += 1;
      return calls === 1
        ? { status: 503, headers: {}, body: '{"errors":["Vault is sealed"]}' }
        : { status: 200, headers: {}, body: JSON.stringify(kv2({ k: 'v' })) };
    };
    const secrets = await readVaultSecrets(parseVaultSecrets('secret/data/x k'), options(send));
    expect(secrets[0]?.value.reveal()).toBe('v');
    expect(calls).toBe(2);
  });
});
