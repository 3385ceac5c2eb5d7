import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { ErrorCode, KeyfenceError } from '@keyfence/core';
import {
  type ArchiveInput,
  type Baseline,
  type ConfigInForce,
  ensureRange,
  FINGERPRINT_KEY_ENV,
  fingerprintSettings,
  folderOf,
  type GitRange,
  gitTopLevel,
  isArchiveGlob,
  loadCheckoutSettings,
  loadTrustedSettings,
  matchArchiveArgs,
  mergeScanResults,
  parsePlatform,
  type ScanConfig,
  type ScanResult,
  scanArchives,
  scanGit,
  scanImages,
  scanPaths,
} from '@keyfence/scanner';
import { usageError } from '../args.js';
import type { Io } from '../io.js';
import { VERSION } from '../version.js';
import { type LimitValues, limitsFromArgs } from './inputs.js';

/** Options shared by `scan` and `baseline`. */
export const SCAN_OPTIONS = {
  config: { type: 'string' },
  baseline: { type: 'string' },
  'no-ignore': { type: 'boolean' },
  'include-lockfiles': { type: 'boolean' },
  'scan-binaries': { type: 'boolean' },
  'follow-symlinks': { type: 'boolean' },
  workers: { type: 'string' },
  shard: { type: 'string' },
  diff: { type: 'string' },
  history: { type: 'boolean' },
  since: { type: 'string' },
  staged: { type: 'boolean' },
  image: { type: 'string', multiple: true },
  'image-archive': { type: 'string', multiple: true },
  archive: { type: 'string', multiple: true },
  platform: { type: 'string' },
  'insecure-registry': { type: 'string', multiple: true },
  'archive-max-depth': { type: 'string' },
  'archive-max-total-size': { type: 'string' },
  'archive-max-entry-size': { type: 'string' },
  'archive-max-entries': { type: 'string' },
  'archive-max-ratio': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

export interface CommonValues extends LimitValues {
  image?: string[] | undefined;
  'image-archive'?: string[] | undefined;
  archive?: string[] | undefined;
  platform?: string | undefined;
  'insecure-registry'?: string[] | undefined;
  config?: string | undefined;
  baseline?: string | undefined;
  'no-ignore'?: boolean | undefined;
  'include-lockfiles'?: boolean | undefined;
  'scan-binaries'?: boolean | undefined;
  'follow-symlinks'?: boolean | undefined;
  workers?: string | undefined;
  shard?: string | undefined;
  diff?: string | undefined;
  history?: boolean | undefined;
  since?: string | undefined;
  staged?: boolean | undefined;
}

/** The fingerprint key from the environment (KEYFENCE_FINGERPRINT_KEY), if set. */
export function fingerprintKey(io: Io): string | undefined {
  const key = (io.env ?? process.env)[FINGERPRINT_KEY_ENV];
  return key === '' ? undefined : key;
}

/** The git range the flags ask for, if any. */
export function gitRangeFromArgs(values: CommonValues): GitRange | undefined {
  const modes = [values.diff !== undefined, values.history === true, values.staged === true].filter(
    Boolean,
  ).length;
  if (modes > 1) throw usageError('--diff, --history and --staged cannot be combined', 'pick one git mode');
  if (values.since !== undefined && !values.history) {
    throw usageError('--since only applies to --history', 'e.g. keyfence scan --history --since v1.2.0');
  }
  if (values.diff !== undefined) {
    const m = /^(.+?)\.\.(.+)$/.exec(values.diff);
    if (!m || m[1]!.endsWith('.') || m[2]!.startsWith('.')) {
      throw usageError(`--diff takes BASE..HEAD (got "${values.diff}")`, 'e.g. --diff origin/main..HEAD');
    }
    return { kind: 'diff', base: m[1]!, head: m[2]! };
  }
  if (values.history) return values.since ? { kind: 'history', since: values.since } : { kind: 'history' };
  if (values.staged) return { kind: 'staged' };
  return undefined;
}

/**
 * Loads the config (given, or found at the first folder scanned) and runs the scans the flags ask
 * for: folders and files (default: . when nothing else is asked), a git range, images, archives.
 */
export async function runScanFromArgs(
  values: CommonValues,
  positionals: string[],
  io: Io,
  /** The baseline, when the caller has read it already (to see what it accepted). */
  readAlready?: Baseline,
  /** False when no output shows fingerprints (a text report): without a key, scrypt is skipped. */
  reportsFingerprints = true,
): Promise<ScanResult> {
  const images = values.image ?? [];
  const imageArchives = values['image-archive'] ?? [];
  const archiveArgs = values.archive ?? [];
  const range = gitRangeFromArgs(values);
  const otherInputs = images.length + imageArchives.length + archiveArgs.length > 0;
  const scanFiles = positionals.length > 0 || range !== undefined || !otherInputs;
  if (!otherInputs && (values.platform !== undefined || values['insecure-registry'] !== undefined)) {
    throw usageError(
      '--platform and --insecure-registry apply to images',
      'add --image REF or --image-archive FILE',
    );
  }
  const paths = positionals.length > 0 ? positionals : ['.'];
  const absolute = paths.map((p) => resolve(io.cwd, p));
  if (scanFiles) {
    absolute.forEach((abs, i) => {
      if (!existsSync(abs)) {
        throw new KeyfenceError(ErrorCode.INPUT_NOT_FOUND, `no such file or folder: ${paths[i]}`, {
          hint: 'check the path; keyfence scan takes folders and files, e.g. `keyfence scan .`',
        });
      }
    });
  }
  const trusted = readSettings(values, range, scanFiles ? absolute[0]! : io.cwd, io);
  const { config, inForce } = trusted;
  if (values['no-ignore']) config.respectGitignore = false;
  if (values['include-lockfiles']) config.skipLockfiles = false;
  const baseline = readAlready ?? trusted.baseline;
  const fingerprints = fingerprintSettings(fingerprintKey(io), baseline, reportsFingerprints);
  config.fingerprint = fingerprints.settings;
  config.warnings.push(...fingerprints.warnings);
  const limits = limitsFromArgs(values);
  if (values.platform !== undefined) parsePlatform(values.platform);
  // Inputs are checked before any scan starts, so a typo fails fast.
  const archives = expandArchiveFlags(archiveArgs, io.cwd);
  const settings = {
    config,
    limits,
    ...(baseline ? { baseline } : {}),
    ...(values['scan-binaries'] ? { scanBinaries: true } : {}),
  };
  const results: ScanResult[] = [];
  if (scanFiles) results.push(await scanFilesFromArgs(values, absolute, config, baseline, range));
  if (archives.length > 0) results.push(await scanArchives({ ...settings, archives }));
  if (images.length + imageArchives.length > 0) {
    results.push(
      await scanImages({
        ...settings,
        images,
        imageArchives: imageArchives.map((a) => ({ file: resolve(io.cwd, a), name: a })),
        ...(values.platform !== undefined ? { platform: values.platform } : {}),
        insecureRegistries: values['insecure-registry'] ?? [],
        ...(io.env ? { env: io.env } : {}),
        userAgent: `keyfence/${VERSION}`,
      }),
    );
  }
  const merged = mergeScanResults(results);
  merged.config = inForce;
  return merged;
}

/**
 * The config and baseline in force. With --diff they come from the base commit (the range's
 * changes to them are reported, not obeyed) unless --config names a file; otherwise from the checkout.
 */
function readSettings(
  values: CommonValues,
  range: GitRange | undefined,
  firstPath: string,
  io: Io,
): { config: ScanConfig; baseline?: Baseline | undefined; inForce: ConfigInForce } {
  const explicitConfig = values.config ? resolve(io.cwd, values.config) : undefined;
  const baselineFile = values.baseline ? resolve(io.cwd, values.baseline) : undefined;
  if (range?.kind === 'diff') {
    const repo = gitTopLevel(folderOf(firstPath));
    ensureRange(repo, range.base, range.head);
    const trusted = loadTrustedSettings({
      repo,
      base: range.base,
      searchDir: folderOf(firstPath),
      explicitOrigin: 'explicit',
      ...(explicitConfig ? { explicitConfig } : {}),
      ...(baselineFile ? { baseline: baselineFile } : {}),
    });
    return { config: trusted.config, baseline: trusted.baseline, inForce: trusted.inForce };
  }
  return loadCheckoutSettings({
    ...(explicitConfig ? { explicitConfig } : {}),
    searchFrom: firstPath,
    ...(baselineFile ? { baseline: { file: baselineFile, label: values.baseline! } } : {}),
    relativeTo: io.cwd,
  });
}

async function scanFilesFromArgs(
  values: CommonValues,
  absolute: string[],
  config: ScanConfig,
  baseline: ReadonlySet<string> | undefined,
  range: GitRange | undefined,
): Promise<ScanResult> {
  if (range) {
    if (absolute.length > 1)
      throw usageError('the git modes scan one repository', 'pass one folder inside it (default: .)');
    return scanGit({
      repo: absolute[0]!,
      range,
      config,
      ...(baseline ? { baseline } : {}),
      ...(values['scan-binaries'] ? { scanBinaries: true } : {}),
    });
  }
  const options: Parameters<typeof scanPaths>[0] = { paths: absolute, config };
  if (values['scan-binaries']) options.scanBinaries = true;
  if (values['follow-symlinks']) options.followSymlinks = true;
  if (baseline) options.baseline = baseline;
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

/** The files `--archive` names; an argument that matches nothing is an error here (a warning in the action). */
function expandArchiveFlags(args: string[], cwd: string): ArchiveInput[] {
  const { archives, unmatched } = matchArchiveArgs(args, cwd);
  const [first] = unmatched;
  if (first === undefined) return archives;
  if (!isArchiveGlob(first)) {
    throw new KeyfenceError(ErrorCode.INPUT_NOT_FOUND, `no such archive: ${first}`, {
      hint: 'check the path given to --archive (quote globs: --archive "dist/*.zip")',
    });
  }
  throw new KeyfenceError(ErrorCode.INPUT_NOT_FOUND, `no file matches --archive ${first}`, {
    hint: 'check the pattern; it is matched relative to the current folder',
  });
}
