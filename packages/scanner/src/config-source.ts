import { spawnSync } from 'node:child_process';
import { existsSync, lstatSync, realpathSync, statSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { ErrorCode, KeyfenceError } from '@keyfence/core';
import { Baseline, parseBaseline, readBaseline } from './baseline.js';
import {
  type AllowEntrySpec,
  CONFIG_FILE_NAMES,
  defaultConfig,
  findConfigFile,
  loadConfig,
  parseConfig,
  type ScanConfig,
} from './config.js';
import { BASELINE_MAX_BYTES, CONFIG_MAX_BYTES, readTextFile } from './sources/files.js';

/**
 * Where the settings in force came from: the base commit of a diff (what the pull request cannot
 * change), the checkout, a file named explicitly, a file named explicitly inside the pull
 * request's own checkout, or the built-in defaults.
 */
export type SettingsOrigin = 'base-commit' | 'checkout' | 'explicit' | 'pull-request' | 'defaults';

/** One settings file in force (config or baseline), named for reports. */
export interface SettingsSource {
  origin: SettingsOrigin;
  /** The file, repository-relative when it comes from a commit. */
  path?: string;
  /** The commit it was read from (origin `base-commit`). */
  commit?: string;
}

/** The config and baseline a scan used, and what the checkout would have changed but did not. */
export interface ConfigInForce {
  config: SettingsSource;
  baseline?: SettingsSource;
  /** Changes the pull request makes to the config or baseline, not applied until they land on the base. */
  ignoredChanges: string[];
}

export interface TrustedSettingsOptions {
  /** The repository's top level. */
  repo: string;
  /** The commit (or revision) whose config and baseline are trusted: the diff's base. */
  base: string;
  /** Where `.keyfence.yaml` is looked up (the scan root), absolute. */
  searchDir: string;
  /** A config file named by the user: used as given, named by `explicitOrigin`. */
  explicitConfig?: string;
  /** How an explicit config inside the repository is named (default: `pull-request`). */
  explicitOrigin?: SettingsOrigin;
  /** The baseline named by the user, absolute: read from the base commit when inside the repository. */
  baseline?: string;
}

/** Config and baseline for a diff scan, read from the base commit rather than from the checkout. */
export function loadTrustedSettings(options: TrustedSettingsOptions): {
  config: ScanConfig;
  baseline?: Baseline;
  inForce: ConfigInForce;
} {
  const { repo } = options;
  const base = commitSha(repo, options.base);
  const ignoredChanges: string[] = [];
  let config: ScanConfig;
  let configSource: SettingsSource;
  if (options.explicitConfig) {
    refuseLink(repo, options.explicitConfig, 'config');
    config = loadConfig(options.explicitConfig);
    const inRepo = repoPath(repo, options.explicitConfig);
    configSource = {
      origin: inRepo === undefined ? 'explicit' : (options.explicitOrigin ?? 'pull-request'),
      path: inRepo ?? options.explicitConfig,
    };
  } else {
    const dir = repoPath(repo, options.searchDir) ?? '';
    const candidates = CONFIG_FILE_NAMES.map((n) => (dir === '' ? n : `${dir}/${n}`));
    let atBase: string | undefined;
    let baseText: string | undefined;
    for (const p of candidates) {
      baseText = blobAt(repo, base, p);
      if (baseText !== undefined) {
        atBase = p;
        break;
      }
    }
    const checkoutFile = findConfigFile(options.searchDir);
    const checkoutPath = checkoutFile ? (repoPath(repo, checkoutFile) ?? checkoutFile) : undefined;
    if (atBase !== undefined && baseText !== undefined) {
      config = parseConfig(baseText, `${atBase} at ${base.slice(0, 12)}`);
      configSource = { origin: 'base-commit', path: atBase, commit: base };
    } else {
      config = defaultConfig();
      configSource = { origin: 'defaults' };
    }
    const kind = checkoutFile ? lstatSync(checkoutFile) : undefined;
    if (checkoutFile && kind?.isSymbolicLink()) {
      // Never read what a pull request's symlink points at (it could be any file on the runner).
      ignoredChanges.push(`${checkoutPath ?? checkoutFile} is a symbolic link: not read`);
    } else if (checkoutFile && !kind?.isFile()) {
      // A folder in the config's place must not crash the scan (and so hide its findings).
      ignoredChanges.push(`${checkoutPath ?? checkoutFile} is not a file: not read`);
    } else if (checkoutFile) {
      const text = readCheckoutText(checkoutFile, CONFIG_MAX_BYTES);
      if (text === undefined) {
        ignoredChanges.push(`${checkoutPath ?? checkoutFile} cannot be read: not applied`);
      } else if (text !== baseText) {
        ignoredChanges.push(
          ...configChanges(config, text, checkoutPath ?? checkoutFile, atBase !== undefined),
        );
      }
    } else if (atBase) {
      ignoredChanges.push(`${atBase} is deleted: its settings stay in force`);
    }
  }
  const result: ReturnType<typeof loadTrustedSettings> = {
    config,
    inForce: { config: configSource, ignoredChanges },
  };
  if (options.baseline) {
    refuseLink(repo, options.baseline, 'baseline');
    const inRepo = repoPath(repo, options.baseline);
    if (inRepo === undefined) {
      result.baseline = readBaseline(options.baseline);
      result.inForce.baseline = { origin: 'explicit', path: options.baseline };
    } else {
      const text = blobAt(repo, base, inRepo);
      const trusted =
        text === undefined ? new Baseline(inRepo) : parseBaseline(text, `${inRepo} at ${base.slice(0, 12)}`);
      if (text !== undefined) {
        result.baseline = trusted;
        result.inForce.baseline = { origin: 'base-commit', path: inRepo, commit: base };
      }
      const kind = existsSync(options.baseline) ? lstatSync(options.baseline) : undefined;
      if (kind && !kind.isSymbolicLink() && !kind.isFile()) {
        ignoredChanges.push(`${inRepo} in the pull request is not a file: not read`);
      } else if (kind && !kind.isSymbolicLink()) {
        const proposedText = readCheckoutText(options.baseline, BASELINE_MAX_BYTES);
        const proposed = proposedText === undefined ? undefined : tryParseBaseline(proposedText, inRepo);
        const added = proposed ? [...proposed].filter((f) => !trusted.has(f)).length : 0;
        if (proposed === undefined)
          ignoredChanges.push(`${inRepo} in the pull request is not a valid baseline`);
        else if (text === undefined)
          ignoredChanges.push(
            `${inRepo} is new, with ${plural(proposed.size, 'entry', 'entries')}: not used`,
          );
        else if (added > 0)
          ignoredChanges.push(`${inRepo} adds ${plural(added, 'entry', 'entries')}: not used`);
      }
    }
  }
  return result;
}

export interface CheckoutSettingsOptions {
  /** A config file named by the user (absolute); else `.keyfence.yaml` is looked up from `searchFrom`. */
  explicitConfig?: string;
  /** Where the scan starts: a folder, or a file whose folder is searched. */
  searchFrom: string;
  /** The baseline file (absolute) and how the user wrote it, for reports. */
  baseline?: { file: string; label: string };
  /** Config paths in reports are relative to this folder when inside it. */
  relativeTo: string;
}

/** Config and baseline as the checkout has them: files and scans without a trusted base commit. */
export function loadCheckoutSettings(options: CheckoutSettingsOptions): {
  config: ScanConfig;
  baseline?: Baseline;
  inForce: ConfigInForce;
} {
  const { explicitConfig } = options;
  const found = explicitConfig ?? findConfigFile(folderOf(options.searchFrom));
  const config = found ? loadConfig(found) : defaultConfig();
  const inForce: ConfigInForce = {
    config: checkoutSource(config, explicitConfig !== undefined, options.relativeTo),
    ignoredChanges: [],
  };
  if (!options.baseline) return { config, inForce };
  inForce.baseline = { origin: 'checkout', path: options.baseline.label };
  return { config, baseline: readBaseline(options.baseline.file), inForce };
}

/** The folder a scan path names, or the one holding the file it names (a missing path as given). */
export function folderOf(path: string): string {
  try {
    return statSync(path).isDirectory() ? path : dirname(path);
  } catch {
    return path;
  }
}

/** What the checkout's config text would change against the config in force, in words. */
export function configChanges(trusted: ScanConfig, text: string, path: string, existed: boolean): string[] {
  let proposed: ScanConfig;
  try {
    proposed = parseConfig(text, path);
  } catch {
    return [`${path} in the pull request is not a valid config`];
  }
  const changes: string[] = [];
  const label = existed ? path : `${path} (new)`;
  if (trusted.useDefaultRules && !proposed.useDefaultRules)
    changes.push(`${label} turns off the built-in rules`);
  const disabled = proposed.disabledRules.filter((r) => !trusted.disabledRules.includes(r));
  if (disabled.length > 0) changes.push(`${label} disables rules: ${disabled.join(', ')}`);
  const removedRules = trusted.rules
    .map((r) => r.id)
    .filter((id) => !proposed.rules.some((r) => r.id === id));
  if (removedRules.length > 0) changes.push(`${label} removes rules: ${removedRules.join(', ')}`);
  const known = new Set(trusted.allowlist.map((a) => JSON.stringify(a)));
  for (const entry of proposed.allowlist.filter((a) => !known.has(JSON.stringify(a)))) {
    changes.push(`${label} adds an allowlist entry: ${describeAllow(entry)}`);
  }
  const skips: [keyof ScanConfig, string][] = [
    ['skipLockfiles', 'lock files'],
    ['skipBinaries', 'binary files'],
  ];
  for (const [key, what] of skips) {
    if (!trusted[key] && proposed[key]) changes.push(`${label} skips ${what}`);
  }
  if (proposed.maxDecodeDepth < trusted.maxDecodeDepth)
    changes.push(`${label} lowers maxDecodeDepth to ${proposed.maxDecodeDepth}`);
  if (changes.length === 0) changes.push(`${label} changes settings (none that would hide findings)`);
  return changes.map((c) => `${c} (not applied until it is on the base branch)`);
}

/** Paths are named; regexes and stopwords only counted, since a pull request could spell a secret in them. */
function describeAllow(entry: AllowEntrySpec): string {
  const parts: string[] = [];
  if (entry.paths)
    parts.push(`paths ${entry.paths.map((p) => (p.length > 80 ? `${p.slice(0, 80)}…` : p)).join(', ')}`);
  if (entry.regexes) parts.push(plural(entry.regexes.length, 'regex', 'regexes'));
  if (entry.stopwords) parts.push(plural(entry.stopwords.length, 'stopword', 'stopwords'));
  return parts.join('; ');
}

/** A settings file of the checkout, bounded as every settings read is; undefined when it cannot be read. */
function readCheckoutText(file: string, maxBytes: number): string | undefined {
  try {
    return readTextFile(file, maxBytes);
  } catch {
    return undefined;
  }
}

function tryParseBaseline(text: string, path: string): Baseline | undefined {
  try {
    return parseBaseline(text, path);
  } catch {
    return undefined;
  }
}

/** A file's text at a commit, or undefined when it is not there (read raw: no textconv). */
export function blobAt(repo: string, commit: string, path: string): string | undefined {
  const r = spawnSync('git', ['cat-file', 'blob', `${commit}:${path}`], {
    cwd: repo,
    encoding: 'utf8',
    maxBuffer: 16 * 1024 * 1024,
  });
  return r.status === 0 ? r.stdout : undefined;
}

function commitSha(repo: string, rev: string): string {
  const r = spawnSync('git', ['rev-parse', '--verify', '--quiet', `${rev}^{commit}`], {
    cwd: repo,
    encoding: 'utf8',
  });
  return r.status === 0 ? r.stdout.trim() : rev;
}

/** A path as git names it from the repository's top, or undefined when outside the repository. */
function repoPath(repo: string, file: string): string | undefined {
  // git names the top level by its real path; compare like with like behind a symlinked workspace.
  // The folder's real path, not the file's: a symlinked file is named where it sits.
  const dir = dirname(file);
  const real = existsSync(dir) ? join(realpathSync(dir), basename(file)) : file;
  const rel = relative(realpathSync(repo), real);
  if (rel.startsWith('..') || isAbsolute(rel)) return undefined;
  return rel.split(sep).join('/');
}

/**
 * A settings file named inside the checkout must not be reached through a symbolic link: the
 * pull request could aim it at any file on the runner, and a parse error would quote it.
 */
function refuseLink(repo: string, file: string, what: string): void {
  for (const top of [resolve(repo), realpathSync(repo)]) {
    const rel = relative(top, resolve(file));
    if (rel === '' || rel.startsWith('..') || isAbsolute(rel)) continue;
    let at = top;
    for (const part of rel.split(sep)) {
      at = join(at, part);
      if (!existsSync(at) && !isLink(at)) return;
      if (isLink(at)) {
        throw new KeyfenceError(
          ErrorCode.INPUT_UNREADABLE,
          `${what} ${rel.split(sep).join('/')} leads through a symbolic link in the checkout: not read`,
          { hint: `a pull request can point a link anywhere on the runner; keep the ${what} a regular file` },
        );
      }
    }
    return;
  }
}

function isLink(path: string): boolean {
  try {
    return lstatSync(path).isSymbolicLink();
  } catch {
    return false;
  }
}

function plural(n: number, one: string, many: string): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** The settings source of a config read from the checkout (or the defaults), for reports. */
export function checkoutSource(config: ScanConfig, explicit: boolean, relativeTo?: string): SettingsSource {
  if (!config.source) return { origin: 'defaults' };
  const rel = relativeTo ? relative(relativeTo, config.source) : '';
  const path =
    rel !== '' && !rel.startsWith('..') && !isAbsolute(rel) ? rel.split(sep).join('/') : config.source;
  return { origin: explicit ? 'explicit' : 'checkout', path };
}

/** Words for a settings source: "`.keyfence.yaml` from the base commit 0123abcd". */
export function describeSource(source: SettingsSource): string {
  switch (source.origin) {
    case 'base-commit':
      return `${source.path} from the base commit ${source.commit?.slice(0, 12) ?? ''}`;
    case 'checkout':
      return `${source.path} from the checkout`;
    case 'explicit':
      return `${source.path} (given explicitly)`;
    case 'pull-request':
      return `${source.path}: config from the pull request itself`;
    case 'defaults':
      return 'the built-in defaults (no config file)';
  }
}
