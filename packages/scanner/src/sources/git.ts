import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import { ErrorCode, KeyfenceError } from '@keyfence/core';
import type { Fragment } from '../engine/detector.js';
import { looksBinary } from './files.js';
import { addedLines, blobEncoding, decodeUtf16, readBlob } from './git-blob.js';

/** What part of a repository's history to scan. */
export type GitRange =
  /** Every commit in BASE..HEAD (a pull request), each commit's added lines. */
  | { kind: 'diff'; base: string; head: string }
  /**
   * Every commit reachable from any ref (or only from `head`), leaving out those reachable
   * from `since`.
   */
  | { kind: 'history'; since?: string; head?: string }
  /** What `git commit` would record now (for a pre-commit hook). */
  | { kind: 'staged' };

export interface GitSourceOptions {
  /** Why a path is left out (lock file, binary extension, allow-listed path), or undefined to scan it. */
  skipReason?: (path: string) => string | undefined;
  /** Called for each commit, including those that add no scannable line. */
  onCommit?: (sha: string) => void;
  /** Called for each file of a commit that is not scanned, with the reason. */
  onSkip?: (path: string, commit: string, reason: string) => void;
  /** Scan binary blobs (as latin1 text, like folder mode); by default they are named as skipped. */
  scanBinaries?: boolean;
}

/** Added text of one file in one commit is cut into fragments of at most this many characters. */
export const MAX_FRAGMENT_CHARS = 8 * 1024 * 1024;
/**
 * Longer patch lines are cut here: a blob of NULs without a newline (shown as text with --text)
 * must not become one string of hundreds of megabytes. The cut line marks its file for a whole-blob read.
 */
const MAX_LINE_CHARS = 16 * 1024 * 1024;
/** Lines carried from one fragment into the next, so a secret across the cut is still seen. */
const OVERLAP_CHARS = 64 * 1024;
const ZERO_BLOB = /^0+$/;
const COMMIT_MARK = '\x01';
const FIELD_SEP = '\x02';

/** Runs git and returns stdout; a failure becomes a KeyfenceError naming the command. */
export function git(repo: string, args: string[]): string {
  const r = spawnSync('git', args, { cwd: repo, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (r.error) {
    throw new KeyfenceError(ErrorCode.INPUT_UNREADABLE, `cannot run git: ${r.error.message}`, {
      hint: 'install git and make sure it is on PATH',
      cause: r.error,
    });
  }
  if (r.status !== 0) {
    throw new GitCommandError(args, r.stderr.trim());
  }
  return r.stdout;
}

/** A git command that exited non-zero. */
export class GitCommandError extends KeyfenceError {
  readonly stderr: string;
  constructor(args: string[], stderr: string) {
    super(ErrorCode.INPUT_UNREADABLE, `git ${args.join(' ')} failed: ${stderr.split('\n')[0] ?? ''}`, {
      hint: 'check that the path is a git repository and the revisions exist',
    });
    this.stderr = stderr;
  }
}

function tryGit(repo: string, args: string[]): string | undefined {
  try {
    return git(repo, args).trim();
  } catch {
    return undefined;
  }
}

/** Whether `rev` names a commit present in the repository. */
export function hasCommit(repo: string, rev: string): boolean {
  return tryGit(repo, ['cat-file', '-e', `${rev}^{commit}`]) !== undefined;
}

/** Checks the folder is a git work tree; returns its top level. */
export function gitTopLevel(dir: string): string {
  const top = tryGit(dir, ['rev-parse', '--show-toplevel']);
  if (top === undefined) {
    throw new KeyfenceError(ErrorCode.INPUT_NOT_FOUND, `${dir} is not inside a git repository`, {
      hint: 'run the git modes (--diff, --history, --staged) inside a clone, or scan the folder without them',
    });
  }
  return top;
}

/**
 * Makes sure BASE..HEAD can be scanned exactly: both commits present and their merge base
 * reachable. A shallow clone (actions/checkout fetches one commit by default) is deepened from
 * its remote; if that is impossible the scan stops with the fix, never scanning less than asked.
 */
export function ensureRange(repo: string, base: string, head: string, remote = 'origin'): void {
  const hint =
    'fetch the history the range needs: with actions/checkout set `fetch-depth: 0`; locally run `git fetch --unshallow`';
  const fetch = (args: string[]): boolean =>
    tryGit(repo, ['fetch', '--no-tags', '--quiet', remote, ...args]) !== undefined;
  for (const rev of [base, head]) ensureCommit(repo, rev, remote);
  if (rangeIsComplete(repo, base, head)) return;
  // A shallow clone: deepen step by step, then in full, until the range's history is whole.
  for (const args of [['--deepen=50'], ['--deepen=500'], ['--unshallow']]) {
    if (!fetch(args)) break;
    if (rangeIsComplete(repo, base, head)) return;
  }
  throw new KeyfenceError(
    ErrorCode.INPUT_NOT_FOUND,
    `this is a shallow clone and the history between ${short(base)} and ${short(head)} is missing`,
    { hint },
  );
}

/** Makes sure one commit is in the clone, fetching it by id from the remote when it is missing. */
export function ensureCommit(repo: string, rev: string, remote = 'origin'): void {
  if (!hasCommit(repo, rev) && /^[0-9a-f]{40}$/.test(rev))
    tryGit(repo, ['fetch', '--no-tags', '--quiet', remote, rev]);
  if (!hasCommit(repo, rev)) {
    throw new KeyfenceError(
      ErrorCode.INPUT_NOT_FOUND,
      `commit ${short(rev)} is not in this clone and could not be fetched`,
      {
        hint: 'fetch the history the range needs: with actions/checkout set `fetch-depth: 0`; locally run `git fetch --unshallow`',
      },
    );
  }
}

/**
 * The range is complete when base and head share a merge base and no commit between them is a
 * shallow boundary (whose parents are missing, so its diff would be the whole tree).
 */
function rangeIsComplete(repo: string, base: string, head: string): boolean {
  const mergeBase = tryGit(repo, ['merge-base', base, head]);
  if (mergeBase === undefined) return false;
  const boundaries = shallowBoundaries(repo);
  if (boundaries.size === 0) return true;
  const inRange = tryGit(repo, ['rev-list', `${mergeBase}..${head}`])?.split('\n') ?? [];
  return !inRange.some((c) => boundaries.has(c));
}

function shallowBoundaries(repo: string): Set<string> {
  const file = tryGit(repo, ['rev-parse', '--git-path', 'shallow']);
  if (!file) return new Set();
  try {
    return new Set(readFileSync(resolve(repo, file), 'utf8').split('\n').filter(Boolean));
  } catch {
    return new Set(); // no shallow file: a full clone
  }
}

function short(rev: string): string {
  return /^[0-9a-f]{40}$/.test(rev) ? rev.slice(0, 12) : rev;
}

function logArgs(range: GitRange): string[] {
  // --text: a pull request's .gitattributes (`*.env -diff`) must not turn its files into
  // "Binary files differ"; real binaries are told apart below from their bytes, as folder mode does.
  const common = [
    '-p',
    '-U0',
    '--text',
    '--full-index',
    '--no-color',
    '--no-ext-diff',
    '--no-textconv',
    // No rename detection: a file renamed out of an allowlisted or skipped path is scanned whole.
    '--no-renames',
    '--cc',
  ];
  const format = `--format=${COMMIT_MARK}%H${FIELD_SEP}%an <%ae>${FIELD_SEP}%aI`;
  switch (range.kind) {
    case 'diff':
      return ['log', '--reverse', '--topo-order', format, ...common, `${range.base}..${range.head}`, '--'];
    case 'history':
      return [
        'log',
        '--reverse',
        '--topo-order',
        format,
        ...common,
        range.head ?? '--all',
        ...(range.since ? [`^${range.since}`] : []),
        '--',
      ];
    case 'staged':
      return ['diff', '--cached', ...common.filter((a) => a !== '--cc')];
  }
}

interface FileState {
  path: string | undefined;
  skip: boolean;
  /** A NUL in an added line: the blob is read whole and judged (UTF-16 or binary) at the end. */
  binary: boolean;
  /** Whether the patch text suggests the blob is text after all (UTF-16, or an overlong line). */
  mayBeText?: boolean;
  /** The new blob and the blobs it replaced (several for a merge), from the `index` line. */
  blob?: string;
  oldBlobs: string[];
  lines: string[];
  lineNumbers: number[];
  chars: number;
  /** How many of `lines` were already handed on, carried over as overlap. */
  carried: number;
}

/**
 * Streams the added lines of every commit in a range as fragments (one per commit and file),
 * with each line's number in that commit's version of the file. Memory stays bounded: git's
 * output is read line by line and each file's lines are handed on as soon as its diff ends.
 */
export async function* gitFragments(
  repo: string,
  range: GitRange,
  options: GitSourceOptions = {},
): AsyncGenerator<Fragment> {
  const child = spawn('git', ['-c', 'core.quotePath=false', '-c', 'diff.noprefix=false', ...logArgs(range)], {
    cwd: repo,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (d: string) => {
    if (stderr.length < 4096) stderr += d;
  });
  const exited = new Promise<number>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve(code ?? 1));
  });

  let commit = range.kind === 'staged' ? 'staged' : '';
  let author = '';
  let file: FileState | undefined;
  let parents = 1;
  let newLine = 0;
  let newLeft = 0;
  let oldLeft: number[] = [];
  const pending: Fragment[] = [];
  /** Paths whose blob was left out as binary in an earlier commit of the range. */
  const skippedBinary = new Set<string>();

  const location = (): NonNullable<Fragment['location']> => (commit === 'staged' ? {} : { commit, author });
  /** Hands on the file's lines; `carry` keeps the last ones for the next fragment (a cut mid-file). */
  const flush = (carry = false): void => {
    if (file?.path && !file.skip && !file.binary && file.lines.length > file.carried) {
      pending.push({
        text: file.lines.join('\n'),
        path: file.path,
        lineNumbers: file.lineNumbers,
        location: location(),
      });
    }
    if (!file) return;
    let keep = 0;
    let kept = 0;
    if (carry) {
      while (
        keep < file.lines.length - 1 &&
        kept + file.lines[file.lines.length - 1 - keep]!.length < OVERLAP_CHARS
      )
        kept += file.lines[file.lines.length - 1 - keep++]!.length + 1;
    }
    file.lines = keep > 0 ? file.lines.slice(-keep) : [];
    file.lineNumbers = keep > 0 ? file.lineNumbers.slice(-keep) : [];
    file.chars = kept;
    file.carried = keep;
  };
  /** Ends a file's diff; a file seen to hold NULs is read from its blob and judged there. */
  const endFile = (): void => {
    const wasSkipped = file?.path !== undefined && !file.skip && !file.binary && skippedBinary.has(file.path);
    if (wasSkipped && file?.path && file.blob) {
      // Skipped as binary earlier in the range, text now: the lines it got then were never seen.
      skippedBinary.delete(file.path);
      const bytes = readBlob(repo, file.blob);
      if (Buffer.isBuffer(bytes)) {
        file.lines = [];
        file.lineNumbers = [];
        if (bytes.length > 0)
          pending.push({ text: bytes.toString('utf8'), path: file.path, location: location() });
      }
    }
    flush();
    if (file?.path && file.binary && !file.skip) {
      const fragment = blobFragment(repo, file, options.scanBinaries === true);
      if ('reason' in fragment) {
        options.onSkip?.(file.path, commit, fragment.reason);
        skippedBinary.add(file.path);
      } else if (fragment.text !== '') pending.push({ ...fragment, location: location() });
    }
  };
  const inHunk = (): boolean => newLeft > 0 || oldLeft.some((n) => n > 0);

  try {
    for await (const line of patchLines(child.stdout)) {
      if (inHunk() && file && line.startsWith('\\')) {
        // "\ No newline at end of file": a remark on the line before, not a line of either side.
      } else if (inHunk() && file) {
        const prefix = line.slice(0, parents);
        const inResult = !prefix.includes('-');
        for (let i = 0; i < parents; i++) if (prefix[i] !== '+') oldLeft[i] = (oldLeft[i] ?? 0) - 1;
        if (inResult) {
          newLeft--;
          // A line new to every parent: for a merge, only what the merge itself wrote.
          if (prefix === '+'.repeat(parents) && !file.skip && !file.binary) {
            if (line.includes('\0') || line.length >= MAX_LINE_CHARS) {
              file.binary = true;
              file.mayBeText =
                line.length >= MAX_LINE_CHARS || looksUtf16(line.slice(parents, parents + 4096));
              file.lines = [];
              file.lineNumbers = [];
              file.carried = 0;
            } else {
              file.lines.push(line.slice(parents));
              file.lineNumbers.push(newLine);
              file.chars += line.length + 1;
              if (file.chars > MAX_FRAGMENT_CHARS) flush(true);
            }
          }
          newLine++;
        }
      } else if (line.startsWith(COMMIT_MARK)) {
        endFile();
        file = undefined;
        [commit = '', author = ''] = line.slice(1).split(FIELD_SEP);
        options.onCommit?.(commit);
      } else if (
        line.startsWith('diff --git ') ||
        line.startsWith('diff --cc ') ||
        line.startsWith('diff --combined ')
      ) {
        endFile();
        file = {
          path: undefined,
          skip: false,
          binary: false,
          oldBlobs: [],
          lines: [],
          lineNumbers: [],
          chars: 0,
          carried: 0,
        };
        parents = line.startsWith('diff --git ') ? 1 : 2;
        if (!line.startsWith('diff --git ')) file.path = unquote(line.slice(line.indexOf(' ', 5) + 1));
      } else if (file && line.startsWith('+++ ')) {
        const name = unquote(line.slice(4).replace(/\t$/, ''));
        if (name === '/dev/null') file.skip = true;
        else file.path = name.startsWith('b/') ? name.slice(2) : name;
        const reason = file.path && !file.skip ? options.skipReason?.(file.path) : undefined;
        if (reason !== undefined && file.path) {
          file.skip = true;
          options.onSkip?.(file.path, commit, reason);
        }
      } else if (file && line.startsWith('@@')) {
        const at = /^(@+) (.*?) @+/.exec(line);
        if (at) {
          parents = at[1]!.length - 1;
          const ranges = at[2]!.split(' ');
          const plus = ranges[ranges.length - 1]!;
          const [start, count] = plus.slice(1).split(',');
          newLine = Number(start);
          newLeft = count === undefined ? 1 : Number(count);
          // A zero-length new side: git gives the line before the gap.
          if (newLeft === 0) newLine++;
          oldLeft = ranges.slice(0, -1).map((r) => {
            const c = r.split(',')[1];
            return c === undefined ? 1 : Number(c);
          });
        }
      } else if (file && (line.startsWith('Binary files ') || line.startsWith('GIT binary patch'))) {
        // Not expected with --text; if git still says so, the blob is judged like any other.
        const m = / and (?:b\/)?(.*) differ$/.exec(line);
        if (!file.path && m?.[1]) file.path = unquote(m[1]);
        file.binary = true;
      } else if (file && /^(?:new file mode|index [0-9a-f,]+\.\.[0-9a-f]+) 160000/.test(line)) {
        file.skip = true; // a submodule pointer, not content
      } else if (file && line.startsWith('index ')) {
        const m = /^index ([0-9a-f,]+)\.\.([0-9a-f]+)/.exec(line);
        if (m) {
          file.blob = m[2]!;
          file.oldBlobs = m[1]!.split(',').filter((b) => !ZERO_BLOB.test(b));
        }
      } else if (file && line.startsWith('rename to ')) {
        file.path = unquote(line.slice('rename to '.length));
      }
      while (pending.length > 0) yield pending.shift()!;
    }
    endFile();
    while (pending.length > 0) yield pending.shift()!;
    const code = await exited;
    if (code !== 0) throw new GitCommandError(logArgs(range), stderr.trim());
  } finally {
    if (child.exitCode === null) child.kill();
  }
}

/**
 * Whether a patch line (decoded as UTF-8) looks like UTF-16 text: a byte-order mark read as two
 * replacement characters, or NULs on one parity of positions and almost none on the other.
 */
function looksUtf16(line: string): boolean {
  if (/^\0?\uFFFD\uFFFD/.test(line)) return true;
  const counts = [0, 0];
  for (let i = 0; i < line.length; i++) if (line.charCodeAt(i) === 0) counts[i % 2]!++;
  const [even, odd] = counts as [number, number];
  const half = line.length / 2;
  return (even > half * 0.7 && odd <= half * 0.05) || (odd > half * 0.7 && even <= half * 0.05);
}

/**
 * git's output split at "\n" only (a lone "\r" inside a line is content, not a break), with the
 * "\r" of CRLF dropped, and each line cut at MAX_LINE_CHARS.
 */
async function* patchLines(stream: Readable): AsyncGenerator<string> {
  const decoder = new StringDecoder('utf8');
  let partial = '';
  let dropping = false;
  const done = (line: string): string => (line.endsWith('\r') ? line.slice(0, -1) : line);
  for await (const chunk of stream) {
    const text = decoder.write(chunk as Buffer);
    let from = 0;
    for (let nl = text.indexOf('\n'); nl >= 0; nl = text.indexOf('\n', from)) {
      const piece = text.slice(from, nl);
      from = nl + 1;
      if (!dropping) partial += piece.slice(0, Math.max(0, MAX_LINE_CHARS - partial.length));
      yield done(partial);
      partial = '';
      dropping = false;
    }
    if (!dropping) {
      partial += text.slice(from, from + Math.max(0, MAX_LINE_CHARS - partial.length));
      dropping = partial.length >= MAX_LINE_CHARS;
    }
  }
  partial += dropping ? '' : decoder.end();
  if (partial !== '') yield done(partial);
}

/**
 * The scannable text of a blob that holds NULs: UTF-16 is decoded and its added lines kept;
 * other binary data is scanned whole (as latin1, like folder mode) only when asked.
 */
function blobFragment(
  repo: string,
  file: FileState,
  scanBinaries: boolean,
): Omit<Fragment, 'location'> | { reason: string } {
  const path = file.path ?? '';
  const skipped = { reason: 'binary file (--scan-binaries scans it)' };
  // Binary data with no sign of text: skipped without reading the blob (one git process fewer).
  if (!scanBinaries && file.mayBeText === false) return skipped;
  if (!file.blob || ZERO_BLOB.test(file.blob)) return { reason: 'binary patch without a blob id' };
  const bytes = readBlob(repo, file.blob);
  if (!Buffer.isBuffer(bytes)) return bytes;
  const encoding = blobEncoding(bytes);
  if (encoding === 'binary' && !looksBinary(bytes)) {
    // Text with a line too long to read from the patch: scanned whole, as folder mode does.
    return { text: bytes.toString('utf8'), path };
  }
  if (encoding === 'binary') {
    if (!scanBinaries) return skipped;
    return { text: bytes.toString('latin1'), path };
  }
  const older = file.oldBlobs.map((sha) => {
    const old = readBlob(repo, sha);
    if (!Buffer.isBuffer(old)) return '';
    const e = blobEncoding(old);
    return e === 'binary' ? old.toString('utf8') : decodeUtf16(old, e);
  });
  const added = addedLines(decodeUtf16(bytes, encoding), older);
  return { text: added.lines.join('\n'), path, lineNumbers: added.lineNumbers };
}

/** Undoes git's C-style quoting of unusual path names. */
export function unquote(name: string): string {
  if (!name.startsWith('"') || !name.endsWith('"')) return name;
  const bytes: number[] = [];
  const body = name.slice(1, -1);
  const simple: Record<string, number> = { n: 10, t: 9, r: 13, '"': 34, '\\': 92, a: 7, b: 8, f: 12, v: 11 };
  for (let i = 0; i < body.length; i++) {
    const ch = body[i]!;
    if (ch !== '\\') {
      bytes.push(...Buffer.from(ch, 'utf8'));
      continue;
    }
    const next = body[i + 1]!;
    if (/[0-7]/.test(next)) {
      bytes.push(Number.parseInt(body.slice(i + 1, i + 4), 8));
      i += 3;
    } else {
      bytes.push(simple[next] ?? next.charCodeAt(0));
      i += 1;
    }
  }
  return Buffer.from(bytes).toString('utf8');
}
