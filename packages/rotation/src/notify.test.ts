import { describe, expect, it } from 'vitest';
import { createNotifier } from './notify.js';

const EVENT = {
  runbook: 'orders-db',
  store: 'aws-secrets-manager',
  location: 'prod/orders/db',
  from: 'a',
  to: 'b',
  at: '2025-01-01T00:00:00.000Z',
  rollback: false,
};

describe('createNotifier', () => {
  it('POSTs the event to the webhook and sends a repository_dispatch with the GitHub token', async () => {
    const calls: { url: string; init: RequestInit }[] = [];
    const fakeFetch = (async (url: string | URL | Request, init?: RequestInit) => {
      calls.push({ url: String(url), init: init ?? {} });
      return new Response(null, { status: 204 });
    }) as typeof fetch;
    const notify = createNotifier(
      {
        webhook: 'https://hooks.example.com/rotated',
        repositoryDispatch: { repository: 'octo/app', eventType: 'keyfence-rotated' },
      },
      { GITHUB_TOKEN: 'token-for-test', GITHUB_API_URL: 'https://ghe.example.com/api/v3' },
      fakeFetch,
    );
    await notify(EVENT);
    expect(calls.map((call) => call.url)).toEqual([
      'https://hooks.example.com/rotated',
      'https://ghe.example.com/api/v3/repos/octo/app/dispatches',
    ]);
    expect(JSON.parse(String(calls[1]?.init.body))).toEqual({
      event_type: 'keyfence-rotated',
      client_payload: EVENT,
    });
    expect((calls[1]!.init.headers as Record<string, string>)['authorization']).toBe('Bearer token-for-test');
  });

  it('fails when the webhook answers an error', async () => {
    const notify = createNotifier(
      { webhook: 'https://hooks.example.com/x' },
      {},
      (async () => new Response('no', { status: 500 })) as typeof fetch,
    );
    await expect(notify(EVENT)).rejects.toThrow(/HTTP 500/);
  });
});
