import { type Dirent, existsSync, readdirSync } from 'node:fs';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import { ErrorCode, KeyfenceError } from '@keyfence/core';
import picomatch from 'picomatch';
import type { ArchiveInput } from '../scan-archive.js';

const GLOB_CHARS = /[*?[\]{}]/;

/**
 * Expands `--archive` arguments: a path is taken as it is (and must exist); a glob
 * (`dist/**\/*.jar`, quoted so the shell leaves it alone) is matched under its static base folder.
 */
export function expandArchiveArgs(args: string[], cwd: string): ArchiveInput[] {
  const out: ArchiveInput[] = [];
  const seen = new Set<string>();
  const push = (file: string, name: string): void => {
    if (seen.has(file)) return;
    seen.add(file);
    out.push({ file, name });
  };
  for (const arg of args) {
    if (!GLOB_CHARS.test(arg)) {
      const file = resolve(cwd, arg);
      if (!existsSync(file)) {
        throw new KeyfenceError(ErrorCode.INPUT_NOT_FOUND, `no such archive: ${arg}`, {
          hint: 'check the path given to --archive (quote globs: --archive "dist/*.zip")',
        });
      }
      push(file, arg);
      continue;
    }
    const scanned = picomatch.scan(arg);
    const base = resolve(cwd, scanned.base || '.');
    const match = picomatch(scanned.glob, { dot: false });
    const matches: string[] = [];
    walk(base, '', (rel) => {
      if (match(rel)) matches.push(join(base, rel));
    });
    if (matches.length === 0) {
      throw new KeyfenceError(ErrorCode.INPUT_NOT_FOUND, `no file matches --archive ${arg}`, {
        hint: 'check the pattern; it is matched relative to the current folder',
      });
    }
    for (const file of matches.sort()) push(file, displayPath(file, cwd));
  }
  return out;
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

function displayPath(file: string, cwd: string): string {
  const rel = relative(cwd, file);
  const shown = rel.startsWith('..') || isAbsolute(rel) ? file : rel;
  return sep === '/' ? shown : shown.split(sep).join('/');
}
