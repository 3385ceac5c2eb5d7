import { deflateRawSync } from 'node:zlib';
import { zipSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import { bufferAccess, CorruptArchiveError, EntryTooLargeError, readZipEntry, zipEntries } from './zip.js';

function zip(files: Record<string, string>, level: 0 | 6 = 6): Buffer {
  const z: Record<string, Uint8Array> = {};
  for (const [k, v] of Object.entries(files)) z[k] = Buffer.from(v);
  return Buffer.from(zipSync(z, { level }));
}

/** A one-entry zip whose directory claims `claimedSize` while the data inflates to `data`. */
function lyingZip(name: string, data: Buffer, claimedSize: number): Buffer {
  const raw = deflateRawSync(data);
  const n = Buffer.from(name);
  const local = Buffer.alloc(30);
  local.writeUInt32LE(0x04034b50, 0);
  local.writeUInt16LE(8, 8);
  local.writeUInt32LE(raw.length, 18);
  local.writeUInt32LE(claimedSize, 22);
  local.writeUInt16LE(n.length, 26);
  const central = Buffer.alloc(46);
  central.writeUInt32LE(0x02014b50, 0);
  central.writeUInt16LE(8, 10);
  central.writeUInt32LE(raw.length, 20);
  central.writeUInt32LE(claimedSize, 24);
  central.writeUInt16LE(n.length, 28);
  central.writeUInt32LE(0, 42);
  const cdOffset = local.length + n.length + raw.length;
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(1, 8);
  end.writeUInt16LE(1, 10);
  end.writeUInt32LE(central.length + n.length, 12);
  end.writeUInt32LE(cdOffset, 16);
  return Buffer.concat([local, n, raw, central, n, end]);
}

describe('zip reader', () => {
  it('lists entries from the central directory and reads stored and deflated data', () => {
    for (const level of [0, 6] as const) {
      const src = bufferAccess(zip({ 'a.txt': 'alpha\n', 'dir/b.txt': 'beta\n'.repeat(100) }, level));
      const entries = [...zipEntries(src)];
      expect(entries.map((e) => e.name)).toEqual(['a.txt', 'dir/b.txt']);
      expect(entries.map((e) => e.method)).toEqual(level === 0 ? [0, 0] : [8, 8]);
      expect(readZipEntry(src, entries[1]!, 1 << 20).toString()).toBe('beta\n'.repeat(100));
    }
  });

  it('reads a zip that has a trailing comment', () => {
    const z = zip({ 'a.txt': 'x' });
    const withComment = Buffer.concat([z, Buffer.from('a comment')]);
    withComment.writeUInt16LE(9, z.length - 2);
    expect([...zipEntries(bufferAccess(withComment))].map((e) => e.name)).toEqual(['a.txt']);
  });

  it('stops inflating at the cap even when the directory lies about the size', () => {
    const src = bufferAccess(lyingZip('zeros.txt', Buffer.alloc(5 * 1024 * 1024), 10));
    const [entry] = [...zipEntries(src)];
    expect(entry!.size).toBe(10);
    expect(() => readZipEntry(src, entry!, 1024 * 1024)).toThrow(EntryTooLargeError);
  });

  it('throws CorruptArchiveError on a truncated zip and on garbage data', () => {
    const z = zip({ 'a.txt': 'alpha' });
    expect(() => [...zipEntries(bufferAccess(z.subarray(0, z.length - 10)))]).toThrow(CorruptArchiveError);
    const bad = lyingZip('a.txt', Buffer.from('hello'), 5);
    bad[34] = 0xff; // damage the deflate stream
    bad[35] = 0xff;
    const src = bufferAccess(bad);
    expect(() => readZipEntry(src, [...zipEntries(src)][0]!, 100)).toThrow(CorruptArchiveError);
  });
});
