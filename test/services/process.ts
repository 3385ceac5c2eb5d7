import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';

/** A service process this test run started; stop() ends exactly that process (by its pid). */
export interface ServiceProcess {
  pid: number;
  /** What the service printed, for error messages. */
  log(): string;
  stop(): Promise<void>;
}

export interface StartOptions {
  name: string;
  command: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Resolves true once the service answers. */
  ready: () => Promise<boolean>;
  timeoutMs?: number;
}

function exited(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once('exit', () => resolve());
  });
}

/** Starts a long-running service, waits until ready() says yes, and returns a handle that stops it. */
export async function startService(options: StartOptions): Promise<ServiceProcess> {
  const logDir = mkdtempSync(join(tmpdir(), `keyfence-${options.name}-`));
  const logPath = join(logDir, 'service.log');
  const logFd = openSync(logPath, 'a');
  const child = spawn(options.command, options.args, {
    cwd: options.cwd ?? logDir,
    env: options.env ?? process.env,
    stdio: ['ignore', logFd, logFd],
  });
  closeSync(logFd);
  const log = (): string => {
    try {
      return readFileSync(logPath, 'utf8');
    } catch {
      return '';
    }
  };
  let spawnError: Error | undefined;
  child.once('error', (error) => {
    spawnError = error;
  });
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const done = await Promise.race([exited(child).then(() => true), delay(5_000).then(() => false)]);
      if (!done) {
        child.kill('SIGKILL');
        await exited(child);
      }
    }
    rmSync(logDir, { recursive: true, force: true });
  };
  const deadline = Date.now() + (options.timeoutMs ?? 60_000);
  while (Date.now() < deadline) {
    if (spawnError !== undefined) throw new Error(`${options.name} could not start: ${spawnError.message}`);
    if (child.exitCode !== null) {
      const output = log();
      await stop();
      throw new Error(`${options.name} exited with code ${child.exitCode}:\n${output.slice(-2_000)}`);
    }
    if (await options.ready().catch(() => false)) return { pid: child.pid ?? -1, log, stop };
    await delay(150);
  }
  const output = log();
  await stop();
  throw new Error(`${options.name} did not become ready in time:\n${output.slice(-2_000)}`);
}

/** GET url and report whether it answered with the given status. */
export async function answers(url: string, status = 200): Promise<boolean> {
  const response = await fetch(url, { signal: AbortSignal.timeout(2_000) });
  await response.arrayBuffer();
  return response.status === status;
}
