import type { ScanResult } from './scan.js';

/** One result from several scans run for one command (files, git, images, archives). */
export function mergeScanResults(results: ScanResult[]): ScanResult {
  const [first, ...rest] = results;
  if (!first) throw new Error('mergeScanResults needs at least one result');
  if (rest.length === 0) return first;
  const merged: ScanResult = {
    findings: results.flatMap((r) => r.findings),
    problems: results.flatMap((r) => r.problems),
    warnings: [...new Set(results.flatMap((r) => r.warnings))],
    stats: {
      files: 0,
      bytes: 0,
      durationMs: 0,
      skippedFiles: 0,
      rules: Math.max(...results.map((r) => r.stats.rules)),
      baselined: 0,
    },
  };
  const config = results.find((r) => r.config)?.config;
  if (config) merged.config = config;
  for (const { stats } of results) {
    merged.stats.files += stats.files;
    merged.stats.bytes += stats.bytes;
    merged.stats.durationMs += stats.durationMs;
    merged.stats.skippedFiles += stats.skippedFiles;
    merged.stats.baselined += stats.baselined;
    if (stats.commits !== undefined) merged.stats.commits = (merged.stats.commits ?? 0) + stats.commits;
  }
  return merged;
}
