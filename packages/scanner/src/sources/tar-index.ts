import { readSync } from 'node:fs';

/** Where one regular file's data sits inside an uncompressed tar. */
export interface TarSpan {
  offset: number;
  size: number;
}

const BLOCK = 512;

/**
 * Lists an uncompressed tar's regular files by reading only its headers (seeking past the data),
 * so an image archive's small JSON files and large layers can then be read in any order.
 * Understands ustar prefixes, pax `path`/`size` records and GNU long names.
 */
export function indexTar(fd: number, fileSize: number): Map<string, TarSpan> {
  const files = new Map<string, TarSpan>();
  const header = Buffer.alloc(BLOCK);
  let pos = 0;
  let paxPath: string | undefined;
  let paxSize: number | undefined;
  let longName: string | undefined;
  while (pos + BLOCK <= fileSize) {
    if (readSync(fd, header, 0, BLOCK, pos) < BLOCK) break;
    if (header.every((b) => b === 0)) break;
    if (!checksumOk(header)) throw new Error(`damaged tar header at byte ${pos}`);
    const type = String.fromCharCode(header[156] || 0x30);
    const headerSize = readNumber(header.subarray(124, 136));
    const dataAt = pos + BLOCK;
    if (type === 'x' || type === 'L') {
      const data = Buffer.alloc(headerSize);
      readSync(fd, data, 0, headerSize, dataAt);
      if (type === 'L') longName = cString(data);
      else ({ path: paxPath, size: paxSize } = readPax(data));
      pos = dataAt + Math.ceil(headerSize / BLOCK) * BLOCK;
      continue;
    }
    let size = headerSize;
    if (type !== 'g') {
      size = paxSize ?? headerSize;
      const ustar = header.subarray(257, 262).toString('latin1') === 'ustar';
      const prefix = ustar ? cString(header.subarray(345, 500)) : '';
      const base = cString(header.subarray(0, 100));
      const name = normalize(paxPath ?? longName ?? (prefix ? `${prefix}/${base}` : base));
      if (type === '0' || type === '\0' || type === '7') files.set(name, { offset: dataAt, size });
      paxPath = undefined;
      paxSize = undefined;
      longName = undefined;
    }
    pos = dataAt + Math.ceil(size / BLOCK) * BLOCK;
  }
  return files;
}

function normalize(name: string): string {
  return name.replace(/^(\.\/)+/, '').replace(/^\/+/, '');
}

function cString(buf: Buffer): string {
  const end = buf.indexOf(0);
  return buf.subarray(0, end < 0 ? buf.length : end).toString('utf8');
}

function readNumber(field: Buffer): number {
  // GNU base-256 for sizes past 8 GiB: the high bit of the first byte is set.
  if ((field[0]! & 0x80) !== 0) {
    let v = 0;
    for (let i = 1; i < field.length; i++) v = v * 256 + field[i]!;
    return v;
  }
  const text = cString(field).trim();
  return text === '' ? 0 : Number.parseInt(text, 8);
}

function checksumOk(header: Buffer): boolean {
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : header[i]!;
  return readNumber(header.subarray(148, 156)) === sum;
}

function readPax(data: Buffer): { path?: string; size?: number } {
  const out: { path?: string; size?: number } = {};
  let p = 0;
  while (p < data.length) {
    const space = data.indexOf(0x20, p);
    if (space < 0) break;
    const len = Number.parseInt(data.subarray(p, space).toString('latin1'), 10);
    if (!Number.isFinite(len) || len <= 0) break;
    const record = data.subarray(space + 1, p + len - 1).toString('utf8');
    const eq = record.indexOf('=');
    const key = record.slice(0, eq);
    const value = record.slice(eq + 1);
    if (key === 'path') out.path = value;
    else if (key === 'size') out.size = Number(value);
    p += len;
  }
  return out;
}
