import { describe, expect, it } from 'vitest';
import { isRetryableHttpStatus, type RetryOptions, retry } from './retry.js';

class TransientError extends Error {}
class FatalError extends Error {}

/** A fake clock whose sleep advances time instantly and records every requested delay. */
function fakeTime(start = 1_000) {
  let time = start;
  const sleeps: number[] = [];
  return {
    sleeps,
    now: () => time,
    sleep: async (ms: number) => {
      sleeps.push(ms);
      time += ms;
    },
    advance: (ms: number) => {
      time += ms;
    },
  };
}

function failingTimes(failures: number, makeError: () => Error = () => new TransientError('flaky')) {
  const attempts: number[] = [];
  const fn = async (attempt: number): Promise<string> => {
    attempts.push(attempt);
    if (attempts.length <= failures) throw makeError();
    return `ok after ${attempt}`;
  };
  return { fn, attempts };
}

function options(overrides: Partial<RetryOptions> = {}): RetryOptions {
  const clock = fakeTime();
  return {
    retries: 3,
    isRetryable: (error) => error instanceof TransientError,
    baseDelayMs: 100,
    maxDelayMs: 1_000,
    sleep: clock.sleep,
    now: clock.now,
    random: () => 1,
    ...overrides,
  };
}

describe('retry', () => {
  it('returns the first result without sleeping when fn succeeds', async () => {
    const clock = fakeTime();
    const { fn, attempts } = failingTimes(0);
    await expect(retry(fn, options({ sleep: clock.sleep, now: clock.now }))).resolves.toBe('ok after 0');
    expect(attempts).toEqual([0]);
    expect(clock.sleeps).toEqual([]);
  });

  it('retries retryable failures, passing the 0-based attempt number', async () => {
    const { fn, attempts } = failingTimes(2);
    await expect(retry(fn, options())).resolves.toBe('ok after 2');
    expect(attempts).toEqual([0, 1, 2]);
  });

  it('waits random() * min(maxDelay, base * 2^attempt) between attempts', async () => {
    const clock = fakeTime();
    const { fn } = failingTimes(5);
    await retry(
      fn,
      options({
        retries: 5,
        sleep: clock.sleep,
        now: clock.now,
        random: () => 0.5,
        baseDelayMs: 100,
        maxDelayMs: 1_000,
      }),
    );
    expect(clock.sleeps).toEqual([50, 100, 200, 400, 500]);
  });

  it('draws a fresh jitter for every delay (full jitter)', async () => {
    const clock = fakeTime();
    const draws = [0, 0.25, 0.999];
    const { fn } = failingTimes(3);
    await retry(fn, options({ sleep: clock.sleep, now: clock.now, random: () => draws.shift() ?? 0 }));
    expect(clock.sleeps).toEqual([0, 50, 399]);
  });

  it('rethrows the last error unchanged once retries are exhausted', async () => {
    const errors: Error[] = [];
    const { fn, attempts } = failingTimes(10, () => {
      const error = new TransientError(`flaky #${errors.length}`);
      errors.push(error);
      return error;
    });
    const outcome = retry(fn, options({ retries: 2 }));
    // Captured after settling: errors[2] does not exist until the third attempt has run.
    const thrown = await outcome.catch((error: unknown) => error);
    expect(thrown).toBe(errors[2]);
    expect(attempts).toEqual([0, 1, 2]);
  });

  it('stops at once when the error is not retryable', async () => {
    const fatal = new FatalError('bad credentials');
    const clock = fakeTime();
    const { fn, attempts } = failingTimes(10, () => fatal);
    await expect(retry(fn, options({ sleep: clock.sleep, now: clock.now }))).rejects.toBe(fatal);
    expect(attempts).toEqual([0]);
    expect(clock.sleeps).toEqual([]);
  });

  it('makes a single attempt when retries is 0', async () => {
    const { fn, attempts } = failingTimes(1);
    await expect(retry(fn, options({ retries: 0 }))).rejects.toBeInstanceOf(TransientError);
    expect(attempts).toEqual([0]);
  });

  it('reports each retry to onRetry with the error, the upcoming attempt number and the delay', async () => {
    const calls: Array<[unknown, number, number]> = [];
    const { fn } = failingTimes(2);
    await retry(
      fn,
      options({
        random: () => 0.5,
        onRetry: (error, attempt, delayMs) => calls.push([error, attempt, delayMs]),
      }),
    );
    expect(calls.map(([, attempt, delayMs]) => [attempt, delayMs])).toEqual([
      [1, 50],
      [2, 100],
    ]);
    expect(calls[0]?.[0]).toBeInstanceOf(TransientError);
  });

  it('throws the last error instead of sleeping past the overall deadline', async () => {
    const clock = fakeTime();
    const errors: Error[] = [];
    const { fn, attempts } = failingTimes(10, () => {
      const error = new TransientError(`flaky #${errors.length}`);
      errors.push(error);
      return error;
    });
    // Full delays of 100, 200, 400: after two sleeps (t = 300) the next 400 ms would end at 700 > 500.
    const outcome = retry(fn, options({ retries: 10, timeoutMs: 500, sleep: clock.sleep, now: clock.now }));
    // Captured after settling: errors[2] does not exist until the third attempt has run.
    const thrown = await outcome.catch((error: unknown) => error);
    expect(thrown).toBe(errors[2]);
    expect(attempts).toEqual([0, 1, 2]);
    expect(clock.sleeps).toEqual([100, 200]);
  });

  it('counts time spent inside fn against the deadline', async () => {
    const clock = fakeTime();
    const attempts: number[] = [];
    const slow = async (attempt: number): Promise<never> => {
      attempts.push(attempt);
      clock.advance(450);
      throw new TransientError('slow and flaky');
    };
    const outcome = retry(slow, options({ retries: 10, timeoutMs: 500, sleep: clock.sleep, now: clock.now }));
    await expect(outcome).rejects.toBeInstanceOf(TransientError);
    expect(attempts).toEqual([0]);
    expect(clock.sleeps).toEqual([]);
  });

  it('still makes the first attempt with a zero timeout', async () => {
    const { fn, attempts } = failingTimes(0);
    await expect(retry(fn, options({ timeoutMs: 0 }))).resolves.toBe('ok after 0');
    expect(attempts).toEqual([0]);
  });

  it('caps the delay at maxDelayMs even for very high attempt numbers', async () => {
    const clock = fakeTime();
    const { fn } = failingTimes(1_100);
    await retry(fn, options({ retries: 1_100, sleep: clock.sleep, now: clock.now }));
    expect(Math.max(...clock.sleeps)).toBe(1_000);
    expect(clock.sleeps.every((ms) => Number.isFinite(ms))).toBe(true);
  });

  it('rejects invalid options before calling fn', async () => {
    const { fn, attempts } = failingTimes(0);
    await expect(retry(fn, options({ retries: -1 }))).rejects.toBeInstanceOf(RangeError);
    await expect(retry(fn, options({ retries: 1.5 }))).rejects.toBeInstanceOf(RangeError);
    await expect(retry(fn, options({ baseDelayMs: Number.NaN }))).rejects.toBeInstanceOf(RangeError);
    await expect(retry(fn, options({ timeoutMs: -5 }))).rejects.toBeInstanceOf(RangeError);
    expect(attempts).toEqual([]);
  });
});

describe('isRetryableHttpStatus', () => {
  it.each([408, 429, 500, 502, 503, 504, 599])('retries %i', (status) => {
    expect(isRetryableHttpStatus(status)).toBe(true);
  });

  it.each([200, 301, 400, 401, 403, 404, 409, 422, 499, 600, 500.5])('does not retry %d', (status) => {
    expect(isRetryableHttpStatus(status)).toBe(false);
  });
});
