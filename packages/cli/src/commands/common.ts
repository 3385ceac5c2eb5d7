import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { ErrorCode, KeyfenceError } from '@keyfence/core';
import {
  defaultConfig,
  findConfigFile,
  loadConfig,
  readBaseline,
  type ScanConfig,
  type ScanResult,
  scanPaths,
} from '@keyfence/scanner';
import { usageError } from '../args.js';
import type { Io } from '../io.js';

/** Options shared by `scan` and `baseline`. */
export const SCAN_OPTIONS = {
  config: { type: 'string' },
  baseline: { type: 'string' },
  'no-ignore': { type: 'boolean' },
  'include-lockfiles': { type: 'boolean' },
  'scan-binaries': { type: 'boolean' },
  workers: { type: 'string' },
  shard: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

export interface CommonValues {
  config?: string | undefined;
  baseline?: string | undefined;
  'no-ignore'?: boolean | undefined;
  'include-lockfiles'?: boolean | undefined;
  'scan-binaries'?: boolean | undefined;
  workers?: string | undefined;
  shard?: string | undefined;
}

/** Loads the config (given, or found at the first folder scanned) and runs the scan. */
export async function runScanFromArgs(
  values: CommonValues,
  positionals: string[],
  io: Io,
): Promise<ScanResult> {
  const paths = positionals.length > 0 ? positionals : ['.'];
  const absolute = paths.map((p) => resolve(io.cwd, p));
  absolute.forEach((abs, i) => {
    if (!existsSync(abs)) {
      throw new KeyfenceError(ErrorCode.INPUT_NOT_FOUND, `no such file or folder: ${paths[i]}`, {
        hint: 'check the path; keyfence scan takes folders and files, e.g. `keyfence scan .`',
      });
    }
  });
  const config = readConfig(values.config ? resolve(io.cwd, values.config) : undefined, absolute[0]!);
  if (values['no-ignore']) config.respectGitignore = false;
  if (values['include-lockfiles']) config.skipLockfiles = false;
  const options: Parameters<typeof scanPaths>[0] = { paths: absolute, config };
  if (values['scan-binaries']) options.scanBinaries = true;
  if (values.baseline) options.baseline = readBaseline(resolve(io.cwd, values.baseline));
  if (values.workers !== undefined) {
    const n = Number(values.workers);
    if (!Number.isInteger(n) || n < 0 || n > 64)
      throw usageError(`--workers must be 0..64 (got "${values.workers}")`, '0 scans on one thread');
    options.workers = n;
  }
  if (values.shard !== undefined) {
    const m = /^(\d+)\/(\d+)$/.exec(values.shard);
    const index = Number(m?.[1]);
    const count = Number(m?.[2]);
    if (!m || count < 1 || index < 1 || index > count) {
      throw usageError(
        `--shard must be K/N with 1 <= K <= N (got "${values.shard}")`,
        'e.g. --shard 2/4 scans the second of four shards',
      );
    }
    options.shard = { index, count };
  }
  return scanPaths(options);
}

function readConfig(explicit: string | undefined, firstPath: string): ScanConfig {
  if (explicit) return loadConfig(explicit);
  let root = firstPath;
  try {
    if (!statSync(firstPath).isDirectory()) root = resolve(firstPath, '..');
  } catch {
    // A missing path is reported by the scan itself, with its own message.
  }
  const found = findConfigFile(root);
  return found ? loadConfig(found) : defaultConfig();
}
