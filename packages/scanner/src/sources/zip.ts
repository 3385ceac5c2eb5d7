import { readSync } from 'node:fs';
import { inflateRawSync } from 'node:zlib';

/** Bytes that can be read at any offset: a file on disk, or a nested archive held in memory. */
export interface RandomAccess {
  readonly size: number;
  read(offset: number, length: number): Buffer;
}

/** Random access over a buffer. */
export function bufferAccess(buf: Buffer): RandomAccess {
  return {
    size: buf.length,
    read: (offset, length) => buf.subarray(offset, Math.min(buf.length, offset + length)),
  };
}

/** Random access over an open file (positioned reads: the file is never loaded whole). */
export function fileAccess(fd: number, size: number): RandomAccess {
  return {
    size,
    read(offset, length) {
      const n = Math.max(0, Math.min(length, size - offset));
      const buf = Buffer.allocUnsafe(n);
      let done = 0;
      while (done < n) {
        const got = readSync(fd, buf, done, n - done, offset + done);
        if (got === 0) break;
        done += got;
      }
      return buf.subarray(0, done);
    },
  };
}

/** A zip whose structure is broken; the message says where. */
export class CorruptArchiveError extends Error {
  override name = 'CorruptArchiveError';
}

/** An entry that inflated past the bytes it was allowed. */
export class EntryTooLargeError extends Error {
  override name = 'EntryTooLargeError';
}

/** One entry of a zip's central directory. */
export interface ZipEntry {
  name: string;
  method: number;
  compressedSize: number;
  size: number;
  localOffset: number;
  encrypted: boolean;
  isDirectory: boolean;
}

const EOCD_SIG = 0x06054b50;
const EOCD64_LOCATOR_SIG = 0x07064b50;
const EOCD64_SIG = 0x06064b50;
const CENTRAL_SIG = 0x02014b50;
const LOCAL_SIG = 0x04034b50;
const U32_MAX = 0xffffffff;
const utf8 = new TextDecoder('utf-8');

/** Reads the central directory lazily, entry by entry, so an entry limit stops a huge one early. */
export function* zipEntries(src: RandomAccess): Generator<ZipEntry> {
  const { offset, count, size } = findCentralDirectory(src);
  if (offset + size > src.size)
    throw new CorruptArchiveError('central directory runs past the end of the file');
  const dir = src.read(offset, size);
  let p = 0;
  for (let i = 0; i < count; i++) {
    if (p + 46 > dir.length || dir.readUInt32LE(p) !== CENTRAL_SIG) {
      throw new CorruptArchiveError(`central directory entry ${i + 1} of ${count} is damaged`);
    }
    const flags = dir.readUInt16LE(p + 8);
    const method = dir.readUInt16LE(p + 10);
    let compressedSize = dir.readUInt32LE(p + 20);
    let size = dir.readUInt32LE(p + 24);
    const nameLen = dir.readUInt16LE(p + 28);
    const extraLen = dir.readUInt16LE(p + 30);
    const commentLen = dir.readUInt16LE(p + 32);
    let localOffset = dir.readUInt32LE(p + 42);
    const nameBytes = dir.subarray(p + 46, p + 46 + nameLen);
    const extra = dir.subarray(p + 46 + nameLen, p + 46 + nameLen + extraLen);
    // Zip64: the sizes and offset that overflowed 32 bits are in extra field 0x0001, in this order.
    for (let e = 0; e + 4 <= extra.length; ) {
      const id = extra.readUInt16LE(e);
      const len = extra.readUInt16LE(e + 2);
      if (id === 0x0001) {
        let q = e + 4;
        const next = (): number => {
          if (q + 8 > e + 4 + len || q + 8 > extra.length)
            throw new CorruptArchiveError('damaged zip64 field');
          const v = Number(extra.readBigUInt64LE(q));
          q += 8;
          return v;
        };
        if (size === U32_MAX) size = next();
        if (compressedSize === U32_MAX) compressedSize = next();
        if (localOffset === U32_MAX) localOffset = next();
      }
      e += 4 + len;
    }
    const name = utf8.decode(nameBytes);
    yield {
      name,
      method,
      compressedSize,
      size,
      localOffset,
      encrypted: (flags & 1) !== 0,
      isDirectory: name.endsWith('/'),
    };
    p += 46 + nameLen + extraLen + commentLen;
  }
}

function findCentralDirectory(src: RandomAccess): { offset: number; count: number; size: number } {
  // The end record is 22 bytes plus a comment of up to 64 KiB, at the very end.
  const tailLen = Math.min(src.size, 22 + 0xffff);
  const tailStart = src.size - tailLen;
  const tail = src.read(tailStart, tailLen);
  for (let i = tail.length - 22; i >= 0; i--) {
    if (tail.readUInt32LE(i) !== EOCD_SIG) continue;
    let count = tail.readUInt16LE(i + 10);
    let size = tail.readUInt32LE(i + 12);
    let offset = tail.readUInt32LE(i + 16);
    if (i >= 20 && tail.readUInt32LE(i - 20) === EOCD64_LOCATOR_SIG) {
      const at = Number(tail.readBigUInt64LE(i - 20 + 8));
      const rec = src.read(at, 56);
      if (rec.length < 56 || rec.readUInt32LE(0) !== EOCD64_SIG) {
        throw new CorruptArchiveError('damaged zip64 end record');
      }
      count = Number(rec.readBigUInt64LE(32));
      size = Number(rec.readBigUInt64LE(40));
      offset = Number(rec.readBigUInt64LE(48));
    }
    return { offset, count, size };
  }
  throw new CorruptArchiveError('no end-of-central-directory record (truncated or not a zip)');
}

/** Where an entry's data starts: after its local header, whose name and extra lengths may differ. */
function dataOffset(src: RandomAccess, entry: ZipEntry): number {
  const h = src.read(entry.localOffset, 30);
  if (h.length < 30 || h.readUInt32LE(0) !== LOCAL_SIG) {
    throw new CorruptArchiveError(`local header of ${entry.name} is damaged`);
  }
  return entry.localOffset + 30 + h.readUInt16LE(26) + h.readUInt16LE(28);
}

/** Compression methods this reader can undo: stored and deflate. */
export function isSupportedMethod(method: number): boolean {
  return method === 0 || method === 8;
}

/**
 * An entry's bytes, at most `maxBytes` of them: inflation stops there whatever the headers claim,
 * so a zip bomb whose directory lies about sizes still costs at most `maxBytes`.
 */
export function readZipEntry(src: RandomAccess, entry: ZipEntry, maxBytes: number): Buffer {
  const start = dataOffset(src, entry);
  if (start + entry.compressedSize > src.size) {
    throw new CorruptArchiveError(`data of ${entry.name} runs past the end of the file`);
  }
  const raw = src.read(start, entry.compressedSize);
  if (entry.method === 0) {
    if (raw.length > maxBytes) throw new EntryTooLargeError(entry.name);
    return raw;
  }
  try {
    return inflateRawSync(raw, { maxOutputLength: Math.max(1, maxBytes) });
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (err.code === 'ERR_BUFFER_TOO_LARGE' || err instanceof RangeError)
      throw new EntryTooLargeError(entry.name);
    throw new CorruptArchiveError(`cannot inflate ${entry.name}: ${err.message}`);
  }
}
