import { setTimeout as delay } from 'node:timers/promises';

export interface RetryOptions {
  /** Retries after the first attempt; `retries: 2` means at most 3 calls. */
  retries: number;
  /** Whether a failure is worth retrying; a `false` ends the loop immediately. */
  isRetryable: (error: unknown) => boolean;
  /** Backoff ceiling for the first retry, doubled for each further one. Default 100. */
  baseDelayMs?: number;
  /** Upper bound on the backoff ceiling. Default 10_000. */
  maxDelayMs?: number;
  /**
   * Overall deadline, measured from the call to `retry`. Checked between attempts only (a running
   * attempt is not interrupted): a retry whose backoff would end at or past the deadline is not made.
   */
  timeoutMs?: number;
  sleep?: (ms: number) => Promise<void>;
  /** Returns a number in [0, 1); injectable for deterministic tests. */
  random?: () => number;
  /** Monotonic clock in milliseconds; injectable for deterministic tests. */
  now?: () => number;
  /** Called before each backoff; `attempt` is the number of the attempt about to be made (1 = first retry). */
  onRetry?: (error: unknown, attempt: number, delayMs: number) => void;
}

const DEFAULT_BASE_DELAY_MS = 100;
const DEFAULT_MAX_DELAY_MS = 10_000;

function requireNonNegative(name: string, value: number, integer = false): void {
  if (!(value >= 0) || (integer ? !Number.isInteger(value) : !Number.isFinite(value))) {
    throw new RangeError(`retry: ${name} must be a non-negative ${integer ? 'integer' : 'finite number'}`);
  }
}

/** Computes the full-jitter backoff ceiling for the given 0-based failed attempt. */
function backoffCeiling(attempt: number, baseDelayMs: number, maxDelayMs: number): number {
  const exponential = baseDelayMs * 2 ** attempt;
  // 2 ** attempt reaches Infinity for huge attempt counts; 0 * Infinity is NaN, and a zero base means no wait.
  return Number.isNaN(exponential) ? 0 : Math.min(maxDelayMs, exponential);
}

/** Calls fn (with its 0-based attempt number) until it succeeds, retrying retryable failures with full-jitter exponential backoff. */
export async function retry<T>(fn: (attempt: number) => Promise<T>, opts: RetryOptions): Promise<T> {
  const baseDelayMs = opts.baseDelayMs ?? DEFAULT_BASE_DELAY_MS;
  const maxDelayMs = opts.maxDelayMs ?? DEFAULT_MAX_DELAY_MS;
  requireNonNegative('retries', opts.retries, true);
  requireNonNegative('baseDelayMs', baseDelayMs);
  requireNonNegative('maxDelayMs', maxDelayMs);
  if (opts.timeoutMs !== undefined) requireNonNegative('timeoutMs', opts.timeoutMs);

  const sleep = opts.sleep ?? ((ms: number) => delay(ms));
  const random = opts.random ?? Math.random;
  // performance.now rather than Date.now: a wall-clock adjustment must not stretch or cut the deadline.
  const now = opts.now ?? (() => performance.now());
  const deadline = opts.timeoutMs === undefined ? Number.POSITIVE_INFINITY : now() + opts.timeoutMs;

  for (let attempt = 0; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (error) {
      if (attempt >= opts.retries || !opts.isRetryable(error)) throw error;
      // Full jitter (a uniform draw up to the ceiling) spreads out clients that failed together,
      // so they don't all come back at the same instant.
      const delayMs = Math.floor(random() * backoffCeiling(attempt, baseDelayMs, maxDelayMs));
      // Sleeping into the deadline would leave no time for the attempt; the caller is better
      // served by the real failure now than by the same failure later.
      if (now() + delayMs >= deadline) throw error;
      opts.onRetry?.(error, attempt + 1, delayMs);
      await sleep(delayMs);
    }
  }
}

/** True for HTTP statuses worth retrying: 408 Request Timeout, 429 Too Many Requests and any 5xx. */
export function isRetryableHttpStatus(status: number): boolean {
  return status === 408 || status === 429 || (Number.isInteger(status) && status >= 500 && status <= 599);
}
