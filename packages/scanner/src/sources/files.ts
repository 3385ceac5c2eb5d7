import { type Dirent, existsSync } from 'node:fs';
import { readdir, readFile, realpath, stat } from 'node:fs/promises';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { ErrorCode, KeyfenceError } from '@keyfence/core';
import ignore, { type Ignore } from 'ignore';
import type { ScanProblem } from '../finding.js';

/** A file to scan: where it is on disk and the path reports show. */
export interface FileEntry {
  abs: string;
  path: string;
  size: number;
}

export interface WalkOptions {
  skipLockfiles: boolean;
  skipBinaries: boolean;
  respectGitignore: boolean;
  /** Paths (as reports show them) to leave out entirely. */
  exclude?: (path: string) => boolean;
}

const LOCKFILES = new Set([
  'package-lock.json',
  'npm-shrinkwrap.json',
  'yarn.lock',
  'pnpm-lock.yaml',
  'bun.lockb',
  'bun.lock',
  'Cargo.lock',
  'go.sum',
  'poetry.lock',
  'Pipfile.lock',
  'uv.lock',
  'Gemfile.lock',
  'composer.lock',
  'packages.lock.json',
  'gradle.lockfile',
  'flake.lock',
  'mix.lock',
  'pubspec.lock',
  'Podfile.lock',
]);

const BINARY_EXT = new Set(
  (
    'png jpg jpeg gif bmp ico webp tif tiff psd avif heic svgz woff woff2 ttf otf eot mp3 mp4 m4a wav ogg ' +
    'flac avi mov mkv webm pdf zip gz tgz bz2 xz zst 7z rar tar jar war ear whl nupkg class so dylib dll exe ' +
    'o a lib obj bin dat pyc pyo wasm node iso dmg deb rpm sqlite db'
  ).split(' '),
);

/** Whether a file name is a dependency lock file (skipped by default: full of hashes, never secrets). */
export function isLockfile(name: string): boolean {
  return LOCKFILES.has(name);
}

/** Whether a file's extension says it is binary. */
export function hasBinaryExtension(name: string): boolean {
  const dot = name.lastIndexOf('.');
  return dot > 0 && BINARY_EXT.has(name.slice(dot + 1).toLowerCase());
}

/** Whether bytes look binary: a NUL in the first 8 KB, as git decides. */
export function looksBinary(buf: Uint8Array): boolean {
  return buf.subarray(0, 8192).includes(0);
}

/** Collects the files under the given roots, reporting (not throwing on) unreadable ones. */
export async function listFiles(
  roots: string[],
  options: WalkOptions,
): Promise<{ files: FileEntry[]; problems: ScanProblem[]; skipped: number }> {
  const files: FileEntry[] = [];
  const problems: ScanProblem[] = [];
  let skipped = 0;
  const seenDirs = new Set<string>();

  const skipByName = (name: string): boolean =>
    (options.skipLockfiles && isLockfile(name)) || (options.skipBinaries && hasBinaryExtension(name));

  for (const root of roots) {
    const rootAbs = resolve(root);
    let st: Awaited<ReturnType<typeof stat>>;
    try {
      st = await stat(rootAbs);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') {
        throw new KeyfenceError(ErrorCode.INPUT_NOT_FOUND, `no such file or folder: ${root}`, {
          hint: 'check the path; keyfence scan takes folders and files, e.g. `keyfence scan .`',
        });
      }
      throw new KeyfenceError(ErrorCode.INPUT_UNREADABLE, `cannot read ${root}: ${code ?? 'error'}`, {
        hint: 'check the permissions of the path',
      });
    }
    if (st.isFile()) {
      files.push({ abs: rootAbs, path: root, size: st.size });
      continue;
    }
    const gitignore = options.respectGitignore && insideGitWorkTree(rootAbs);
    const walk = async (dirAbs: string, ignores: { base: string; ig: Ignore }[]): Promise<void> => {
      let real: string;
      try {
        real = await realpath(dirAbs);
      } catch {
        problems.push({
          kind: 'unreadable',
          path: toPosix(relative(rootAbs, dirAbs)),
          message: 'broken link',
        });
        return;
      }
      if (seenDirs.has(real)) return; // a symlink loop, or a folder reached twice
      seenDirs.add(real);
      let entries: Dirent[];
      try {
        entries = await readdir(dirAbs, { withFileTypes: true });
      } catch (e) {
        problems.push({
          kind: 'unreadable',
          path: toPosix(relative(rootAbs, dirAbs)) || '.',
          message: `cannot list folder (${(e as NodeJS.ErrnoException).code ?? 'error'})`,
        });
        return;
      }
      let scoped = ignores;
      if (gitignore && entries.some((e) => e.name === '.gitignore')) {
        try {
          const ig = ignore().add(await readFile(join(dirAbs, '.gitignore'), 'utf8'));
          scoped = [...ignores, { base: dirAbs, ig }];
        } catch {
          // An unreadable .gitignore ignores nothing.
        }
      }
      entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
      for (const ent of entries) {
        const abs = join(dirAbs, ent.name);
        const rel = toPosix(relative(rootAbs, abs));
        if (ent.name === '.git') continue;
        let isDir = ent.isDirectory();
        let isFile = ent.isFile();
        let size = 0;
        if (ent.isSymbolicLink()) {
          try {
            const t = await stat(abs);
            isDir = t.isDirectory();
            isFile = t.isFile();
            size = t.size;
          } catch {
            problems.push({ kind: 'unreadable', path: rel, message: 'broken or looping symbolic link' });
            continue;
          }
        }
        if (scoped.some(({ base, ig }) => ig.ignores(toPosix(relative(base, abs)) + (isDir ? '/' : ''))))
          continue;
        if (options.exclude?.(rel)) continue;
        if (isDir) {
          await walk(abs, scoped);
        } else if (isFile) {
          if (skipByName(ent.name)) {
            skipped++;
            continue;
          }
          if (size === 0) {
            try {
              size = (await stat(abs)).size;
            } catch (e) {
              problems.push({
                kind: 'unreadable',
                path: rel,
                message: `cannot stat (${(e as NodeJS.ErrnoException).code})`,
              });
              continue;
            }
          }
          files.push({ abs, path: rel, size });
        }
      }
    };
    await walk(rootAbs, []);
  }
  return { files, problems, skipped };
}

function insideGitWorkTree(dir: string): boolean {
  for (let d = dir; ; d = dirname(d)) {
    if (existsSync(join(d, '.git'))) return true;
    if (dirname(d) === d) return false;
  }
}

function toPosix(p: string): string {
  return sep === '/' ? p : p.split(sep).join('/');
}
