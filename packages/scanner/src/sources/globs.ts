import { type Dirent, existsSync, readdirSync, realpathSync } from 'node:fs';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import picomatch from 'picomatch';
import type { ArchiveInput } from '../scan-archive.js';

const GLOB_CHARS = /[*?[\]{}]/;

/** What archive arguments matched: the files to scan, and the arguments that matched nothing. */
export interface ArchiveMatches {
  archives: ArchiveInput[];
  /** Paths that do not exist and globs that matched no file, as given. */
  unmatched: string[];
  /** With `confine`: arguments whose path, or glob base, a symbolic link leads out of `cwd`. */
  outside: string[];
}

/**
 * Expands archive arguments (the CLI's `--archive`, the action's `artifacts`): a path is taken as
 * it is; a glob (`dist/**\/*.jar`) is matched under its static base folder, relative to `cwd`.
 * Each front end decides what an argument that matched nothing means (an error, a warning).
 */
export function matchArchiveArgs(
  args: readonly string[],
  cwd: string,
  options: { confine?: boolean } = {},
): ArchiveMatches {
  const archives: ArchiveInput[] = [];
  const unmatched: string[] = [];
  const outside: string[] = [];
  // The action confines arguments inside the workspace to it: the pull request wrote the
  // checkout, and a link it commits (`dist -> ~`) must not widen what the workflow named.
  const escapes = (file: string): boolean => {
    if (!options.confine || !within(cwd, file)) return false;
    try {
      return !within(realpathSync(cwd), realpathSync(file));
    } catch {
      return false;
    }
  };
  const seen = new Set<string>();
  const push = (file: string, name: string): void => {
    if (seen.has(file)) return;
    seen.add(file);
    archives.push({ file, name });
  };
  for (const arg of args) {
    if (!isArchiveGlob(arg)) {
      const file = resolve(cwd, arg);
      if (existsSync(file) && escapes(file)) outside.push(arg);
      else if (existsSync(file)) push(file, arg);
      else unmatched.push(arg);
      continue;
    }
    const scanned = picomatch.scan(arg);
    const base = resolve(cwd, scanned.base || '.');
    if (existsSync(base) && escapes(base)) {
      outside.push(arg);
      continue;
    }
    const match = picomatch(scanned.glob, { dot: false });
    const matches: string[] = [];
    walk(base, '', (rel) => {
      if (match(rel)) matches.push(join(base, rel));
    });
    if (matches.length === 0) unmatched.push(arg);
    for (const file of matches.sort()) push(file, displayPath(file, cwd));
  }
  return { archives, unmatched, outside };
}

/** True when an archive argument is a glob rather than a plain path. */
export function isArchiveGlob(arg: string): boolean {
  return GLOB_CHARS.test(arg);
}

function walk(dir: string, rel: string, visit: (rel: string) => void): void {
  let entries: Dirent[];
  try {
    entries = readdirSync(join(dir, rel), { withFileTypes: true });
  } catch {
    return;
  }
  for (const e of entries) {
    if (e.name === '.git') continue;
    const child = rel ? `${rel}/${e.name}` : e.name;
    if (e.isDirectory()) walk(dir, child, visit);
    else if (e.isFile()) visit(child);
  }
}

function within(dir: string, p: string): boolean {
  const rel = relative(dir, p);
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
}

function displayPath(file: string, cwd: string): string {
  const rel = relative(cwd, file);
  const shown = rel.startsWith('..') || isAbsolute(rel) ? file : rel;
  return sep === '/' ? shown : shown.split(sep).join('/');
}
