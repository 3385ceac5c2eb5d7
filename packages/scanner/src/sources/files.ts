import { spawnSync } from 'node:child_process';
import {
  closeSync,
  constants,
  type Dirent,
  existsSync,
  fstatSync,
  openSync,
  readdirSync,
  readFileSync,
  realpathSync,
  type Stats,
  statSync,
} from 'node:fs';
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
  /**
   * Follow symbolic links that lead out of the scanned folder. Off by default: a pull request can
   * commit `home -> $HOME`, and the runner's own credentials would end up in the report.
   */
  followSymlinks?: boolean;
  /** Paths (as reports show them) to leave out entirely. */
  exclude?: (path: string) => boolean;
}

/** Settings files are small; a bigger one is refused rather than read into memory. */
export const CONFIG_MAX_BYTES = 4 * 1024 * 1024;
export const BASELINE_MAX_BYTES = 64 * 1024 * 1024;
const GITIGNORE_MAX_BYTES = 4 * 1024 * 1024;

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

/** Whether a file is skipped by its name alone: a lock file, or binary by extension. */
export function skipsName(name: string, options: { skipLockfiles: boolean; skipBinaries: boolean }): boolean {
  return (options.skipLockfiles && isLockfile(name)) || (options.skipBinaries && hasBinaryExtension(name));
}

/** Whether bytes look binary: a NUL in the first 8 KB, as git decides. */
export function looksBinary(buf: Uint8Array): boolean {
  return buf.subarray(0, 8192).includes(0);
}

/**
 * Collects the files under the given roots, reporting (not throwing on) unreadable ones.
 * Synchronous: listing is thousands of tiny system calls, where a thread-pool round trip each
 * costs more than the call itself.
 */
export function listFiles(
  roots: string[],
  options: WalkOptions,
): { files: FileEntry[]; problems: ScanProblem[]; skipped: number } {
  const files: FileEntry[] = [];
  const problems: ScanProblem[] = [];
  let skipped = 0;
  const seenDirs = new Set<string>();
  // Real paths of the files listed, so a file reached through a link too is scanned once.
  const seenFiles = new Map<string, { index: number; viaLink: boolean }>();

  for (const root of roots) {
    const rootAbs = resolve(root);
    let st: Stats;
    try {
      st = statSync(rootAbs);
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
    // git never ignores a tracked file: a pull request that commits a file and also lists it in
    // .gitignore must not hide it from the scan.
    const tracked = gitignore ? trackedPaths(rootAbs) : { files: new Set<string>(), dirs: new Set<string>() };
    // The root itself was named by the user, so a link there is trusted; links below it are not.
    const realRoot = realpathSync(rootAbs);
    const insideRoot = (real: string): boolean =>
      real === realRoot || real.startsWith(realRoot.endsWith(sep) ? realRoot : realRoot + sep);
    const walk = (dirAbs: string, ignores: { base: string; ig: Ignore }[]): void => {
      let real: string;
      try {
        real = realpathSync(dirAbs);
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
        entries = readdirSync(dirAbs, { withFileTypes: true });
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
          const ig = ignore().add(readTextFile(join(dirAbs, '.gitignore'), GITIGNORE_MAX_BYTES));
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
        const viaLink = ent.isSymbolicLink();
        let realFile = join(real, ent.name);
        if (viaLink) {
          try {
            realFile = realpathSync(abs);
            const t = statSync(realFile);
            isDir = t.isDirectory();
            isFile = t.isFile();
            size = t.size;
          } catch {
            problems.push({ kind: 'unreadable', path: rel, message: 'broken or looping symbolic link' });
            continue;
          }
          // The walk skips .git, where the runner keeps the checkout's token: so does a link into it.
          if (relative(realRoot, realFile).split(sep).includes('.git')) {
            problems.push({ kind: 'skipped', path: rel, message: 'symbolic link into .git; not followed' });
            continue;
          }
          if (!options.followSymlinks && !insideRoot(realFile)) {
            problems.push({
              kind: 'skipped',
              path: rel,
              message:
                'symbolic link leads out of the scanned folder; not followed (--follow-symlinks follows it)',
            });
            continue;
          }
        }
        const isTracked = isDir ? tracked.dirs.has(rel) : tracked.files.has(rel);
        if (
          !isTracked &&
          scoped.some(({ base, ig }) => ig.ignores(toPosix(relative(base, abs)) + (isDir ? '/' : '')))
        )
          continue;
        if (options.exclude?.(rel)) continue;
        if (isDir && viaLink) {
          linked.push([abs, scoped]);
        } else if (isDir) {
          walk(abs, scoped);
        } else if (isFile) {
          if (skipsName(ent.name, options)) {
            skipped++;
            continue;
          }
          if (size === 0) {
            try {
              size = statSync(abs).size;
            } catch (e) {
              problems.push({
                kind: 'unreadable',
                path: rel,
                message: `cannot stat (${(e as NodeJS.ErrnoException).code})`,
              });
              continue;
            }
          }
          const seen = seenFiles.get(realFile);
          if (seen === undefined) {
            seenFiles.set(realFile, { index: files.length, viaLink });
            files.push({ abs, path: rel, size });
          } else if (seen.viaLink && !viaLink) {
            // Report the file under its own name rather than under a link's.
            files[seen.index] = { abs, path: rel, size };
            seen.viaLink = false;
          }
        }
      }
    };
    // Linked folders come last, so a folder reached both ways is reported under its own name.
    const linked: [string, { base: string; ig: Ignore }[]][] = [];
    walk(rootAbs, []);
    for (let next = linked.shift(); next; next = linked.shift()) walk(...next);
  }
  return { files, problems, skipped };
}

/** A read of a settings file refused before it began: not a regular file, or too large. */
export class NotReadableText extends Error {}

/**
 * Reads a settings file (config, baseline, .gitignore) as UTF-8, refusing anything but a regular
 * file of at most `maxBytes`: a committed link to /dev/zero or a FIFO must fail, not hang the scan.
 */
export function readTextFile(file: string, maxBytes: number): string {
  // Non-blocking, so opening a FIFO with no writer returns at once instead of waiting for one.
  const fd = openSync(file, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw new NotReadableText('not a regular file');
    if (st.size > maxBytes) throw new NotReadableText(`larger than ${maxBytes / (1024 * 1024)} MiB`);
    return readFileSync(fd, 'utf8');
  } finally {
    closeSync(fd);
  }
}

/** Why a settings file could not be read, for an error line. */
export function readFailure(e: unknown): string {
  return e instanceof NotReadableText ? e.message : ((e as NodeJS.ErrnoException).code ?? 'error');
}

/** The files git tracks below `dir` (relative to it) and the folders that hold them; empty if git cannot tell. */
function trackedPaths(dir: string): { files: Set<string>; dirs: Set<string> } {
  const files = new Set<string>();
  const dirs = new Set<string>();
  const r = spawnSync('git', ['-c', 'core.quotePath=false', 'ls-files', '-z', '--cached'], {
    cwd: dir,
    stdio: ['ignore', 'pipe', 'pipe'],
    maxBuffer: 512 * 1024 * 1024,
    timeout: 60_000,
  });
  if (r.status !== 0 || !r.stdout) return { files, dirs };
  for (const path of r.stdout.toString('utf8').split('\0')) {
    if (path === '') continue;
    files.add(path);
    for (let i = path.indexOf('/'); i > 0; i = path.indexOf('/', i + 1)) dirs.add(path.slice(0, i));
  }
  return { files, dirs };
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
