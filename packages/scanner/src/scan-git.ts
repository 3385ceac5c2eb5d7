import { FindingCollector } from './collect.js';
import { excludedPaths, type ScanConfig } from './config.js';
import type { ScanProblem } from './finding.js';
import { createDetector } from './rules/builtin.js';
import type { ScanResult } from './scan.js';
import { skipsName } from './sources/files.js';
import { ensureRange, type GitRange, gitFragments, gitTopLevel } from './sources/git.js';

export interface GitScanOptions {
  /** A folder inside the repository. */
  repo: string;
  range: GitRange;
  config: ScanConfig;
  baseline?: ReadonlySet<string>;
  /** Remote to fetch missing history from, for shallow clones (default: origin). */
  remote?: string;
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
  const skipPath = (path: string): boolean =>
    skipsName(path.slice(path.lastIndexOf('/') + 1), config) || excluded?.(path) === true;
  const problems: ScanProblem[] = [];
  const collector = new FindingCollector(options.baseline, { oncePerSecret: true });
  const commits = new Set<string>();
  let bytes = 0;
  let fragments = 0;
  let binaries = 0;
  const source = gitFragments(repo, range, {
    skipPath,
    onBinary: () => binaries++,
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
      skippedFiles: binaries,
      rules: detector.rules.length,
      baselined: collector.baselined,
      commits: commits.size,
    },
  };
}
