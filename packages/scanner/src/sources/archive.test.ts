import { closeSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { zipSync } from 'fflate';
import { pack } from 'tar-stream';
import { afterAll, describe, expect, it } from 'vitest';
import type { Fragment } from '../engine/detector.js';
import type { ScanProblem } from '../finding.js';
import { archiveFileFragments, contentFragments, displayName, type WalkContext } from './archive.js';
import { DEFAULT_LIMITS, InputBudget } from './limits.js';
import { indexTar } from './tar-index.js';

const dir = mkdtempSync(join(tmpdir(), 'keyfence-archive-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function context(problems: ScanProblem[] = [], limits = {}): WalkContext {
  return {
    budget: new InputBudget('in', { ...DEFAULT_LIMITS, ...limits }, problems),
    skipLockfiles: true,
    scanBinaries: false,
    location: {},
    chainAlways: true,
    counts: { files: 0, bytes: 0, skipped: 0 },
  };
}

async function collect(gen: AsyncIterable<Fragment>): Promise<Fragment[]> {
  const out: Fragment[] = [];
  for await (const f of gen) out.push(f);
  return out;
}

async function tar(entries: { name: string; content: string | Buffer }[]): Promise<Buffer> {
  const p = pack();
  const chunks: Buffer[] = [];
  p.on('data', (c: unknown) => chunks.push(c as Buffer));
  const done = new Promise<void>((resolve) => p.on('end', () => resolve()));
  for (const e of entries) p.entry({ name: e.name }, Buffer.from(e.content));
  p.finalize();
  await done;
  return Buffer.concat(chunks);
}

describe('archive walker', () => {
  it('cuts a large text entry into overlapping fragments with the right start lines', async () => {
    const line = `${'a'.repeat(99)}\n`;
    const text = line.repeat(100_000); // 10 MB: two fragments
    const fragments = await collect(contentFragments(context(), ['big.txt'], Buffer.from(text), 0));
    expect(fragments.length).toBe(2);
    const second = fragments[1]!;
    const offset = text.length - second.text.length;
    expect(second.startLine).toBe(text.slice(0, offset).split('\n').length);
    expect(second.startColumn).toBe(offset - (text.lastIndexOf('\n', offset - 1) + 1));
    expect(fragments[0]!.text.length).toBe(8 * 1024 * 1024);
  });

  it('opens a single gzip-compressed file as the file inside, and skips binaries and lock files', async () => {
    const ctx = context();
    const gz = gzipSync('TOKEN=abc\n');
    const [f] = await collect(contentFragments(ctx, ['app.env.gz'], gz, 0));
    expect(f).toMatchObject({
      path: 'app.env.gz!/app.env',
      text: 'TOKEN=abc\n',
      location: { chain: ['app.env.gz', 'app.env'] },
    });
    const zip = Buffer.from(
      zipSync({
        'yarn.lock': Buffer.from('x'),
        'blob.bin': Buffer.from([0, 1, 2]),
        raw: Buffer.from([1, 0, 2]),
      }),
    );
    expect(await collect(contentFragments(ctx, ['a.zip'], zip, 0))).toEqual([]);
    expect(ctx.counts.skipped).toBe(3);
  });

  it('reads a tar.gz file from disk, with pax long names, and escapes control characters in names', async () => {
    const long = `${'deep/'.repeat(30)}settings.env`;
    const file = join(dir, 'site.tgz');
    writeFileSync(
      file,
      gzipSync(
        await tar([
          { name: long, content: 'K=v\n' },
          { name: 'evil\nname.txt', content: 'x\n' },
        ]),
      ),
    );
    const fragments = await collect(archiveFileFragments(context(), file, 'site.tgz'));
    expect(fragments.map((f) => f.path)).toEqual([`site.tgz!/${long}`, 'site.tgz!/evil\\x0aname.txt']);
    expect(displayName('a\x1bb')).toBe('a\\x1bb');
  });

  it('reports a file that is not an archive and a gzip bomb as problems', async () => {
    const problems: ScanProblem[] = [];
    const plain = join(dir, 'plain.zip');
    writeFileSync(plain, 'just text');
    expect(await collect(archiveFileFragments(context(problems), plain, 'plain.zip'))).toEqual([]);
    const bomb = join(dir, 'bomb.tar.gz');
    writeFileSync(bomb, gzipSync(Buffer.alloc(32 * 1024 * 1024), { level: 9 }));
    expect(await collect(archiveFileFragments(context(problems), bomb, 'bomb.tar.gz'))).toEqual([]);
    expect(problems.map((p) => [p.kind, p.path])).toEqual([
      ['unreadable', 'plain.zip'],
      ['limit', 'bomb.tar.gz'],
    ]);
    expect(problems[1]!.message).toMatch(/expands more than 100x/);
  });
});

describe('zip bombs', () => {
  it('stops inflating an entry whose directory understates its size, at the ratio cap', async () => {
    const z = Buffer.from(zipSync({ 'zeros.txt': new Uint8Array(16 * 1024 * 1024) }, { level: 9 }));
    const central = z.indexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02]));
    z.writeUInt32LE(100, central + 24); // the directory now claims 100 bytes
    const problems: ScanProblem[] = [];
    expect(await collect(contentFragments(context(problems), ['lies.zip'], z, 0))).toEqual([]);
    expect(problems).toEqual([
      expect.objectContaining({
        kind: 'limit',
        path: 'lies.zip!/zeros.txt',
        message: expect.stringMatching(/\(16 KiB to over 1.6 MiB\)/),
      }),
    ]);
  });
});

describe('indexTar', () => {
  it('finds regular files with their offsets, long names included', async () => {
    const long = `blobs/sha256/${'f'.repeat(120)}`;
    const file = join(dir, 'index.tar');
    writeFileSync(
      file,
      await tar([
        { name: 'index.json', content: '{}' },
        { name: long, content: 'layer-bytes' },
      ]),
    );
    const fd = openSync(file, 'r');
    try {
      const files = indexTar(fd, 10_000);
      expect([...files.keys()]).toEqual(['index.json', long]);
      expect(files.get(long)!.size).toBe(11);
    } finally {
      closeSync(fd);
    }
  });
});
