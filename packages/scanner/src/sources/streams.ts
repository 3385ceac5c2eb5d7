import { Readable, Transform, type TransformCallback } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { Decompress as ZstdDecompress } from 'fzstd';
import { RATIO_MIN_BYTES } from './limits.js';

/** Container formats recognised by their first bytes (and, for old tars, by name). */
export type ArchiveKind = 'zip' | 'tar' | 'gzip' | 'zstd';

/** Bytes needed to recognise every kind (a tar's magic sits at offset 257). */
export const SNIFF_BYTES = 512;

/** What kind of archive the bytes start with, if any. */
export function archiveKind(name: string, head: Uint8Array): ArchiveKind | undefined {
  const b = head;
  if (b.length >= 4 && b[0] === 0x50 && b[1] === 0x4b && (b[2] === 3 || b[2] === 5) && b[3] === b[2] + 1) {
    return 'zip';
  }
  if (b.length >= 2 && b[0] === 0x1f && b[1] === 0x8b) return 'gzip';
  if (b.length >= 4 && b[0] === 0x28 && b[1] === 0xb5 && b[2] === 0x2f && b[3] === 0xfd) return 'zstd';
  if (b.length >= 262 && Buffer.from(b.subarray(257, 262)).toString('latin1') === 'ustar') return 'tar';
  // A pre-POSIX tar has no magic: trust the name when the first block is a plausible header.
  if (/\.tar$/i.test(name) && b.length >= 512 && b[0] !== 0 && b[156] !== undefined) return 'tar';
  return undefined;
}

/** The first bytes of a stream, and a stream that yields everything (those bytes included). */
export async function sniff(
  stream: Readable,
  want = SNIFF_BYTES,
): Promise<{ head: Buffer; stream: Readable }> {
  const it = stream[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  const chunks: Buffer[] = [];
  let have = 0;
  let ended = false;
  while (have < want) {
    const r = await it.next();
    if (r.done) {
      ended = true;
      break;
    }
    const chunk = Buffer.isBuffer(r.value) ? r.value : Buffer.from(r.value);
    chunks.push(chunk);
    have += chunk.length;
  }
  const head = Buffer.concat(chunks);
  async function* all(): AsyncGenerator<Buffer> {
    if (head.length > 0) yield head;
    if (ended) return;
    for (let r = await it.next(); !r.done; r = await it.next()) yield r.value;
  }
  const out = Readable.from(all(), { objectMode: false });
  out.once('close', () => {
    if (!stream.destroyed) stream.destroy();
  });
  return { head: head.subarray(0, want), stream: out };
}

/** A compressed stream expanded past the allowed ratio (a decompression bomb). */
export class RatioExceededError extends Error {
  override name = 'RatioExceededError';
}

/**
 * Decompresses a gzip or zstd stream, stopping with RatioExceededError once the output passes
 * RATIO_MIN_BYTES and exceeds `maxRatio` times the input read so far.
 */
export function decompress(input: Readable, kind: 'gzip' | 'zstd', maxRatio: number): Readable {
  let inBytes = 0;
  let outBytes = 0;
  const countIn = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      inBytes += chunk.length;
      cb(null, chunk);
    },
  });
  const countOut = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      outBytes += chunk.length;
      if (outBytes > RATIO_MIN_BYTES && outBytes > maxRatio * Math.max(inBytes, 1)) {
        cb(
          new RatioExceededError(
            `expands more than ${maxRatio}x (${inBytes} compressed bytes gave ${outBytes}); likely a decompression bomb`,
          ),
        );
        return;
      }
      cb(null, chunk);
    },
  });
  const inflate = kind === 'gzip' ? createGunzip() : zstdStream();
  // Errors anywhere end the last stream, which is the one the reader sees.
  for (const s of [input, countIn, inflate]) s.once('error', (e) => countOut.destroy(e));
  countOut.once('close', () => {
    for (const s of [input, countIn, inflate]) if (!s.destroyed) s.destroy();
  });
  input.pipe(countIn).pipe(inflate).pipe(countOut);
  return countOut;
}

function zstdStream(): Transform {
  let push: ((chunk: Buffer) => void) | undefined;
  const d = new ZstdDecompress((chunk) => push?.(Buffer.from(chunk)));
  const run = (t: Transform, chunk: Uint8Array, final: boolean, cb: TransformCallback): void => {
    push = (c) => t.push(c);
    try {
      d.push(chunk, final);
      cb();
    } catch (e) {
      cb(new Error(`invalid zstd data: ${(e as Error).message}`));
    }
  };
  return new Transform({
    transform(chunk: Buffer, _enc, cb) {
      run(this, chunk, false, cb);
    },
    flush(cb) {
      run(this, new Uint8Array(0), true, cb);
    },
  });
}

/** What reading one entry gave. */
export type ReadResult =
  | { kind: 'content'; content: Buffer }
  | { kind: 'skipped' }
  | { kind: 'too-large'; size: number };

/**
 * Reads a stream whose size is known (a tar entry), at most `max` bytes. After the first
 * SNIFF_BYTES, `skipHead(head)` may decide the rest is not worth reading (a binary file); the
 * stream is then drained. Larger streams are drained too, after the same look at their head.
 */
export async function readBounded(
  stream: AsyncIterable<Buffer>,
  size: number,
  max: number,
  skipHead: (head: Buffer) => boolean,
): Promise<ReadResult> {
  const chunks: Buffer[] = [];
  let have = 0;
  let decided = false;
  let verdict: ReadResult['kind'] = 'content';
  for await (const c of stream) {
    const chunk = c as Buffer;
    if (verdict !== 'content') continue; // draining
    chunks.push(chunk);
    have += chunk.length;
    if (!decided && (have >= SNIFF_BYTES || have >= size)) {
      decided = true;
      const head = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
      if (skipHead(head.subarray(0, SNIFF_BYTES))) verdict = 'skipped';
      else if (size > max) verdict = 'too-large';
    }
    if (verdict === 'content' && have > max) verdict = 'too-large';
    if (verdict !== 'content') chunks.length = 0;
  }
  if (!decided && have > 0 && skipHead(Buffer.concat(chunks).subarray(0, SNIFF_BYTES))) verdict = 'skipped';
  if (verdict === 'skipped') return { kind: 'skipped' };
  if (verdict === 'too-large') return { kind: 'too-large', size: Math.max(size, have) };
  return { kind: 'content', content: chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks) };
}
