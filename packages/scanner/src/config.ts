import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ErrorCode, KeyfenceError } from '@keyfence/core';
import { type Document, LineCounter, parseDocument } from 'yaml';
import type { AllowEntry } from './engine/detector.js';
import type { FingerprintSettings } from './engine/fingerprint.js';
import { validateRuleSpec } from './rules/compile.js';
import {
  compileLinearGlobs,
  compileLinearRegex,
  linearGlobProblem,
  linearRegexProblem,
} from './rules/linear.js';
import type { RuleSpec } from './rules/types.js';
import { CONFIG_MAX_BYTES, readFailure, readTextFile } from './sources/files.js';

/** File names looked up at the scan root, in this order. */
export const CONFIG_FILE_NAMES = ['.keyfence.yaml', '.keyfence.yml'];

/** A config allowlist entry as written (serialisable, so it can cross into worker threads). */
export interface AllowEntrySpec {
  description?: string;
  paths?: string[];
  regexes?: string[];
  regexTarget?: 'secret' | 'match' | 'line';
  stopwords?: string[];
}

/** What a `.keyfence.yaml` says, validated. */
export interface ScanConfig {
  source?: string;
  useDefaultRules: boolean;
  rules: RuleSpec[];
  disabledRules: string[];
  allowlist: AllowEntrySpec[];
  skipLockfiles: boolean;
  skipBinaries: boolean;
  respectGitignore: boolean;
  maxDecodeDepth: number;
  /** Set by the caller from the environment or an action input, never read from the file. */
  fingerprint?: FingerprintSettings;
  /** Notices for the user (an old baseline, a fingerprint key that does not fit it), not fatal. */
  warnings: string[];
}

/** The settings used when there is no config file (fresh lists each call: callers may add to them). */
export function defaultConfig(): ScanConfig {
  return {
    useDefaultRules: true,
    rules: [],
    disabledRules: [],
    allowlist: [],
    skipLockfiles: true,
    skipBinaries: true,
    respectGitignore: true,
    maxDecodeDepth: 2,
    warnings: [],
  };
}

const TOP_KEYS = ['useDefaultRules', 'rules', 'disabledRules', 'allowlist', 'skip', 'maxDecodeDepth'];
const ALLOW_KEYS = ['description', 'paths', 'regexes', 'regexTarget', 'stopwords'];
const SKIP_KEYS = ['lockfiles', 'binaries', 'gitignore'];

/** Finds the config file for a scan root, if any. */
export function findConfigFile(root: string): string | undefined {
  return CONFIG_FILE_NAMES.map((n) => join(root, n)).find((p) => existsSync(p));
}

/** Reads and validates a config file; every problem is reported at once with its line. */
export function loadConfig(file: string): ScanConfig {
  let text: string;
  try {
    text = readTextFile(file, CONFIG_MAX_BYTES);
  } catch (e) {
    throw new KeyfenceError(
      ErrorCode.INPUT_UNREADABLE,
      `cannot read config file ${file}: ${readFailure(e)}`,
      {
        hint: (names) => `check the path given to ${names.name('config')} and its permissions`,
        cause: e,
      },
    );
  }
  return parseConfig(text, file);
}

/** Parses config text (exported for tests and for configs that arrive inline). */
export function parseConfig(text: string, source: string): ScanConfig {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: true });
  const problems: string[] = [];
  const at = (path: (string | number)[]): string => {
    const node = doc.getIn(path, true) as { range?: [number, number, number] } | undefined;
    const range = node?.range ?? (doc.contents as { range?: [number, number, number] } | null)?.range;
    return range ? `${source}:${lines.linePos(range[0]).line}` : source;
  };
  for (const err of doc.errors) {
    problems.push(
      `${source}:${err.linePos?.[0].line ?? '?'}: ${err.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '')}`,
    );
  }
  if (problems.length > 0) throw configError(source, problems);
  let raw: unknown;
  try {
    raw = doc.toJS() ?? {};
  } catch (e) {
    // The YAML library refuses alias bombs (and other documents too costly to expand) here.
    throw configError(source, [`${source}: ${(e as Error).message}`]);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw configError(source, [`${source}:1: the config must be a mapping (keys: ${TOP_KEYS.join(', ')})`]);
  }
  const r = raw as Record<string, unknown>;
  const config: ScanConfig = { ...defaultConfig(), source };
  for (const key of Object.keys(r)) {
    if (!TOP_KEYS.includes(key))
      problems.push(`${at([key])}: unknown key "${key}" (known: ${TOP_KEYS.join(', ')})`);
  }
  if (r.useDefaultRules !== undefined) {
    if (typeof r.useDefaultRules !== 'boolean')
      problems.push(`${at(['useDefaultRules'])}: useDefaultRules must be true or false`);
    else config.useDefaultRules = r.useDefaultRules;
  }
  if (r.maxDecodeDepth !== undefined) {
    const d = r.maxDecodeDepth;
    if (!Number.isInteger(d) || (d as number) < 0 || (d as number) > 5) {
      problems.push(`${at(['maxDecodeDepth'])}: maxDecodeDepth must be an integer from 0 to 5`);
    } else config.maxDecodeDepth = d as number;
  }
  config.disabledRules = stringList(r.disabledRules, 'disabledRules', at, problems);
  readSkip(r.skip, config, at, problems);
  const globs =
    countGlobs(r.allowlist) +
    (Array.isArray(r.rules) ? r.rules : []).reduce(
      (n: number, rule: unknown) => n + countGlobs([(rule as { allowlist?: unknown } | null)?.allowlist]),
      0,
    );
  if (globs > MAX_PATH_GLOBS) {
    // Every file is matched against every glob: a config with a few hundred thousand took minutes.
    problems.push(
      `${source}: ${globs} path globs; at most ${MAX_PATH_GLOBS} (use ** and {a,b} to cover more)`,
    );
    throw configError(source, problems);
  }
  readAllowlist(doc, r.allowlist, config, at, problems);
  readRules(r.rules, config, source, at, problems);
  if (problems.length > 0) throw configError(source, problems);
  return config;
}

type At = (path: (string | number)[]) => string;

function stringList(
  v: unknown,
  field: string,
  at: At,
  problems: string[],
  path: (string | number)[] = [field],
): string[] {
  if (v === undefined) return [];
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) {
    problems.push(`${at(path)}: ${field} must be a list of strings`);
    return [];
  }
  return v as string[];
}

function readSkip(v: unknown, config: ScanConfig, at: At, problems: string[]): void {
  if (v === undefined) return;
  if (typeof v !== 'object' || v === null || Array.isArray(v)) {
    problems.push(`${at(['skip'])}: skip must be a mapping (keys: ${SKIP_KEYS.join(', ')})`);
    return;
  }
  for (const [key, value] of Object.entries(v)) {
    if (!SKIP_KEYS.includes(key)) {
      problems.push(`${at(['skip', key])}: unknown key "skip.${key}" (known: ${SKIP_KEYS.join(', ')})`);
    } else if (typeof value !== 'boolean') {
      problems.push(`${at(['skip', key])}: skip.${key} must be true or false`);
    } else if (key === 'lockfiles') config.skipLockfiles = value;
    else if (key === 'binaries') config.skipBinaries = value;
    else config.respectGitignore = value;
  }
}

/** Path globs a config may hold in all (allowlist and rule allowlists). */
const MAX_PATH_GLOBS = 1000;

function countGlobs(entries: unknown): number {
  if (!Array.isArray(entries)) return 0;
  return entries.reduce((n: number, e: unknown) => {
    const paths = (e as { paths?: unknown } | null)?.paths;
    return n + (Array.isArray(paths) ? paths.length : 0);
  }, 0);
}

function readAllowlist(doc: Document, v: unknown, config: ScanConfig, at: At, problems: string[]): void {
  if (v === undefined) return;
  const entries = Array.isArray(v) ? v : [v];
  const base: (string | number)[] = Array.isArray(v) ? ['allowlist'] : [];
  entries.forEach((e, i) => {
    const path = Array.isArray(v) ? [...base, i] : ['allowlist'];
    if (typeof e !== 'object' || e === null || Array.isArray(e)) {
      problems.push(`${at(path)}: each allowlist entry must be a mapping (keys: ${ALLOW_KEYS.join(', ')})`);
      return;
    }
    const entry = e as Record<string, unknown>;
    for (const key of Object.keys(entry)) {
      if (!ALLOW_KEYS.includes(key)) {
        problems.push(
          `${at([...path, key])}: unknown key "${key}" in allowlist (known: ${ALLOW_KEYS.join(', ')})`,
        );
      }
    }
    const spec: AllowEntrySpec = {};
    if (typeof entry.description === 'string') spec.description = entry.description;
    const paths = stringList(entry.paths, 'paths', at, problems, [...path, 'paths']);
    const regexes = stringList(entry.regexes, 'regexes', at, problems, [...path, 'regexes']);
    const stopwords = stringList(entry.stopwords, 'stopwords', at, problems, [...path, 'stopwords']);
    paths.forEach((glob, j) => {
      const problem = linearGlobProblem(glob);
      if (problem) problems.push(`${at([...path, 'paths', j])}: allowlist paths[${j}]: ${problem}`);
    });
    regexes.forEach((re, j) => {
      const problem = linearRegexProblem(re);
      if (problem) problems.push(`${at([...path, 'regexes', j])}: allowlist regexes[${j}]: ${problem}`);
    });
    if (entry.regexTarget !== undefined) {
      if (!['secret', 'match', 'line'].includes(entry.regexTarget as string)) {
        problems.push(`${at([...path, 'regexTarget'])}: regexTarget must be secret, match or line`);
      } else spec.regexTarget = entry.regexTarget as 'secret' | 'match' | 'line';
    }
    if (paths.length > 0) spec.paths = paths;
    if (regexes.length > 0) spec.regexes = regexes;
    if (stopwords.length > 0) spec.stopwords = stopwords.map((s) => s.toLowerCase());
    if (!spec.paths && !spec.regexes && !spec.stopwords) {
      problems.push(`${at(path)}: an allowlist entry needs paths, regexes or stopwords`);
    }
    config.allowlist.push(spec);
  });
  void doc;
}

function readRules(v: unknown, config: ScanConfig, source: string, at: At, problems: string[]): void {
  if (v === undefined) return;
  if (!Array.isArray(v)) {
    problems.push(`${at(['rules'])}: rules must be a list of rules`);
    return;
  }
  v.forEach((spec, i) => {
    for (const p of validateRuleSpec(spec, source)) {
      problems.push(
        `${at(['rules', i, p.field.split('.')[0] ?? ''])}: rule "${p.ruleId}": ${p.field}: ${p.message}`,
      );
    }
    // A user's regex runs on the linear-time engine, so syntax it lacks is an error here, with
    // its line, rather than a surprise at scan time.
    const rule = spec as RuleSpec;
    const ruleProblems: string[] = [];
    if (typeof rule.regex === 'string' && rule.regex !== '') {
      const problem = linearRegexProblem(rule.regex, typeof rule.flags === 'string' ? rule.flags : '');
      if (problem) ruleProblems.push(`${at(['rules', i, 'regex'])}: rule "${rule.id}": regex: ${problem}`);
    }
    const allowPaths = (rule.allowlist as { paths?: unknown } | undefined)?.paths;
    if (Array.isArray(allowPaths)) {
      allowPaths.forEach((glob, j) => {
        const problem = typeof glob === 'string' ? linearGlobProblem(glob) : undefined;
        if (problem) {
          ruleProblems.push(
            `${at(['rules', i, 'allowlist', 'paths', j])}: rule "${rule.id}": allowlist.paths[${j}]: ${problem}`,
          );
        }
      });
    }
    const allowRegexes = (rule.allowlist as { regexes?: unknown } | undefined)?.regexes;
    if (Array.isArray(allowRegexes)) {
      allowRegexes.forEach((re, j) => {
        const problem = typeof re === 'string' ? linearRegexProblem(re) : undefined;
        if (problem) {
          ruleProblems.push(
            `${at(['rules', i, 'allowlist', 'regexes', j])}: rule "${rule.id}": allowlist.regexes[${j}]: ${problem}`,
          );
        }
      });
    }
    if (ruleProblems.length > 0) {
      // validateRuleSpec already named plain syntax errors; don't say it twice.
      problems.push(...ruleProblems.filter((p) => !/not a valid regular expression/.test(p)));
      return;
    }
    config.rules.push(rule);
  });
}

function configError(source: string, problems: string[]): KeyfenceError {
  return new KeyfenceError(
    ErrorCode.CONFIG_INVALID,
    `invalid config file ${source}:\n  ${problems.join('\n  ')}`,
    {
      hint: 'fix the lines above; docs/configuration.md lists every key',
    },
  );
}

/** Compiles serialisable allowlist entries into matchers. */
export function compileAllowlist(specs: AllowEntrySpec[]): AllowEntry[] {
  return specs.map((s) => {
    const entry: AllowEntry = {
      regexes: (s.regexes ?? []).map((r) => compileLinearRegex(r)),
      regexTarget: s.regexTarget ?? 'secret',
      stopwords: s.stopwords ?? [],
    };
    if (s.description !== undefined) entry.description = s.description;
    if (s.paths) entry.paths = compileLinearGlobs(s.paths);
    return entry;
  });
}

/** Paths the config leaves out of the scan entirely (allowlist entries with only `paths`). */
export function excludedPaths(config: ScanConfig): ((path: string) => boolean) | undefined {
  const globs = config.allowlist
    .filter((a) => a.paths && !a.regexes && !a.stopwords)
    .flatMap((a) => a.paths!);
  return globs.length > 0 ? compileLinearGlobs(globs) : undefined;
}
