/** True when running in CI (CI=true), where a service that cannot start fails the test instead of skipping it. */
export const IN_CI = process.env['CI'] === 'true' || process.env['CI'] === '1';

/** The outcome of trying to start a service: the service, or why it could not start. */
export type Started<T> = { ok: true; service: T } | { ok: false; reason: string };

/**
 * Starts a service for a test file. Locally a failure is returned (the file's tests skip, printing why);
 * under CI=true it throws, so a missing service fails the run instead of silently skipping tests.
 */
export async function startOrSkip<T>(name: string, start: () => Promise<T>): Promise<Started<T>> {
  try {
    return { ok: true, service: await start() };
  } catch (error) {
    const reason = `${name} could not start: ${error instanceof Error ? error.message : String(error)}`;
    if (IN_CI) throw new Error(`${reason}\n(CI=true: a test that needs ${name} fails instead of skipping)`);
    console.warn(`skipping tests that need ${name}: ${reason}`);
    return { ok: false, reason };
  }
}

/**
 * Starts two services a test file needs together (e.g. PostgreSQL and moto), as startOrSkip does;
 * when one cannot start, the other is stopped again and the reason names the one that failed.
 */
export async function startBothOrSkip<A, B>(
  first: [name: string, start: () => Promise<A>],
  second: [name: string, start: () => Promise<B>],
): Promise<Started<[A, B]>> {
  const [a, b] = await Promise.all([startOrSkip(...first), startOrSkip(...second)]);
  if (a.ok && b.ok) return { ok: true, service: [a.service, b.service] };
  for (const s of [a, b]) if (s.ok) await (s.service as { stop?: () => Promise<void> }).stop?.();
  return { ok: false, reason: a.ok ? (b as { reason: string }).reason : a.reason };
}
