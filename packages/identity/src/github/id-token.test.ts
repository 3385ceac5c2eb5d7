import type { HttpRequest, HttpResponse, HttpSend } from '@keyfence/core';
import { HttpTransportError, KeyfenceError, type SecretValue } from '@keyfence/core';
import { describe, expect, it, vi } from 'vitest';
import { requestGitHubIdToken } from './id-token.js';

const payload = Buffer.from(
  JSON.stringify({ sub: 'repo:o/r:ref:refs/heads/main', aud: 'sts.amazonaws.com' }),
).toString('base64url');
const TOKEN = `eyJhbGciOiJSUzI1NiJ9.${payload}.sig`;
const env = {
  ACTIONS_ID_TOKEN_REQUEST_URL: 'https://runner.example/_apis/idtoken?api-version=2.0',
  ACTIONS_ID_TOKEN_REQUEST_TOKEN: 'runner-bearer',
};
const noWait = { sleep: async () => {}, random: () => 0 };

function answers(...responses: Array<HttpResponse | Error>) {
  const requests: HttpRequest[] = [];
  const send: HttpSend = vi.fn(async (request: HttpRequest) => {
    requests.push(request);
    const next = responses.shift() ?? { status: 200, headers: {}, body: JSON.stringify({ value: TOKEN }) };
    if (next instanceof Error) throw next;
    return next;
  });
  return { send, requests };
}

describe('requestGitHubIdToken', () => {
  it('fails at once, naming `permissions: id-token: write` and forks, when the runner offers no token', async () => {
    const { send } = answers();
    for (const partial of [{}, { ACTIONS_ID_TOKEN_REQUEST_URL: env.ACTIONS_ID_TOKEN_REQUEST_URL }]) {
      const error = (await requestGitHubIdToken({ env: partial, onSecret: () => {}, send }).catch(
        (thrown: unknown) => thrown,
      )) as KeyfenceError;
      expect(error).toBeInstanceOf(KeyfenceError);
      expect(error.code).toBe('ID_TOKEN_UNAVAILABLE');
      expect(error.hint).toContain('permissions: id-token: write');
      expect(error.hint).toContain('forks');
    }
    expect(send).not.toHaveBeenCalled();
  });

  it('asks for the audience with the bearer token, keeping the query the runner gave', async () => {
    const { send, requests } = answers();
    await requestGitHubIdToken({ env, audience: 'sts.amazonaws.com', onSecret: () => {}, send });
    expect(requests[0]?.url.toString()).toBe(
      'https://runner.example/_apis/idtoken?api-version=2.0&audience=sts.amazonaws.com',
    );
    expect(requests[0]?.headers?.['authorization']).toBe('Bearer runner-bearer');
  });

  it('masks the token before returning it, and reads its claims', async () => {
    const { send } = answers();
    const masked: SecretValue[] = [];
    const { token, claims } = await requestGitHubIdToken({
      env,
      onSecret: (secret) => masked.push(secret),
      send,
    });
    expect(masked.map((secret) => secret.reveal())).toEqual(['runner-bearer', TOKEN]);
    expect(token.reveal()).toBe(TOKEN);
    expect(claims).toEqual({ sub: 'repo:o/r:ref:refs/heads/main', aud: 'sts.amazonaws.com' });
  });

  it('retries 5xx answers and network failures', async () => {
    const { send } = answers(
      { status: 503, headers: {}, body: '' },
      new HttpTransportError('could not reach runner.example: ECONNRESET', 'ECONNRESET'),
    );
    const { token } = await requestGitHubIdToken({ env, onSecret: () => {}, send, retry: noWait });
    expect(token.reveal()).toBe(TOKEN);
    expect(send).toHaveBeenCalledTimes(3);
  });

  it('does not retry a refused bearer token, and hints at the permission', async () => {
    const { send } = answers({ status: 403, headers: {}, body: '{}' });
    const error = (await requestGitHubIdToken({ env, onSecret: () => {}, send, retry: noWait }).catch(
      (thrown: unknown) => thrown,
    )) as KeyfenceError;
    expect(send).toHaveBeenCalledTimes(1);
    expect(error.code).toBe('ID_TOKEN_REQUEST_FAILED');
    expect(error.message).toContain('HTTP 403');
    expect(error.hint).toContain('id-token: write');
  });

  it('reports an answer without a token', async () => {
    const { send } = answers({ status: 200, headers: {}, body: '{"nope":1}' });
    await expect(requestGitHubIdToken({ env, onSecret: () => {}, send })).rejects.toThrow('without a token');
  });
});
