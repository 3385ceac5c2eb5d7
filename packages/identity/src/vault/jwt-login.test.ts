import type { HttpRequest, HttpResponse, HttpSend } from '@keyfence/core';
import { type KeyfenceError, SecretValue } from '@keyfence/core';
import { describe, expect, it, vi } from 'vitest';
import { vaultJwtLogin } from './jwt-login.js';

const jwt = new SecretValue('header.payload.signature');
const noWait = { sleep: async () => {}, random: () => 0 };
const claims = {
  sub: 'repo:o/r:ref:refs/heads/dev',
  aud: 'sigstore',
  repository: 'o/r',
  ref: 'refs/heads/dev',
};

function vault(...responses: HttpResponse[]) {
  const requests: HttpRequest[] = [];
  const send: HttpSend = vi.fn(async (request: HttpRequest) => {
    requests.push(request);
    return (
      responses.shift() ?? {
        status: 200,
        headers: {},
        body: JSON.stringify({
          auth: { client_token: 'hvs.client-token', policies: ['default', 'ci-read'], lease_duration: 600 },
        }),
      }
    );
  });
  return { send, requests };
}

function refused(status: number, ...errors: string[]): HttpResponse {
  return { status, headers: {}, body: JSON.stringify({ errors }) };
}

async function loginError(send: HttpSend, role = 'ci'): Promise<KeyfenceError> {
  return (await vaultJwtLogin(
    { url: 'http://vault:8200', role, jwt, claims },
    { env: {}, onSecret: () => {}, send, retry: noWait },
  ).catch((thrown: unknown) => thrown)) as KeyfenceError;
}

describe('vaultJwtLogin', () => {
  it('posts the role and token to auth/MOUNT/login with the namespace, and masks the client token', async () => {
    const { send, requests } = vault();
    const masked: string[] = [];
    const login = await vaultJwtLogin(
      { url: 'https://vault.example.com:8200/', mount: '/github-jwt/', role: 'ci', jwt, namespace: 'team-a' },
      { env: {}, onSecret: (secret) => masked.push(secret.reveal()), send },
    );
    expect(requests[0]?.url.toString()).toBe('https://vault.example.com:8200/v1/auth/github-jwt/login');
    expect(requests[0]?.method).toBe('POST');
    expect(requests[0]?.headers?.['x-vault-namespace']).toBe('team-a');
    expect(JSON.parse(requests[0]?.body ?? '')).toEqual({ jwt: 'header.payload.signature', role: 'ci' });
    expect(masked).toEqual(['hvs.client-token']);
    expect(login.policies).toEqual(['default', 'ci-read']);
    expect(login.leaseDurationSeconds).toBe(600);
    expect(String(login.token)).toBe('[REDACTED]');
  });

  it('keeps a path prefix of the server URL and leaves out an empty role', async () => {
    const { send, requests } = vault();
    await vaultJwtLogin(
      { url: 'https://proxy.example.com/vault', jwt },
      { env: {}, onSecret: () => {}, send },
    );
    expect(requests[0]?.url.toString()).toBe('https://proxy.example.com/vault/v1/auth/jwt/login');
    expect(JSON.parse(requests[0]?.body ?? '')).toEqual({ jwt: 'header.payload.signature' });
  });

  it('explains a wrong audience', async () => {
    const error = await loginError(
      vault(
        refused(
          400,
          'error validating token: invalid audience (aud) claim: audience claim does not match any expected audience',
        ),
      ).send,
    );
    expect(error.code).toBe('VAULT_LOGIN_FAILED');
    expect(error.message).toContain('invalid audience');
    expect(error.hint).toContain('jwtGithubAudience');
    expect(error.hint).toContain('"sigstore"');
  });

  it('explains a subject the role does not accept, quoting the token claims', async () => {
    const error = await loginError(
      vault(refused(400, 'error validating token: invalid subject (sub) claim')).send,
    );
    expect(error.hint).toContain('bound_subject');
    expect(error.hint).toContain('repo:o/r:ref:refs/heads/dev');
  });

  it('explains an unknown role and a missing mount', async () => {
    expect(
      (await loginError(vault(refused(400, 'role "nope" could not be found')).send, 'nope')).hint,
    ).toContain('no role nope');
    expect((await loginError(vault(refused(403, 'permission denied')).send)).hint).toContain(
      'No JWT auth method is mounted at auth/jwt',
    );
  });

  it('retries 5xx and 412 answers, not 400', async () => {
    const flaky = vault(refused(503, 'sealed'), refused(412, 'not yet replicated'));
    await vaultJwtLogin(
      { url: 'http://vault:8200', jwt },
      { env: {}, onSecret: () => {}, send: flaky.send, retry: noWait },
    );
    expect(flaky.send).toHaveBeenCalledTimes(3);
    const bad = vault(refused(400, 'missing role'));
    await loginError(bad.send);
    expect(bad.send).toHaveBeenCalledTimes(1);
  });

  it('never repeats the JWT in its error, even if the server echoes it', async () => {
    const error = await loginError(vault(refused(400, `bad token header.payload.signature`)).send);
    expect(error.message).not.toContain('header.payload.signature');
    expect(error.message).toContain('[REDACTED]');
  });

  it('reports a login answer without a token', async () => {
    const error = await loginError(vault({ status: 200, headers: {}, body: '{"auth":null}' }).send);
    expect(error.message).toContain('without a client token');
  });
});
