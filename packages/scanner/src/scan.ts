import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { FindingCollector } from './collect.js';
import { excludedPaths, type ScanConfig } from './config.js';
import type { ConfigInForce } from './config-source.js';
import type { Finding, ScanProblem } from './finding.js';
import { createDetector, selectRules } from './rules/builtin.js';
import { type FileEntry, listFiles } from './sources/files.js';
import { type FileResult, scanFile } from './sources/read.js';
import type { WorkerReply, WorkerTask } from './worker.js';

export interface ScanOptions {
  paths: string[];
  config: ScanConfig;
  /** Fingerprints to leave out (a baseline of known, accepted findings). */
  baseline?: ReadonlySet<string>;
  /** Worker threads: 0 scans on the calling thread; default picks by input size and cores. */
  workers?: number;
  scanBinaries?: boolean;
  /** Follow symbolic links that lead out of the folders scanned (off: they are skipped and named). */
  followSymlinks?: boolean;
  /** Scan only shard K of N (1-based), splitting files by a stable hash of their path. */
  shard?: { index: number; count: number };
}

export interface ScanStats {
  files: number;
  bytes: number;
  durationMs: number;
  skippedFiles: number;
  rules: number;
  baselined: number;
  /** Commits scanned, for the git modes. */
  commits?: number;
}

export interface ScanResult {
  findings: Finding[];
  problems: ScanProblem[];
  warnings: string[];
  stats: ScanStats;
  /** The config and baseline in force and where they came from (set by the command that ran the scan). */
  config?: ConfigInForce;
}

/**
 * Below this much input, starting worker threads costs more than it saves: each worker loads the
 * rules and warms its own JIT (about 0.3 s of CPU), and one thread scans about 60 MB/s.
 */
const PARALLEL_MIN_BYTES = 256 * 1024 * 1024;
const BATCH_BYTES = 2 * 1024 * 1024;
const BATCH_FILES = 256;

/** Scans folders and files with the configured rules. */
export async function scanPaths(options: ScanOptions): Promise<ScanResult> {
  const started = performance.now();
  const { config } = options;
  const scanBinaries = options.scanBinaries ?? !config.skipBinaries;
  const exclude = excludedPaths(config);
  const listed = listFiles(options.paths, {
    skipLockfiles: config.skipLockfiles,
    skipBinaries: !scanBinaries,
    respectGitignore: config.respectGitignore,
    ...(options.followSymlinks ? { followSymlinks: true } : {}),
    ...(exclude ? { exclude } : {}),
  });
  const files = options.shard ? listed.files.filter((f) => inShard(f.path, options.shard!)) : listed.files;
  const totalBytes = files.reduce((n, f) => n + f.size, 0);
  const workers =
    options.workers ??
    // This thread scans too, so one core is already in use.
    (totalBytes < PARALLEL_MIN_BYTES || !canUseWorkers() ? 0 : Math.min(availableParallelism() - 1, 7));
  const results =
    workers > 0
      ? await scanInWorkers(files, options.config, scanBinaries, workers)
      : scanHere(files, config, scanBinaries);

  const collector = new FindingCollector(options.baseline);
  const problems = [...listed.problems];
  let bytes = 0;
  let skipped = listed.skipped;
  for (const r of results) {
    bytes += r.bytes;
    if (r.binary && r.bytes === 0) skipped++;
    if (r.problems) problems.push(...r.problems);
    for (const f of r.findings) collector.add(f);
  }
  return {
    findings: collector.sorted(),
    problems,
    warnings: config.warnings,
    stats: {
      files: results.length - results.filter((r) => r.binary && r.bytes === 0).length,
      bytes,
      durationMs: Math.round(performance.now() - started),
      skippedFiles: skipped,
      rules: selectRules(config).length,
      baselined: collector.baselined,
    },
  };
}

function scanHere(files: FileEntry[], config: ScanConfig, scanBinaries: boolean): FileResult[] {
  const detector = createDetector(config);
  return files.map((f) => scanFile(detector, f, scanBinaries));
}

const workerUrl = new URL('./worker.js', import.meta.url);

/**
 * Workers need the compiled worker module beside this one: absent when running from sources
 * (tests) or from a single-file bundle (an action's dist), where the scan stays on one thread.
 */
function canUseWorkers(): boolean {
  return workerUrl.protocol === 'file:' && existsSync(fileURLToPath(workerUrl));
}

/**
 * Scans on worker threads and on this thread together: this thread starts at once while the
 * workers boot (each compiles the rules and warms its JIT), and every thread takes the next
 * batch when it is free, so one large file never leaves the others idle.
 */
async function scanInWorkers(
  files: FileEntry[],
  config: ScanConfig,
  scanBinaries: boolean,
  count: number,
): Promise<FileResult[]> {
  // Largest files first, so one big file does not finish last on an otherwise idle pool.
  const order = [...files].sort((a, b) => b.size - a.size);
  const batches: FileEntry[][] = [];
  let current: FileEntry[] = [];
  let currentBytes = 0;
  for (const f of order) {
    current.push(f);
    currentBytes += f.size;
    if (currentBytes >= BATCH_BYTES || current.length >= BATCH_FILES) {
      batches.push(current);
      current = [];
      currentBytes = 0;
    }
  }
  if (current.length > 0) batches.push(current);
  const results: FileResult[] = [];
  let next = 0;
  const pool = Array.from(
    { length: Math.min(count, batches.length) },
    () => new Worker(fileURLToPath(workerUrl), { workerData: { config, scanBinaries } }),
  );
  try {
    const workersDone = pool.map(
      (worker) =>
        new Promise<void>((resolve, reject) => {
          // A worker says it is ready (or returns a batch) and is then given the next batch.
          worker.on('message', (reply: WorkerReply | 'ready') => {
            if (reply !== 'ready') results.push(...reply.results);
            if (next >= batches.length) {
              resolve();
              return;
            }
            const id = next++;
            worker.postMessage({ id, files: batches[id]! } satisfies WorkerTask);
          });
          worker.on('error', reject);
          worker.on('exit', (code) => {
            if (code !== 0) reject(new Error(`scan worker stopped with exit code ${code}`));
          });
        }),
    );
    const detector = createDetector(config);
    while (next < batches.length) {
      for (const f of batches[next++]!) results.push(scanFile(detector, f, scanBinaries));
      // Let the workers' messages in between batches.
      await new Promise((resolve) => setImmediate(resolve));
    }
    await Promise.all(workersDone);
  } finally {
    await Promise.all(pool.map((w) => w.terminate()));
  }
  return results;
}

function inShard(path: string, shard: { index: number; count: number }): boolean {
  let h = 2166136261;
  for (let i = 0; i < path.length; i++) h = Math.imul(h ^ path.charCodeAt(i), 16777619);
  return (h >>> 0) % shard.count === shard.index - 1;
}
