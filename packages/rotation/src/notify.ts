import { KeyfenceError } from '@keyfence/core';
import type { PromotionEvent } from './engine/engine.js';
import { RotationErrorCode } from './errors.js';
import type { NotifyConfig } from './runbook/types.js';

type Env = Readonly<Record<string, string | undefined>>;
type Fetch = typeof fetch;

async function post(
  fetcher: Fetch,
  url: string,
  headers: Record<string, string>,
  body: unknown,
  what: string,
): Promise<void> {
  const response = await fetcher(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(15_000),
  });
  await response.arrayBuffer();
  if (!response.ok)
    throw new KeyfenceError(RotationErrorCode.UPSTREAM_FAILED, `${what} answered HTTP ${response.status}`);
}

/** Tells consumers about a promotion: a webhook and/or a repository_dispatch event. The event holds ids only. */
export function createNotifier(
  config: NotifyConfig,
  env: Env,
  fetcher: Fetch = fetch,
): (event: PromotionEvent) => Promise<void> {
  return async (event) => {
    if (config.webhook !== undefined) {
      await post(
        fetcher,
        config.webhook,
        { 'user-agent': 'keyfence-rotation' },
        { event: 'keyfence.promoted', ...event },
        'The webhook',
      );
    }
    if (config.repositoryDispatch !== undefined) {
      const token = env['GITHUB_TOKEN'];
      if (!token)
        throw new KeyfenceError(
          RotationErrorCode.STORE_CONFIG_MISSING,
          'GITHUB_TOKEN is not set for repository_dispatch.',
        );
      const api = (env['GITHUB_API_URL'] ?? 'https://api.github.com').replace(/\/+$/, '');
      await post(
        fetcher,
        `${api}/repos/${config.repositoryDispatch.repository}/dispatches`,
        {
          authorization: `Bearer ${token}`,
          accept: 'application/vnd.github+json',
          'user-agent': 'keyfence-rotation',
        },
        { event_type: config.repositoryDispatch.eventType, client_payload: event },
        'repository_dispatch',
      );
    }
  };
}
