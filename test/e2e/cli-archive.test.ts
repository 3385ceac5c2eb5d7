import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { type Zippable, zipSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import { keyfence, tempDir } from '../support/cli.js';
import { tarBytes } from '../support/oci.js';
import { sarifValidationErrors } from '../support/sarif.js';
import { fake } from '../support/secrets.js';

function zip(files: Record<string, string | Uint8Array>, level: 0 | 6 | 9 = 6): Buffer {
  const z: Zippable = {};
  for (const [name, content] of Object.entries(files)) {
    z[name] = typeof content === 'string' ? Buffer.from(content) : content;
  }
  return Buffer.from(zipSync(z, { level }));
}

function write(dir: string, name: string, bytes: Buffer | string): string {
  mkdirSync(join(dir, name, '..'), { recursive: true });
  writeFileSync(join(dir, name), bytes);
  return name;
}

function expectNoSecret(run: { stdout: string; stderr: string }, ...secrets: string[]): void {
  for (const s of secrets) {
    expect(run.stdout).not.toContain(s);
    expect(run.stderr).not.toContain(s);
  }
}

interface Report {
  findings: { ruleId: string; location: { path: string; line: number; chain?: string[] } }[];
  problems: { kind: string; path?: string; message: string }[];
}

function json(run: { stdout: string }): Report {
  return JSON.parse(run.stdout) as Report;
}

describe('keyfence scan --archive', () => {
  it('finds a secret in a jar inside a tar inside a zip and reports the whole chain', async () => {
    const token = fake.githubPat();
    const jar = zip({
      'META-INF/MANIFEST.MF': 'Manifest-Version: 1.0\n',
      'application.properties': `\ngithub.token=${token}\n`,
    });
    const tar = await tarBytes([
      { name: 'lib/' },
      { name: 'lib/app.jar', content: jar },
      { name: 'README', content: 'hi\n' },
    ]);
    const dir = tempDir();
    write(dir, 'dist.zip', zip({ 'bundle.tar': tar, 'notes.txt': 'nothing\n' }));
    const run = keyfence(['scan', '--archive', 'dist.zip', '--format', 'json'], dir);
    expect(run.code).toBe(1);
    const report = json(run);
    expect(report.findings).toHaveLength(1);
    expect(report.findings[0]).toMatchObject({
      ruleId: 'github-pat',
      location: {
        path: 'dist.zip!/bundle.tar!/lib/app.jar!/application.properties',
        line: 2,
        chain: ['dist.zip', 'bundle.tar', 'lib/app.jar', 'application.properties'],
      },
    });
    const text = keyfence(['scan', '--archive', 'dist.zip'], dir);
    expect(text.stdout).toContain('dist.zip!/bundle.tar!/lib/app.jar!/application.properties');
    const sarif = keyfence(
      ['scan', '--archive', 'dist.zip', '--format', 'sarif', '--output', 'out.sarif'],
      dir,
    );
    expect(sarif.code).toBe(1);
    expect(sarifValidationErrors(join(dir, 'out.sarif'))).toEqual([]);
    expect(readFileSync(join(dir, 'out.sarif'), 'utf8')).not.toContain(token);
    expectNoSecret(run, token);
    expectNoSecret(text, token);
  });

  it.each([
    ['app.war', 'zip'],
    ['app.ear', 'zip'],
    ['pkg-1.0-py3-none-any.whl', 'zip'],
    ['Pkg.1.0.0.nupkg', 'zip'],
    ['site.tgz', 'tgz'],
    ['site.tar.gz', 'tgz'],
    ['site.tar', 'tar'],
  ])('opens %s', async (name, kind) => {
    const key = fake.awsAccessKeyId();
    const files = { 'conf/settings.ini': `[aws]\naws_access_key_id = ${key}\n` };
    const tar = await tarBytes([{ name: 'conf/settings.ini', content: files['conf/settings.ini'] }]);
    const bytes = kind === 'zip' ? zip(files) : kind === 'tgz' ? gzipSync(tar) : tar;
    const dir = tempDir();
    write(dir, name, bytes);
    const run = keyfence(['scan', '--archive', name, '--format', 'json'], dir);
    expect(run.code).toBe(1);
    expect(json(run).findings.map((f) => f.location.path)).toEqual([`${name}!/conf/settings.ini`]);
    expectNoSecret(run, key);
  });

  it('reports a zip bomb as a limit and goes on to the next archive', () => {
    const token = fake.stripeLive();
    const dir = tempDir();
    // 64 MiB of zeros deflate to about 64 KiB: a ratio near 1000.
    write(dir, 'bomb.zip', zip({ 'zeros.txt': new Uint8Array(64 * 1024 * 1024) }, 9));
    write(dir, 'ok.zip', zip({ 'pay.env': `STRIPE_KEY=${token}\n` }));
    const run = keyfence(['scan', '--archive', 'bomb.zip', '--archive', 'ok.zip', '--format', 'json'], dir);
    expect(run.code).toBe(1);
    const report = json(run);
    expect(report.findings.map((f) => f.location.path)).toEqual(['ok.zip!/pay.env']);
    expect(report.problems).toContainEqual(
      expect.objectContaining({
        kind: 'limit',
        path: 'bomb.zip!/zeros.txt',
        message: expect.stringMatching(/zip bomb/),
      }),
    );
    const text = keyfence(['scan', '--archive', 'bomb.zip'], dir);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/warning: bomb\.zip!\/zeros\.txt: expands more than 100x/);
    expectNoSecret(run, token);
  });

  it('stops opening archives past the depth limit, and opens them when it is raised', () => {
    const token = fake.githubPat();
    let inner = zip({ 'deep.env': `TOKEN=${token}\n` });
    for (let i = 7; i >= 1; i--) inner = zip({ [`level${i}.zip`]: inner });
    const dir = tempDir();
    write(dir, 'nest.zip', inner);
    const run = keyfence(['scan', '--archive', 'nest.zip', '--format', 'json'], dir);
    expect(run.code).toBe(0);
    const report = json(run);
    expect(report.findings).toEqual([]);
    expect(report.problems).toContainEqual(
      expect.objectContaining({
        kind: 'limit',
        message: expect.stringMatching(/nested deeper than 5 levels/),
      }),
    );
    const deeper = keyfence(
      ['scan', '--archive', 'nest.zip', '--archive-max-depth', '10', '--format', 'json'],
      dir,
    );
    expect(deeper.code).toBe(1);
    const f = json(deeper).findings[0]!;
    expect(f.location.chain).toHaveLength(9);
    expect(f.location.path).toMatch(/^nest\.zip!\/level1\.zip!\/.*!\/level7\.zip!\/deep\.env$/);
    expectNoSecret(deeper, token);
  });

  it('reports entries named with ../ or absolute paths by name and writes nothing to disk', () => {
    const a = fake.githubPat();
    const b = fake.awsAccessKeyId();
    const dir = tempDir();
    write(
      dir,
      'slip.zip',
      zip({ '../../etc/evil.env': `TOKEN=${a}\n`, '/abs/creds.env': `AWS_ACCESS_KEY_ID=${b}\n` }),
    );
    const before = readdirSync(dir);
    const run = keyfence(['scan', '--archive', 'slip.zip', '--format', 'json'], join(dir));
    expect(run.code).toBe(1);
    expect(
      json(run)
        .findings.map((f) => f.location.path)
        .sort(),
    ).toEqual(['slip.zip!/../../etc/evil.env', 'slip.zip!//abs/creds.env']);
    expect(readdirSync(dir)).toEqual(before);
    expect(existsSync(join(dir, '..', '..', 'etc', 'evil.env'))).toBe(false);
    expectNoSecret(run, a, b);
  });

  it('reports a corrupt archive clearly and scans the other inputs', () => {
    const token = fake.slackBot();
    const dir = tempDir();
    const good = zip({ 'chat.env': `SLACK_TOKEN=${token}\n` });
    write(dir, 'broken.zip', good.subarray(0, good.length - 30));
    write(dir, 'broken.tar.gz', gzipSync(Buffer.from('not a tar at all, '.repeat(100))).subarray(0, 40));
    write(dir, 'good.zip', good);
    const run = keyfence(
      [
        'scan',
        '--archive',
        'broken.zip',
        '--archive',
        'broken.tar.gz',
        '--archive',
        'good.zip',
        '--format',
        'json',
      ],
      dir,
    );
    expect(run.code).toBe(1);
    const report = json(run);
    expect(report.findings.map((f) => f.location.path)).toEqual(['good.zip!/chat.env']);
    expect(report.problems).toContainEqual(
      expect.objectContaining({
        kind: 'unreadable',
        path: 'broken.zip',
        message: expect.stringMatching(/^corrupt zip/),
      }),
    );
    expect(report.problems).toContainEqual(
      expect.objectContaining({
        kind: 'unreadable',
        path: 'broken.tar.gz',
        message: expect.stringMatching(/^corrupt gzip/),
      }),
    );
    expectNoSecret(run, token);
  });

  it('applies the entry-count, entry-size and total-size limits, each with a clear message', () => {
    const token = fake.githubPat();
    const dir = tempDir();
    const files: Record<string, string> = {};
    for (let i = 0; i < 10; i++) files[`f${i}.txt`] = `line ${i}\n`.repeat(200);
    files['z-last.env'] = `TOKEN=${token}\n`;
    write(dir, 'many.zip', zip(files));
    const count = json(
      keyfence(['scan', '--archive', 'many.zip', '--archive-max-entries', '3', '--format', 'json'], dir),
    );
    expect(count.problems).toContainEqual(
      expect.objectContaining({
        kind: 'limit',
        message: expect.stringMatching(/more than 3 entries.*--archive-max-entries/),
      }),
    );
    expect(count.findings).toEqual([]);
    const size = json(
      keyfence(
        ['scan', '--archive', 'many.zip', '--archive-max-entry-size', '1KiB', '--format', 'json'],
        dir,
      ),
    );
    expect(size.problems.filter((p) => /over the per-entry limit of 1 KiB/.test(p.message))).toHaveLength(10);
    expect(size.findings.map((f) => f.location.path)).toEqual(['many.zip!/z-last.env']);
    const total = json(
      keyfence(
        ['scan', '--archive', 'many.zip', '--archive-max-total-size', '4KiB', '--format', 'json'],
        dir,
      ),
    );
    expect(total.problems).toContainEqual(
      expect.objectContaining({
        kind: 'limit',
        message: expect.stringMatching(/more than 4 KiB uncompressed/),
      }),
    );
    const bad = keyfence(['scan', '--archive', 'many.zip', '--archive-max-entry-size', 'lots'], dir);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--archive-max-entry-size takes a size');
  });

  it('expands quoted globs, skips lock files and binaries inside archives, and fails on a missing archive', () => {
    const a = fake.githubPat();
    const b = fake.githubPat();
    const dir = tempDir();
    write(dir, 'dist/a.zip', zip({ 'a.env': `TOKEN=${a}\n`, 'package-lock.json': `{"token":"${b}"}\n` }));
    write(dir, 'dist/sub/b.zip', zip({ 'b.env': `TOKEN=${b}\n`, 'logo.png': `${b}\n` }));
    const run = keyfence(['scan', '--archive', 'dist/**/*.zip', '--format', 'json'], dir);
    expect(run.code).toBe(1);
    expect(
      json(run)
        .findings.map((f) => f.location.path)
        .sort(),
    ).toEqual(['dist/a.zip!/a.env', 'dist/sub/b.zip!/b.env']);
    expectNoSecret(run, a, b);
    const missing = keyfence(['scan', '--archive', 'nope.zip'], dir);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('no such archive: nope.zip');
    const none = keyfence(['scan', '--archive', 'dist/*.jar'], dir);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('no file matches --archive dist/*.jar');
  });

  it('scans a folder and an archive in one run when both are given', () => {
    const a = fake.githubPat();
    const b = fake.stripeLive();
    const dir = tempDir();
    write(dir, 'src/app.js', `const t = '${a}';\n`);
    write(dir, 'out.zip', zip({ 'pay.env': `STRIPE=${b}\n` }));
    const run = keyfence(['scan', 'src', '--archive', 'out.zip', '--format', 'json'], dir);
    expect(run.code).toBe(1);
    expect(
      json(run)
        .findings.map((f) => f.location.path)
        .sort(),
    ).toEqual(['app.js', 'out.zip!/pay.env']);
    expectNoSecret(run, a, b);
  });
});
