import { type SpawnSyncOptions, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll } from 'vitest';

/** The built CLI, run as users run it (`npx keyfence` resolves to this file). */
export const CLI = resolve(import.meta.dirname, '../../packages/cli/bin/keyfence.js');

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `keyfence ARGS` in a folder and returns what it printed. */
export function keyfence(args: string[], cwd: string, options: SpawnSyncOptions = {}): CliRun {
  const r = spawnSync(process.execPath, [CLI, ...args], {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1' },
    maxBuffer: 64 * 1024 * 1024,
    ...options,
  });
  if (r.error) throw r.error;
  return { code: r.status ?? -1, stdout: String(r.stdout), stderr: String(r.stderr) };
}

/** A temporary folder removed after the test file. */
export function tempDir(prefix = 'keyfence-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}
