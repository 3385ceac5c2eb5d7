import { FindingCollector } from './collect.js';
import { excludedPaths, type ScanConfig } from './config.js';
import type { ScanProblem } from './finding.js';
import { createDetector } from './rules/builtin.js';
import type { ScanResult } from './scan.js';
import { hasBinaryExtension, isLockfile } from './sources/files.js';
import { ensureRange, type GitRange, gitFragments, gitTopLevel } from './sources/git.js';

export interface GitScanOptions {
  /** A folder inside the repository. */
  repo: string;
  range: GitRange;
  config: ScanConfig;
  baseline?: ReadonlySet<string>;
  /** Remote to fetch missing history from, for shallow clones (default: origin). */
  remote?: string;
  /** Scan binary blobs too (default: the config's `skip.binaries`, as in folder mode). */
  scanBinaries?: boolean;
}

/**
 * Scans the added lines of a commit range, all history, or the staged changes. Each secret is
 * reported once, at the first commit (oldest first) that added it: a secret added and then
 * removed inside a pull request is still reported, since it stays in history.
 */
export async function scanGit(options: GitScanOptions): Promise<ScanResult> {
  const started = performance.now();
  const { config, range } = options;
  const repo = gitTopLevel(options.repo);
  if (range.kind === 'diff') ensureRange(repo, range.base, range.head, options.remote);
  const detector = createDetector(config);
  const excluded = excludedPaths(config);
  const scanBinaries = options.scanBinaries ?? !config.skipBinaries;
  const skipReason = (path: string): string | undefined => {
    const name = path.slice(path.lastIndexOf('/') + 1);
    if (config.skipLockfiles && isLockfile(name)) return 'lock file (--include-lockfiles scans it)';
    if (!scanBinaries && hasBinaryExtension(name)) return 'binary file type (--scan-binaries scans it)';
    if (excluded?.(path)) return 'path allow-listed in the config';
    return undefined;
  };
  const problems: ScanProblem[] = [];
  const collector = new FindingCollector(options.baseline, { oncePerSecret: true });
  const commits = new Set<string>();
  let bytes = 0;
  let fragments = 0;
  let skipped = 0;
  const source = gitFragments(repo, range, {
    skipReason,
    scanBinaries,
    // Every file left out is named, so a pull request cannot hide one from the scan unnoticed.
    onSkip: (path, commit, reason) => {
      skipped++;
      const at = commit && commit !== 'staged' ? ` in commit ${commit.slice(0, 12)}` : '';
      problems.push({ kind: 'skipped', path, message: `skipped${at}: ${reason}` });
    },
    onCommit: (sha) => commits.add(sha),
  });
  for await (const fragment of source) {
    fragments++;
    bytes += fragment.text.length;
    for (const f of detector.detect(fragment)) collector.add(f);
    problems.push(...detector.problems.splice(0));
  }
  return {
    findings: collector.sorted(),
    problems,
    warnings: config.warnings,
    stats: {
      files: fragments,
      bytes,
      durationMs: Math.round(performance.now() - started),
      skippedFiles: skipped,
      rules: detector.rules.length,
      baselined: collector.baselined,
      commits: commits.size,
    },
  };
}
