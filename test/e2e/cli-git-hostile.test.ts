import { symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { keyfence, tempDir } from '../support/cli.js';
import { TestRepo } from '../support/git.js';
import { fake } from '../support/secrets.js';

interface JsonReport {
  findings: { ruleId: string; location: { path: string; line: number; commit?: string } }[];
  problems: { kind: string; path?: string; message: string }[];
}

function scanDiff(repo: TestRepo, range: string, ...extra: string[]): JsonReport & { code: number } {
  const run = keyfence(['scan', '--diff', range, '--format', 'json', ...extra], repo.dir);
  expect(run.stderr).not.toMatch(/internal error/);
  return { code: run.code, ...(JSON.parse(run.stdout) as JsonReport) };
}

function where(report: JsonReport): [string, number, string][] {
  return report.findings.map((f) => [f.location.path, f.location.line, f.ruleId]);
}

describe('keyfence scan --diff: line accounting', () => {
  // Each case: the file before (no final newline, VS Code's default) and after, and the line
  // the token ends up on.
  const cases: [string, (t: string) => string, (t: string) => string, number][] = [
    ['appended as the last line, no final newline', () => 'a\nb', (t) => `a\nb\nT=${t}`, 3],
    ['appended as the last line, with a final newline', () => 'a\nb', (t) => `a\nb\nT=${t}\n`, 3],
    ['appended before a new last line', () => 'a\nb', (t) => `a\nb\nT=${t}\nc`, 3],
    ['joined onto the old last line', () => 'a\nb', (t) => `a\nb T=${t}`, 2],
    ['prepended, the old last line kept', () => 'a\nb', (t) => `T=${t}\na\nb`, 1],
    ['inserted in the middle', () => 'a\nb', (t) => `a\nT=${t}\nb`, 2],
    ['a final newline removed after it', (t) => `a\nT=${t}\n`, () => 'a\nc', 0],
    ['the only line of a new file', () => '', (t) => `T=${t}`, 1],
    ['after a line holding a lone carriage return', () => 'a\n', (t) => `a\nx\ry\nT=${t}\n`, 3],
  ];
  for (const [name, oldText, newText, line] of cases) {
    it(`reports a token ${name} at the right line`, () => {
      const repo = new TestRepo();
      const token = fake.githubPat();
      const old = oldText(token);
      const base = repo.commit('init', old === '' ? {} : { 'app.env': old });
      repo.commit('edit', { 'app.env': newText(token) });
      const report = scanDiff(repo, `${base}..HEAD`);
      expect(where(report)).toEqual(line === 0 ? [] : [['app.env', line, 'github-pat']]);
    });
  }
});

describe('keyfence scan --diff: every insert position, with and without final newlines', () => {
  it('reports each token at its line', () => {
    const repo = new TestRepo();
    const old = ['one', 'two', 'three'];
    const files: Record<string, string> = {};
    const expected: [string, number, string][] = [];
    for (let at = 0; at <= old.length; at++) {
      for (const oldEnd of ['', '\n']) {
        for (const newEnd of ['', '\n']) {
          const name = `f${at}${oldEnd ? 'n' : 'x'}${newEnd ? 'n' : 'x'}.env`;
          const lines = [...old];
          lines.splice(at, 0, `TOKEN=${fake.githubPat()}`);
          files[name] = `${lines.join('\n')}${newEnd}`;
          repo.write({ [name]: `${old.join('\n')}${oldEnd}` });
          expected.push([name, at + 1, 'github-pat']);
        }
      }
    }
    const base = repo.commit('init');
    repo.commit('insert', files);
    expect(where(scanDiff(repo, `${base}..HEAD`))).toEqual(expected.sort((a, b) => a[0].localeCompare(b[0])));
  });
});

describe('keyfence scan --diff: large files', () => {
  it('finds a private key across the fragment cut, once', () => {
    const repo = new TestRepo();
    const base = repo.commit('init', { 'README.md': 'x\n' });
    const key = fake.rsaPrivateKey();
    // 64 characters a line (63 and the diff's "+"): the cut falls about 13 lines into the key.
    const filler = `${'a'.repeat(63)}\n`.repeat(8 * 16384 - 13);
    const fillerLines = 8 * 16384 - 13;
    repo.commit('big', { 'big/key.pem': `${filler}${key}` });
    const report = scanDiff(repo, `${base}..HEAD`);
    expect(where(report)).toEqual([['big/key.pem', fillerLines + 1, 'private-key-rsa']]);
  });
});

describe('keyfence scan --diff: overlong lines', () => {
  it('scans a 20 MiB one-line file whole and names a 20 MiB blob of NULs as not scanned', () => {
    const repo = new TestRepo();
    const base = repo.commit('init', { 'README.md': 'x\n' });
    const token = fake.githubPat();
    repo.commit('big lines', {
      'dist/app.min.js': `var a="${'ab;'.repeat(7 * 1024 * 1024)}";var t="${token}";`,
      'zeros.bin.txt': Buffer.alloc(20 * 1024 * 1024),
    });
    const report = scanDiff(repo, `${base}..HEAD`);
    expect(where(report)).toEqual([['dist/app.min.js', 1, 'github-pat']]);
    expect(report.problems).toEqual([
      { kind: 'skipped', path: 'zeros.bin.txt', message: expect.stringContaining('binary file') },
    ]);
  });
});

describe('keyfence scan --diff: what the pull request says about its own files', () => {
  it('scans .env files that a .gitattributes in the pull request marks -diff', () => {
    const repo = new TestRepo();
    const base = repo.commit('init', { 'README.md': 'x\n' });
    repo.commit('hide', {
      '.gitattributes': '*.env -diff\n*.txt binary\n',
      'deploy/app.env': `A=1\nTOKEN=${fake.githubPat()}\n`,
      'notes.txt': `stripe ${fake.stripeLive()}\n`,
    });
    const report = scanDiff(repo, `${base}..HEAD`);
    expect(where(report)).toEqual([
      ['deploy/app.env', 2, 'github-pat'],
      ['notes.txt', 1, 'stripe-secret-key'],
    ]);
  });

  it('decodes UTF-16 files (either byte order, with or without a byte-order mark)', () => {
    const repo = new TestRepo();
    const utf16 = (text: string, order: 'le' | 'be', bom: boolean): Buffer => {
      const le = Buffer.from(`${bom ? '\uFEFF' : ''}${text}`, 'utf16le');
      return order === 'le' ? le : Buffer.from(le).swap16();
    };
    const base = repo.commit('init', { 'old.txt': utf16(`kept ${fake.githubPat()}\r\n`, 'le', true) });
    repo.commit('add', {
      'le.txt': utf16(`one\r\nTOKEN=${fake.githubPat()}\r\n`, 'le', true),
      'be.txt': utf16(`one\ntwo\nSLACK=${fake.slackBot()}\n`, 'be', true),
      'plain.txt': utf16(`TOKEN=${fake.githubPat()}\n`, 'le', false),
      'old.txt': utf16(`kept line\r\nnew ${fake.stripeLive()}\r\n`, 'le', true),
    });
    const report = scanDiff(repo, `${base}..HEAD`);
    expect(where(report)).toEqual([
      ['be.txt', 3, 'slack-bot-token'],
      ['le.txt', 2, 'github-pat'],
      ['old.txt', 2, 'stripe-secret-key'],
      ['plain.txt', 1, 'github-pat'],
    ]);
  });

  it('names each binary file it leaves out, and scans them with --scan-binaries', () => {
    const repo = new TestRepo();
    const base = repo.commit('init', { 'README.md': 'x\n' });
    const blob = Buffer.concat([Buffer.from([0, 1, 2, 3, 0xff, 0]), Buffer.from(`\n${fake.githubPat()}\n`)]);
    const added = repo.commit('blob', { 'assets/blob.dat': blob, 'assets/logo.png': blob });
    const plain = scanDiff(repo, `${base}..HEAD`);
    expect(plain.findings).toEqual([]);
    expect(plain.problems).toEqual([
      {
        kind: 'skipped',
        path: 'assets/blob.dat',
        message: expect.stringMatching(new RegExp(`${added.slice(0, 12)}.*binary file`)),
      },
      {
        kind: 'skipped',
        path: 'assets/logo.png',
        message: expect.stringMatching(new RegExp(`${added.slice(0, 12)}.*binary file type`)),
      },
    ]);
    const all = scanDiff(repo, `${base}..HEAD`, '--scan-binaries');
    expect(where(all).map(([path]) => path)).toEqual(['assets/blob.dat']);
    expect(all.problems).toEqual([]);
  });
});

interface ConfigReport {
  config: {
    config: { origin: string; path?: string; commit?: string };
    baseline?: { origin: string; path?: string; commit?: string };
    ignoredChanges: string[];
  };
}

describe('keyfence scan --diff: config and baseline come from the base commit', () => {
  it('ignores an allowlist, disabled rules and baseline entries the range adds, and says so', () => {
    const repo = new TestRepo();
    const base = repo.commit('init', {
      '.keyfence.yaml': 'allowlist:\n  - paths: ["fixtures/**"]\n',
      '.keyfence-baseline.json': '{ "version": 1, "findings": [] }\n',
      'fixtures/sample.env': 'A=1\n',
    });
    const token = fake.githubPat();
    repo.write({ 'app.env': `TOKEN=${token}\n` });
    const accepted = keyfence(['baseline', '.', '--output', '.keyfence-baseline.json'], repo.dir);
    expect(accepted.code, accepted.stderr).toBe(0);
    repo.commit('leak and hide it', {
      '.keyfence.yaml': 'disabledRules: [github-pat]\nallowlist:\n  - paths: ["**"]\n',
      'fixtures/more.env': `STRIPE=${fake.stripeLive()}\n`,
    });
    const run = keyfence(
      ['scan', '--diff', `${base}..HEAD`, '--baseline', '.keyfence-baseline.json', '--format', 'json'],
      repo.dir,
    );
    expect(run.code, run.stderr).toBe(1);
    const report = JSON.parse(run.stdout) as JsonReport & ConfigReport;
    // The base's own allowlist (fixtures/**) still holds; the range's changes do not.
    expect(where(report)).toEqual([['app.env', 1, 'github-pat']]);
    expect(report.config.config).toEqual({ origin: 'base-commit', path: '.keyfence.yaml', commit: base });
    expect(report.config.baseline).toEqual({
      origin: 'base-commit',
      path: '.keyfence-baseline.json',
      commit: base,
    });
    expect(report.config.ignoredChanges).toEqual([
      expect.stringMatching(/^\.keyfence\.yaml disables rules: github-pat \(not applied/),
      expect.stringMatching(/^\.keyfence\.yaml adds an allowlist entry: paths \*\* \(not applied/),
      '.keyfence-baseline.json adds 1 entry: not used',
    ]);
    expect(run.stdout).not.toContain(token);
  });

  it('ignores a config the range adds where the base had none, and uses --config when given', () => {
    const repo = new TestRepo();
    const base = repo.commit('init', { 'README.md': 'x\n' });
    repo.commit('leak', {
      '.keyfence.yaml': 'allowlist:\n  - paths: ["**"]\n',
      'app.env': `TOKEN=${fake.githubPat()}\n`,
    });
    const run = keyfence(['scan', '--diff', `${base}..HEAD`, '--format', 'json'], repo.dir);
    expect(run.code, run.stderr).toBe(1);
    const report = JSON.parse(run.stdout) as JsonReport & ConfigReport;
    expect(where(report)).toEqual([['app.env', 1, 'github-pat']]);
    expect(report.config.config).toEqual({ origin: 'defaults' });
    expect(report.config.ignoredChanges).toEqual([
      expect.stringMatching(/^\.keyfence\.yaml \(new\) adds an allowlist entry: paths \*\*/),
    ]);
    const told = keyfence(
      ['scan', '--diff', `${base}..HEAD`, '--config', '.keyfence.yaml', '--format', 'json'],
      repo.dir,
    );
    expect(told.code, told.stderr).toBe(0);
    expect((JSON.parse(told.stdout) as ConfigReport).config.config).toEqual({
      origin: 'explicit',
      path: '.keyfence.yaml',
    });
  });
});

describe('keyfence scan --diff: reporting the range config changes leaks nothing', () => {
  it('counts allowlist regexes instead of quoting them, and never reads a symlinked config', () => {
    const repo = new TestRepo();
    const base = repo.commit('init', { 'README.md': 'x\n' });
    const token = fake.githubPat();
    repo.commit('hide by value', {
      '.keyfence.yaml': `allowlist:\n  - regexes: ["${token}"]\n`,
      'app.env': `TOKEN=${token}\n`,
    });
    const run = keyfence(['scan', '--diff', `${base}..HEAD`, '--format', 'json'], repo.dir);
    const report = JSON.parse(run.stdout) as JsonReport & ConfigReport;
    // One secret, reported once: where the range first wrote it (here, in its own config).
    expect(where(report)).toEqual([['.keyfence.yaml', 2, 'github-pat']]);
    expect(report.config.ignoredChanges).toEqual([
      expect.stringMatching(/^\.keyfence\.yaml \(new\) adds an allowlist entry: 1 regex /),
    ]);
    expect(run.stdout + run.stderr).not.toContain(token);

    const outside = tempDir('keyfence-outside-');
    const private_ = `runner-only-${fake.githubPat()}`;
    writeFileSync(join(outside, 'x.yaml'), `disabledRules: [${private_}]\n`);
    repo.remove('.keyfence.yaml');
    symlinkSync(join(outside, 'x.yaml'), join(repo.dir, '.keyfence.yaml'));
    repo.commit('link it');
    const linked = keyfence(['scan', '--diff', `${base}..HEAD`, '--format', 'json'], repo.dir);
    expect((JSON.parse(linked.stdout) as ConfigReport).config.ignoredChanges).toEqual([
      '.keyfence.yaml is a symbolic link: not read',
    ]);
    expect(linked.stdout + linked.stderr).not.toContain(private_);
  });
});

describe('keyfence scan --diff: renames out of an allowlisted or skipped path', () => {
  it('reports a token that a range adds under an allowlisted path and then renames out of it', () => {
    const repo = new TestRepo();
    const base = repo.commit('init', {
      '.keyfence.yaml': 'allowlist:\n  - paths: ["fixtures/**"]\n',
      'deploy/README.md': 'x\n',
    });
    const token = fake.githubPat();
    repo.commit('a fixture', { 'fixtures/app.env': `A=1\nTOKEN=${token}\n` });
    repo.git('mv', 'fixtures/app.env', 'deploy/app.env');
    repo.commit('move it');
    repo.commit('and a lock file', { 'yarn.lock': `T=${fake.githubPat()}\n` });
    repo.git('mv', 'yarn.lock', 'deploy/other.env');
    repo.commit('move that too');
    const report = scanDiff(repo, `${base}..HEAD`);
    expect(where(report).sort()).toEqual([
      ['deploy/app.env', 2, 'github-pat'],
      ['deploy/other.env', 1, 'github-pat'],
    ]);
  });
});

describe('keyfence scan --diff: a binary file made text later in the range', () => {
  it('reports a token added while its file held NULs, once a later commit drops them', () => {
    const repo = new TestRepo();
    const base = repo.commit('init', { 'README.md': 'x\n' });
    const token = fake.githubPat();
    repo.commit('binary for now', { 'deploy/app.env': `\0\nTOKEN=${token}\n` });
    repo.commit('now text', { 'deploy/app.env': `#\nTOKEN=${token}\n` });
    const report = scanDiff(repo, `${base}..HEAD`);
    expect(where(report)).toEqual([['deploy/app.env', 2, 'github-pat']]);
  });
});
