import { spawnSync } from 'node:child_process';

/** Blobs larger than this are not read into memory; they are named as not scanned instead. */
export const MAX_BLOB_BYTES = 64 * 1024 * 1024;

/** What a blob's bytes are, judged from its first bytes as folder mode and git do. */
export type BlobEncoding = 'utf16le' | 'utf16be' | 'binary';

/**
 * Tells UTF-16 from other binary data: a byte-order mark, or (without one) NULs on every other
 * byte of the first 4 KB, which is what ASCII-heavy UTF-16 text looks like.
 */
export function blobEncoding(bytes: Uint8Array): BlobEncoding {
  if (bytes[0] === 0xff && bytes[1] === 0xfe) return 'utf16le';
  if (bytes[0] === 0xfe && bytes[1] === 0xff) return 'utf16be';
  const n = Math.min(bytes.length, 4096) & ~1;
  if (n < 4) return 'binary';
  let evenNul = 0;
  let oddNul = 0;
  for (let i = 0; i < n; i += 2) {
    if (bytes[i] === 0) evenNul++;
    if (bytes[i + 1] === 0) oddNul++;
  }
  const pairs = n / 2;
  // Mostly NULs on one side and none on the other: text in UTF-16, not a binary format.
  if (oddNul > pairs * 0.7 && evenNul === 0) return 'utf16le';
  if (evenNul > pairs * 0.7 && oddNul === 0) return 'utf16be';
  return 'binary';
}

/** Decodes UTF-16 text (either byte order), dropping a byte-order mark. */
export function decodeUtf16(bytes: Buffer, encoding: 'utf16le' | 'utf16be'): string {
  let body = bytes;
  if (encoding === 'utf16be') {
    body = Buffer.from(bytes.subarray(0, bytes.length & ~1));
    body.swap16();
  }
  return body.toString('utf16le').replace(/^\uFEFF/, '');
}

/** Reads a blob's bytes, or why it could not be read (too large, missing). */
export function readBlob(repo: string, sha: string): Buffer | { reason: string } {
  const size = spawnSync('git', ['cat-file', '-s', sha], { cwd: repo, encoding: 'utf8' });
  if (size.status !== 0) return { reason: 'its blob is not in this clone' };
  if (Number(size.stdout.trim()) > MAX_BLOB_BYTES) return { reason: 'larger than 64 MiB' };
  const r = spawnSync('git', ['cat-file', 'blob', sha], { cwd: repo, maxBuffer: MAX_BLOB_BYTES + 1024 });
  if (r.status !== 0 || !Buffer.isBuffer(r.stdout)) return { reason: 'its blob could not be read' };
  return r.stdout;
}

/**
 * The lines of `text` (1-based numbers) that none of the `older` texts has: the added lines of a
 * file whose patch git could not show line by line (UTF-16), found by comparing whole lines.
 */
export function addedLines(text: string, older: string[]): { lines: string[]; lineNumbers: number[] } {
  const before = new Map<string, number>();
  for (const o of older) {
    for (const l of o.split(/\r?\n/)) before.set(l, (before.get(l) ?? 0) + 1);
  }
  const lines: string[] = [];
  const lineNumbers: number[] = [];
  text.split(/\r?\n/).forEach((l, i) => {
    const left = before.get(l) ?? 0;
    if (left > 0) before.set(l, left - 1);
    else if (l !== '') {
      lines.push(l);
      lineNumbers.push(i + 1);
    }
  });
  return { lines, lineNumbers };
}
