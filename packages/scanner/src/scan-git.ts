import picomatch from 'picomatch';
import type { ScanConfig } from './config.js';
import { compareFindings, type Finding, type ScanProblem } from './finding.js';
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
  const pathOnly = config.allowlist
    .filter((a) => a.paths && !a.regexes && !a.stopwords)
    .flatMap((a) => a.paths!);
  const excluded = pathOnly.length > 0 ? picomatch(pathOnly, { dot: true }) : () => false;
  const skipPath = (path: string): boolean => {
    const name = path.slice(path.lastIndexOf('/') + 1);
    return (
      (config.skipLockfiles && isLockfile(name)) ||
      (config.skipBinaries && hasBinaryExtension(name)) ||
      excluded(path)
    );
  };
  const problems: ScanProblem[] = [];
  const findings: Finding[] = [];
  const seen = new Set<string>();
  const commits = new Set<string>();
  let bytes = 0;
  let fragments = 0;
  let baselined = 0;
  let binaries = 0;
  const source = gitFragments(repo, range, { skipPath, onBinary: () => binaries++ });
  for await (const fragment of source) {
    fragments++;
    bytes += fragment.text.length;
    if (fragment.location?.commit) commits.add(fragment.location.commit);
    for (const f of detector.detect(fragment)) {
      const key = `${f.ruleId}:${f.fingerprint}`;
      if (seen.has(key)) continue;
      seen.add(key);
      if (options.baseline?.has(f.fingerprint)) baselined++;
      else findings.push(f);
    }
  }
  findings.sort(compareFindings);
  return {
    findings,
    problems,
    warnings: config.warnings,
    stats: {
      files: fragments,
      bytes,
      durationMs: Math.round(performance.now() - started),
      skippedFiles: binaries,
      rules: detector.rules.length,
      baselined,
      commits: commits.size,
    },
  };
}
