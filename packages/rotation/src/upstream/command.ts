import { spawn } from 'node:child_process';
import { KeyfenceError, SecretValue } from '@keyfence/core';
import { RotationErrorCode } from '../errors.js';
import type { CommandUpstreamConfig } from '../runbook/types.js';
import type { RevokeOutcome, Upstream } from './types.js';

/** Exit code a script uses to say "unreachable, try again" (sysexits' EX_TEMPFAIL). */
export const EXIT_TEMPFAIL = 75;
const MAX_OUTPUT_BYTES = 1024 * 1024;

type Env = Readonly<Record<string, string | undefined>>;

/** Runs one script with a JSON request on stdin; resolves with its stdout. */
function runScript(
  argv: readonly string[],
  input: Record<string, string>,
  timeoutMs: number,
  env: Env,
  step: string,
): Promise<string> {
  const [command, ...args] = argv;
  if (command === undefined) return Promise.reject(new Error('empty command'));
  return new Promise((resolve, reject) => {
    // Values travel on stdin only: argv and the environment are visible to other processes (ps, /proc).
    const child = spawn(command, args, {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { ...env },
      timeout: timeoutMs,
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let size = 0;
    const collect = (into: Buffer[]) => (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_OUTPUT_BYTES) into.push(chunk);
    };
    child.stdout.on('data', collect(out));
    child.stderr.on('data', collect(err));
    child.stdin.on('error', () => undefined);
    child.on('error', (error) =>
      reject(
        new KeyfenceError(
          RotationErrorCode.UPSTREAM_FAILED,
          `The ${step} script could not start: ${error.message}`,
          { cause: error },
        ),
      ),
    );
    child.on('close', (code, signal) => {
      if (code === 0) {
        resolve(Buffer.concat(out).toString('utf8'));
        return;
      }
      const stderr = Buffer.concat(err).toString('utf8').trim().split('\n').slice(-3).join(' | ');
      const why =
        signal === null
          ? `exit code ${code}`
          : `signal ${signal}${signal === 'SIGTERM' ? ' (timeout?)' : ''}`;
      reject(
        new KeyfenceError(
          code === EXIT_TEMPFAIL ? RotationErrorCode.UPSTREAM_UNREACHABLE : RotationErrorCode.UPSTREAM_FAILED,
          `The ${step} script failed (${why})${stderr ? `: ${stderr}` : ''}`,
        ),
      );
    });
    child.stdin.end(JSON.stringify(input));
  });
}

/**
 * An upstream driven by user scripts. Each gets a JSON object on stdin: create `{current}` (prints the new
 * value on stdout), set `{target, current, pending}`, test `{value}`, revoke `{previous, current}`.
 */
export class CommandUpstream implements Upstream {
  readonly kind = 'command';
  readonly replacesCurrent: boolean;
  readonly reusesPrevious: boolean;
  readonly #config: CommandUpstreamConfig;
  readonly #env: Env;

  constructor(config: CommandUpstreamConfig, env: Env) {
    this.#config = config;
    // The vault token is keyfence's, not the scripts': they get the rest of the environment.
    const { VAULT_TOKEN: _token, ...rest } = env;
    this.#env = rest;
    this.replacesCurrent = config.strategy === 'single-user';
    this.reusesPrevious = config.strategy === 'alternating-users';
  }

  identify(value: SecretValue): string {
    try {
      const parsed = JSON.parse(value.reveal()) as Record<string, unknown>;
      for (const key of ['username', 'user', 'id', 'key-id', 'AccessKeyId', 'accessKeyId']) {
        if (typeof parsed[key] === 'string') return `${key} ${parsed[key]}`;
      }
    } catch {
      // An opaque value has no name to show.
    }
    return `a value of ${value.length} characters`;
  }

  async create(current: SecretValue): Promise<SecretValue> {
    const out = await runScript(
      this.#config.create,
      { current: current.reveal() },
      this.#config.timeoutMs,
      this.#env,
      'create',
    );
    const value = out.replace(/\r?\n$/, '');
    if (value === '')
      throw new KeyfenceError(RotationErrorCode.UPSTREAM_FAILED, 'The create script printed no value.');
    return new SecretValue(value);
  }

  async set(request: { target: SecretValue; current: SecretValue; pending: SecretValue }): Promise<void> {
    if (this.#config.set === undefined) return;
    await runScript(
      this.#config.set,
      {
        target: request.target.reveal(),
        current: request.current.reveal(),
        pending: request.pending.reveal(),
      },
      this.#config.timeoutMs,
      this.#env,
      'set',
    );
  }

  async test(value: SecretValue): Promise<void> {
    await runScript(this.#config.test, { value: value.reveal() }, this.#config.timeoutMs, this.#env, 'test');
  }

  async revoke(request: { previous: SecretValue; current: SecretValue }): Promise<RevokeOutcome> {
    if (this.#config.revoke === undefined) return 'nothing-to-revoke';
    await runScript(
      this.#config.revoke,
      { previous: request.previous.reveal(), current: request.current.reveal() },
      this.#config.timeoutMs,
      this.#env,
      'revoke',
    );
    return 'revoked';
  }
}
