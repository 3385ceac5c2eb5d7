import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { keyfence, tempDir } from '../support/cli.js';
import { TestRepo } from '../support/git.js';
import { fake, randomString } from '../support/secrets.js';

interface JsonFinding {
  ruleId: string;
  location: { path: string; line: number; commit?: string; author?: string };
}

function findings(run: { stdout: string }): JsonFinding[] {
  return JSON.parse(run.stdout).findings;
}

describe('keyfence scan --diff', () => {
  it('reports a token added in one commit of a range and removed in a later one, at the adding commit', () => {
    const repo = new TestRepo();
    const base = repo.commit('init', { 'README.md': 'hi\n' });
    repo.git('checkout', '-q', '-b', 'feature');
    const token = fake.githubPat();
    const adding = repo.commit('add config', { 'config/app.env': `A=1\nB=2\nGITHUB_TOKEN=${token}\n` });
    repo.commit('remove config', { 'config/app.env': 'A=1\nB=2\n' });
    const run = keyfence(['scan', '--diff', `${base}..feature`, '--format', 'json'], repo.dir);
    expect(run.code).toBe(1);
    expect(findings(run)).toMatchObject([
      {
        ruleId: 'github-pat',
        location: { path: 'config/app.env', line: 3, commit: adding, author: 'Dev One <dev@example.com>' },
      },
    ]);
    expect(run.stdout + run.stderr).not.toContain(token);
  });

  it('reports only added lines, with line numbers in that commit version of the file', () => {
    const repo = new TestRepo();
    const old = fake.githubPat();
    const base = repo.commit('init', { 'app.py': `a = 1\nOLD = "${old}"\nb = 2\n` });
    const token = fake.stripeLive();
    repo.commit('edit', { 'app.py': `a = 1\nOLD = "${old}"\nnew = 3\nb = 2\nSTRIPE = "${token}"\n` });
    const run = keyfence(['scan', '--diff', `${base}..HEAD`, '--format', 'json'], repo.dir);
    expect(findings(run).map((f) => [f.location.path, f.location.line, f.ruleId])).toEqual([
      ['app.py', 5, 'stripe-secret-key'],
    ]);
  });

  it('handles renames, binary files, file names with spaces and unicode, and merge commits', () => {
    const repo = new TestRepo();
    const base = repo.commit('init', { 'keep.txt': 'x\n' });
    repo.git('checkout', '-q', '-b', 'feature');
    const inName = fake.githubPat();
    repo.commit('unicode', { 'dir with space/naïve file.txt': `\ntoken: ${inName}\n` });
    repo.git('mv', 'keep.txt', 'kept.txt');
    repo.commit('rename only');
    repo.commit('binary', {
      'blob.dat': Buffer.concat([Buffer.from([0, 1, 2]), Buffer.from(fake.githubPat())]),
    });
    repo.git('checkout', '-q', 'main');
    const onMain = fake.githubPat();
    repo.commit('main work', { 'main.txt': `t=${onMain}\n` });
    repo.git('checkout', '-q', 'feature');
    repo.git('merge', '-q', '--no-edit', 'main');
    // Range from the old base: main's commit is inside it and reported once, at that commit.
    const all = findings(keyfence(['scan', '--diff', `${base}..feature`, '--format', 'json'], repo.dir));
    expect(all.map((f) => [f.location.path, f.location.line]).sort()).toEqual([
      ['dir with space/naïve file.txt', 2],
      ['main.txt', 1],
    ]);
    // Range from main: the merge brings main's lines but adds none of its own.
    const pr = findings(keyfence(['scan', '--diff', 'main..feature', '--format', 'json'], repo.dir));
    expect(pr.map((f) => f.location.path)).toEqual(['dir with space/naïve file.txt']);
  });

  it('reports lines an evil merge wrote itself', () => {
    const repo = new TestRepo();
    const base = repo.commit('init', { 'a.txt': 'a\n' });
    repo.git('checkout', '-q', '-b', 'side');
    repo.commit('side', { 'b.txt': 'b\n' });
    repo.git('checkout', '-q', 'main');
    repo.commit('main', { 'c.txt': 'c\n' });
    repo.git('merge', '-q', '--no-commit', 'side');
    const token = fake.githubPat();
    repo.write({ 'merge-only.txt': `tok=${token}\n` });
    repo.git('add', '-A');
    repo.git('commit', '-q', '-m', 'merge with extra');
    const merge = repo.head();
    const run = keyfence(['scan', '--diff', `${base}..main`, '--format', 'json'], repo.dir);
    expect(findings(run)).toMatchObject([{ location: { path: 'merge-only.txt', line: 1, commit: merge } }]);
  });

  it('fetches the history a shallow clone lacks from its remote', () => {
    const origin = new TestRepo();
    const base = origin.commit('init', { 'README.md': 'x\n' });
    for (let i = 0; i < 5; i++) origin.commit(`c${i}`, { [`f${i}.txt`]: `${i}\n` });
    origin.commit('leak', { 'leak.env': `TOKEN=${fake.githubPat()}\n` });
    const clone = tempDir('keyfence-shallow-');
    execFileSync('git', ['clone', '-q', '--depth', '1', `file://${origin.dir}`, join(clone, 'c')]);
    const run = keyfence(['scan', '--diff', `${base}..HEAD`, '--format', 'json'], join(clone, 'c'));
    expect(run.stderr).toBe('');
    expect(findings(run).map((f) => f.location.path)).toEqual(['leak.env']);
  });

  it('fails with the fetch-depth hint when a shallow clone cannot fetch what the range needs', () => {
    const origin = new TestRepo();
    const base = origin.commit('init', { 'README.md': 'x\n' });
    origin.commit('two', { 'b.txt': 'b\n' });
    origin.commit('three', { 'c.txt': 'c\n' });
    const clone = tempDir('keyfence-shallow-');
    const dir = join(clone, 'c');
    execFileSync('git', ['clone', '-q', '--depth', '2', `file://${origin.dir}`, dir]);
    execFileSync('git', ['remote', 'set-url', 'origin', join(clone, 'gone')], { cwd: dir });
    const run = keyfence(['scan', '--diff', `${base}..HEAD`], dir);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/keyfence: error: (commit \w+ is not in this clone|this is a shallow clone)/);
    expect(run.stderr).toContain('fetch-depth: 0');
    expect(run.stderr).not.toMatch(/\n\s+at /);
  });

  it('exits 2 for a malformed range or a folder outside git', () => {
    const repo = new TestRepo();
    repo.commit('init', { 'a.txt': 'a\n' });
    expect(keyfence(['scan', '--diff', 'main'], repo.dir).code).toBe(2);
    const plain = tempDir();
    const run = keyfence(['scan', '--history'], plain);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('not inside a git repository');
  });
});

describe('keyfence scan --history', () => {
  it('reports each secret once, at the first commit that introduced it, across all refs', () => {
    const repo = new TestRepo();
    const token = fake.githubPat();
    const first = repo.commit('one', { 'a.env': `T=${token}\n` });
    repo.commit('copy', { 'b.env': `again=${token}\n` });
    repo.git('checkout', '-q', '-b', 'other');
    const side = fake.slackBot();
    const sideCommit = repo.commit('side', { 'c.txt': `slack ${side}\n` });
    repo.git('checkout', '-q', 'main');
    const run = keyfence(['scan', '--history', '--format', 'json'], repo.dir);
    expect(findings(run).map((f) => [f.location.path, f.location.commit])).toEqual([
      ['a.env', first],
      ['c.txt', sideCommit],
    ]);
    const since = keyfence(['scan', '--history', '--since', first, '--format', 'json'], repo.dir);
    expect(findings(since).map((f) => f.location.path)).toEqual(['b.env', 'c.txt']);
  });

  it('streams a long history', () => {
    const repo = new TestRepo();
    const lines: string[] = [];
    for (let i = 0; i < 300; i++)
      lines.push(
        `commit refs/heads/main\nmark :${i + 1}\ncommitter Dev <d@e.f> ${1700000000 + i} +0000\ndata 2\nc\n${i > 0 ? `from :${i}\n` : ''}M 644 inline f${i % 20}.txt\ndata <<EOF\nv=${randomString(12)}${i === 250 ? ` key=${fake.githubPat()}` : ''}\nEOF\n`,
      );
    execFileSync('git', ['fast-import', '--quiet'], { cwd: repo.dir, input: lines.join('') });
    const run = keyfence(['scan', '--history', '--format', 'json'], repo.dir);
    expect(JSON.parse(run.stdout).stats.commits).toBe(300);
    expect(findings(run)).toHaveLength(1);
  });
});

describe('keyfence scan --staged', () => {
  it('scans what is staged, not what is only in the work tree', () => {
    const repo = new TestRepo();
    repo.commit('init', { 'a.txt': 'a\n' });
    repo.write({
      'staged.env': `X=1\nTOKEN=${fake.githubPat()}\n`,
      'unstaged.env': `TOKEN=${fake.githubPat()}\n`,
    });
    repo.git('add', 'staged.env');
    const run = keyfence(['scan', '--staged', '--format', 'json'], repo.dir);
    expect(run.code).toBe(1);
    expect(findings(run).map((f) => [f.location.path, f.location.line, f.location.commit])).toEqual([
      ['staged.env', 2, undefined],
    ]);
  });
});

describe('the pre-commit hook', () => {
  it('blocks a commit that adds a secret and lets a clean one through', () => {
    const repo = new TestRepo();
    repo.commit('init', { 'a.txt': 'a\n' });
    const hooks = join(import.meta.dirname, '../../hooks');
    repo.git('config', 'core.hooksPath', hooks);
    const bin = join(import.meta.dirname, '../../node_modules/.bin');
    const env = { ...process.env, PATH: `${bin}:${process.env.PATH}` };
    repo.write({ 'leak.env': `TOKEN=${fake.githubPat()}\n` });
    repo.git('add', '-A');
    const blocked = (() => {
      try {
        execFileSync('git', ['commit', '-q', '-m', 'leak'], { cwd: repo.dir, env, stdio: 'pipe' });
        return undefined;
      } catch (e) {
        // git sends a hook's output to stderr.
        const err = e as { stdout: Buffer; stderr: Buffer };
        return String(err.stdout) + String(err.stderr);
      }
    })();
    expect(blocked).toContain('github-pat');
    repo.git('rm', '-q', '--cached', 'leak.env');
    repo.write({ 'ok.txt': 'fine\n' });
    repo.git('add', 'ok.txt');
    execFileSync('git', ['commit', '-q', '-m', 'clean'], { cwd: repo.dir, env, stdio: 'pipe' });
    expect(repo.git('log', '--format=%s', '-1')).toBe('clean');
  });
});
