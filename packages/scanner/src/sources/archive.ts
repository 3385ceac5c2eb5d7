import { closeSync, createReadStream, fstatSync, openSync, readSync } from 'node:fs';
import { Readable } from 'node:stream';
import { extract, type Header } from 'tar-stream';
import type { Fragment } from '../engine/detector.js';
import type { Location } from '../finding.js';
import { hasBinaryExtension, isLockfile, looksBinary } from './files.js';
import { formatBytes, type InputBudget, RATIO_MIN_BYTES } from './limits.js';
import {
  type ArchiveKind,
  archiveKind,
  decompress,
  RatioExceededError,
  readBounded,
  SNIFF_BYTES,
  sniff,
} from './streams.js';
import {
  bufferAccess,
  CorruptArchiveError,
  EntryTooLargeError,
  fileAccess,
  isSupportedMethod,
  type RandomAccess,
  readZipEntry,
  zipEntries,
} from './zip.js';

/** What a walk over one input needs: its budget, the skip rules, and fields for every location. */
export interface WalkContext {
  budget: InputBudget;
  skipLockfiles: boolean;
  scanBinaries: boolean;
  /** Paths (as reports show them) to leave out, e.g. allowlisted paths. */
  exclude?: (path: string) => boolean;
  /** Fields copied onto every fragment's location (the image and layer). */
  location: Partial<Location>;
  /** Whether a single-element chain is still set on locations (archives: yes; image layers: no). */
  chainAlways: boolean;
  /** Counters the scan reports as stats. */
  counts: WalkCounts;
}

export interface WalkCounts {
  files: number;
  bytes: number;
  skipped: number;
}

/** Separator between the links of an archive chain in a path, as Java writes jar URLs. */
export const CHAIN_SEPARATOR = '!/';

/** Extensions of archives that are opened even though the binary-extension rule lists them. */
const ARCHIVE_EXT = /\.(zip|jar|war|ear|whl|nupkg|tar|gz|tgz|zst|tzst)$/i;

/** Text is handed to the engine in pieces of at most this many characters, overlapping. */
const FRAGMENT_CHARS = 8 * 1024 * 1024;
const OVERLAP_CHARS = 64 * 1024;

/** A name as a report may show it: control characters escaped, so a name cannot forge report lines. */
export function displayName(name: string): string {
  return name.replace(/[\x00-\x1f\x7f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

/** One entry of a tar stream: its header, and its bytes (to be read or drained before the next). */
export interface TarEntry extends AsyncIterable<Buffer> {
  header: Header;
  resume(): unknown;
}

/** Whether an entry is left out by name: lock files, and binaries unless they are archives to open. */
export function skipByName(ctx: WalkContext, path: string, name: string): boolean {
  if (ctx.exclude?.(path)) return true;
  if (ctx.skipLockfiles && isLockfile(name)) return true;
  return !ctx.scanBinaries && hasBinaryExtension(name) && !ARCHIVE_EXT.test(name);
}

/** Whether content, judged by its first bytes, is binary that is not worth reading further. */
function skipByHead(ctx: WalkContext, name: string, head: Buffer): boolean {
  return !ctx.scanBinaries && archiveKind(name, head) === undefined && looksBinary(head);
}

function chainPath(chain: string[]): string {
  return chain.join(CHAIN_SEPARATOR);
}

/**
 * The fragments of one archive file on disk (zip, jar, war, ear, whl, nupkg, tar, tar.gz, tar.zst,
 * and archives inside it, to the depth limit). Nothing is written to disk.
 */
export async function* archiveFileFragments(
  ctx: WalkContext,
  file: string,
  name: string,
): AsyncGenerator<Fragment> {
  const fd = openSync(file, 'r');
  try {
    const size = fstatSync(fd).size;
    const head = Buffer.alloc(Math.min(size, SNIFF_BYTES));
    readSync(fd, head, 0, head.length, 0);
    const kind = archiveKind(name, head);
    if (kind === undefined) {
      ctx.budget.problem({
        kind: 'unreadable',
        path: name,
        message: 'not an archive keyfence can open (zip, jar, war, ear, whl, nupkg, tar, tar.gz, tar.zst)',
      });
      return;
    }
    const source = kind === 'zip' ? fileAccess(fd, size) : createReadStream(file);
    yield* openArchive(ctx, [name], kind, source, 0);
  } finally {
    closeSync(fd);
  }
}

/**
 * The fragments of one entry's content: text goes to the engine, an archive is opened (one level
 * deeper, within the depth limit), binary is skipped unless binaries are scanned.
 * `depth` is the depth of the archive the entry came from (0: the input itself).
 */
export async function* contentFragments(
  ctx: WalkContext,
  chain: string[],
  content: Buffer,
  depth: number,
): AsyncGenerator<Fragment> {
  const name = chain[chain.length - 1] ?? '';
  const kind = archiveKind(name, content.subarray(0, SNIFF_BYTES));
  if (kind !== undefined) {
    if (depth + 1 > ctx.budget.limits.maxDepth) {
      ctx.budget.limit(
        chainPath(chain),
        `archive nested deeper than ${ctx.budget.limits.maxDepth} levels; not opened (raise --archive-max-depth)`,
      );
      return;
    }
    yield* openArchive(ctx, chain, kind, content, depth + 1);
    return;
  }
  const binary = looksBinary(content);
  if (binary && !ctx.scanBinaries) {
    ctx.counts.skipped++;
    return;
  }
  ctx.counts.files++;
  ctx.counts.bytes += content.length;
  yield* textFragments(ctx, chain, content.toString(binary ? 'latin1' : 'utf8'));
}

function* textFragments(ctx: WalkContext, chain: string[], text: string): Generator<Fragment> {
  const path = chainPath(chain);
  const location: Partial<Location> = { ...ctx.location };
  if (ctx.chainAlways || chain.length > 1) location.chain = chain;
  let line = 1;
  let column = 0;
  for (let start = 0; ; ) {
    const end = Math.min(text.length, start + FRAGMENT_CHARS);
    yield { text: text.slice(start, end), path, startLine: line, startColumn: column, location };
    if (end >= text.length) return;
    const next = Math.max(start + 1, end - OVERLAP_CHARS);
    for (let i = text.indexOf('\n', start); i >= 0 && i < next; i = text.indexOf('\n', i + 1)) {
      line++;
      column = 0;
      start = i + 1;
    }
    column += next - start;
    start = next;
  }
}

/** Opens an archive (already recognised) and yields the fragments of its entries. */
async function* openArchive(
  ctx: WalkContext,
  chain: string[],
  kind: ArchiveKind,
  source: Buffer | RandomAccess | Readable,
  depth: number,
): AsyncGenerator<Fragment> {
  const path = chainPath(chain);
  try {
    if (kind === 'zip') {
      const src = Buffer.isBuffer(source) ? bufferAccess(source) : (source as RandomAccess);
      yield* zipFragments(ctx, chain, src, depth);
      return;
    }
    const stream = Buffer.isBuffer(source) ? Readable.from([source]) : (source as Readable);
    if (kind === 'tar') {
      yield* tarFragments(ctx, chain, stream, depth);
      return;
    }
    const expanded = await sniff(decompress(stream, kind, ctx.budget.limits.maxRatio));
    const inner = innerName(chain[chain.length - 1] ?? '', kind);
    if (archiveKind(inner, expanded.head) === 'tar') {
      yield* tarFragments(ctx, chain, expanded.stream, depth);
      return;
    }
    // A single compressed file (`app.env.gz`): its one entry is the file itself.
    const entryChain = [...chain, inner];
    ctx.budget.countEntry(chainPath(entryChain));
    const r = await readBounded(expanded.stream, 0, ctx.budget.limits.maxEntryBytes, (h) =>
      skipByHead(ctx, inner, h),
    );
    yield* afterRead(ctx, entryChain, r, depth);
  } catch (e) {
    if (e instanceof RatioExceededError) {
      ctx.budget.limit(path, `${e.message}; not read further (raise --archive-max-ratio)`);
    } else if (e instanceof CorruptArchiveError || isStreamFormatError(e)) {
      ctx.budget.problem({ kind: 'unreadable', path, message: `corrupt ${kind}: ${(e as Error).message}` });
    } else {
      throw e;
    }
  }
}

function isStreamFormatError(e: unknown): boolean {
  if (!(e instanceof Error)) return false;
  const code = (e as NodeJS.ErrnoException).code ?? '';
  return (
    code.startsWith('Z_') ||
    code === 'ERR_STREAM_PREMATURE_CLOSE' ||
    /tar|zstd|unexpected end|header/i.test(e.message)
  );
}

function innerName(name: string, kind: 'gzip' | 'zstd'): string {
  const base = name.slice(name.lastIndexOf('/') + 1);
  if (/\.t(gz|zst)$/i.test(base)) return `${base.slice(0, base.lastIndexOf('.'))}.tar`;
  const stripped = base.replace(kind === 'gzip' ? /\.gz$/i : /\.zst$/i, '');
  return stripped === base ? `${base}.contents` : stripped;
}

async function* afterRead(
  ctx: WalkContext,
  chain: string[],
  r: Awaited<ReturnType<typeof readBounded>>,
  depth: number,
): AsyncGenerator<Fragment> {
  const path = chainPath(chain);
  if (r.kind === 'skipped') {
    ctx.counts.skipped++;
    return;
  }
  if (r.kind === 'too-large') {
    ctx.budget.limit(
      path,
      `entry is ${formatBytes(r.size)}, over the per-entry limit of ${formatBytes(ctx.budget.limits.maxEntryBytes)}; not scanned (raise --archive-max-entry-size)`,
    );
    return;
  }
  ctx.budget.countBytes(path, r.content.length);
  yield* contentFragments(ctx, chain, r.content, depth);
}

async function* zipFragments(
  ctx: WalkContext,
  chain: string[],
  src: RandomAccess,
  depth: number,
): AsyncGenerator<Fragment> {
  const { limits } = ctx.budget;
  for (const entry of zipEntries(src)) {
    if (entry.isDirectory) continue;
    const name = displayName(entry.name);
    const entryChain = [...chain, name];
    const path = chainPath(entryChain);
    ctx.budget.countEntry(path);
    if (skipByName(ctx, path, baseName(name))) {
      ctx.counts.skipped++;
      continue;
    }
    if (entry.encrypted) {
      ctx.budget.problem({ kind: 'skipped', path, message: 'encrypted entry; not scanned' });
      continue;
    }
    if (!isSupportedMethod(entry.method)) {
      ctx.budget.problem({
        kind: 'skipped',
        path,
        message: `compression method ${entry.method} is not supported (stored and deflate are); not scanned`,
      });
      continue;
    }
    if (entry.size > limits.maxEntryBytes) {
      yield* afterRead(ctx, entryChain, { kind: 'too-large', size: entry.size }, depth);
      continue;
    }
    if (entry.size > RATIO_MIN_BYTES && entry.size > limits.maxRatio * Math.max(entry.compressedSize, 1)) {
      ctx.budget.limit(path, ratioMessage(entry.compressedSize, entry.size, limits.maxRatio, false));
      continue;
    }
    // The directory may lie about sizes: inflation is capped by the entry limit and by the ratio.
    const cap = Math.min(
      limits.maxEntryBytes,
      Math.max(RATIO_MIN_BYTES, limits.maxRatio * Math.max(entry.compressedSize, 1)),
    );
    let content: Buffer;
    try {
      content = readZipEntry(src, entry, cap);
    } catch (e) {
      if (!(e instanceof EntryTooLargeError)) throw e;
      if (cap === limits.maxEntryBytes) {
        yield* afterRead(ctx, entryChain, { kind: 'too-large', size: cap + 1 }, depth);
      } else {
        ctx.budget.limit(path, ratioMessage(entry.compressedSize, cap, limits.maxRatio, true));
      }
      continue;
    }
    yield* afterRead(ctx, entryChain, { kind: 'content', content }, depth);
  }
}

/** `capped`: inflation was stopped at `size`, so the entry is larger still. */
function ratioMessage(compressed: number, size: number, maxRatio: number, capped: boolean): string {
  return (
    `expands more than ${maxRatio}x (${formatBytes(compressed)} to ${capped ? 'over ' : ''}${formatBytes(size)}); ` +
    'likely a zip bomb, not scanned (raise --archive-max-ratio)'
  );
}

/**
 * Yields the entries of a tar stream one at a time (each must be read or drained before the next).
 * Shared by archives and image layers.
 */
export async function* tarEntries(stream: Readable): AsyncGenerator<TarEntry> {
  const ex = extract();
  stream.once('error', (e) => ex.destroy(e));
  stream.pipe(ex);
  try {
    // The entries' streams carry bytes; streamx types their chunks as unknown.
    for await (const entry of ex) yield entry as unknown as TarEntry;
  } finally {
    if (!stream.destroyed) stream.destroy();
    if (!ex.destroyed) ex.destroy();
  }
}

async function* tarFragments(
  ctx: WalkContext,
  chain: string[],
  stream: Readable,
  depth: number,
): AsyncGenerator<Fragment> {
  for await (const entry of tarEntries(stream)) {
    const h = entry.header;
    if (h.type !== 'file' && h.type !== 'contiguous-file') {
      entry.resume();
      continue;
    }
    // `./conf/app.env` is `conf/app.env`; names are otherwise shown as written (`../x`, `/etc/x`).
    const name = displayName(h.name.replace(/^(\.\/)+(?=.)/, ''));
    yield* tarEntryFragments(ctx, [...chain, name], entry, h.size ?? 0, depth);
  }
}

/** The fragments of one regular file in a tar stream (an archive's, or an image layer's). */
export async function* tarEntryFragments(
  ctx: WalkContext,
  chain: string[],
  entry: TarEntry,
  size: number,
  depth: number,
): AsyncGenerator<Fragment> {
  const path = chainPath(chain);
  const name = baseName(chain[chain.length - 1] ?? '');
  ctx.budget.countEntry(path);
  if (skipByName(ctx, path, name)) {
    ctx.counts.skipped++;
    entry.resume();
    return;
  }
  const r = await readBounded(entry, size, ctx.budget.limits.maxEntryBytes, (h) => skipByHead(ctx, name, h));
  yield* afterRead(ctx, chain, r, depth);
}

function baseName(path: string): string {
  const trimmed = path.endsWith('/') ? path.slice(0, -1) : path;
  return trimmed.slice(trimmed.lastIndexOf('/') + 1);
}
