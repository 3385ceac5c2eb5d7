import { readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkout, pullRequestEvent as pullRequest } from '../support/checkout.js';
import { tempDir } from '../support/cli.js';
import { TestRepo } from '../support/git.js';
import { renderedText } from '../support/markdown.js';
import { type ActionRun, runAction } from '../support/runner.js';
import { fake } from '../support/secrets.js';

const ACTION = 'action-scan';

function fileAnnotations(run: ActionRun): [string | undefined, string | undefined][] {
  return run.commands
    .filter((c) => c.command === 'error' && c.properties['file'])
    .map((c) => [c.properties['file'], c.properties['line']]);
}

describe('action-scan: the pull request does not configure its own scan', () => {
  it('reports a leak the pull request tries to hide with .keyfence.yaml and .gitattributes, and names what it tried', () => {
    const origin = new TestRepo();
    const base = origin.commit('init', { 'README.md': 'hello\n' });
    origin.git('checkout', '-q', '-b', 'feature');
    const token = fake.githubPat();
    const head = origin.commit('hide it', {
      '.keyfence.yaml': 'allowlist:\n  - paths: ["**"]\n',
      '.gitattributes': '*.env -diff\n',
      'deploy/app.env': `A=1\nTOKEN=${token}\n`,
      'assets/blob.dat': Buffer.from([0, 1, 2, 0, 3]),
    });
    origin.git('checkout', '-q', 'main');
    const run = runAction(ACTION, {
      workspace: checkout(origin, 'feature'),
      event: pullRequest(base, head),
      inputs: { 'report-file': 'keyfence.json' },
    });
    expect(run.code, run.stdout + run.stderr).toBe(1);
    expect(fileAnnotations(run)).toEqual([['deploy/app.env', '2']]);
    expect(renderedText(run.summary)).toContain('Config in force: the built-in defaults (no config file).');
    expect(renderedText(run.summary)).toContain(
      'Changes this pull request makes to the scan settings (not applied):',
    );
    expect(renderedText(run.summary)).toContain('.keyfence.yaml (new) adds an allowlist entry: paths **');
    expect(renderedText(run.summary)).toContain('Not scanned: 1 file, named with the reason below.');
    expect(renderedText(run.summary)).toMatch(/not scanned: assets\/blob\.dat .*binary file/);
    const report = JSON.parse(readFileSync(run.outputs['report-file']!, 'utf8'));
    expect(report.config.config).toEqual({ origin: 'defaults' });
    expect(`${run.stdout}${run.summary}`).not.toContain(token);
  });

  it('uses the base commit config, and names an explicit config: input from the checkout as the pull request own', () => {
    const origin = new TestRepo();
    const base = origin.commit('init', {
      '.keyfence.yaml': 'allowlist:\n  - paths: ["fixtures/**"]\n',
      'README.md': 'hello\n',
    });
    origin.git('checkout', '-q', '-b', 'feature');
    const head = origin.commit('leak', {
      '.keyfence.yaml': 'disabledRules: [github-pat]\n',
      'ci/own.yaml': 'allowlist:\n  - paths: ["src/**"]\n',
      'fixtures/test.env': `T=${fake.githubPat()}\n`,
      'src/app.env': `T=${fake.githubPat()}\n`,
    });
    origin.git('checkout', '-q', 'main');
    const workspace = checkout(origin, 'feature');
    const run = runAction(ACTION, { workspace, event: pullRequest(base, head) });
    expect(run.code, run.stdout + run.stderr).toBe(1);
    expect(fileAnnotations(run)).toEqual([['src/app.env', '1']]);
    expect(renderedText(run.summary)).toContain(
      `Config in force: .keyfence.yaml from the base commit ${base.slice(0, 12)}.`,
    );
    expect(renderedText(run.summary)).toContain('.keyfence.yaml disables rules: github-pat (not applied');

    const own = runAction(ACTION, {
      workspace,
      event: pullRequest(base, head),
      inputs: { config: 'ci/own.yaml' },
    });
    expect(own.code, own.stdout + own.stderr).toBe(1);
    expect(fileAnnotations(own)).toEqual([['fixtures/test.env', '1']]);
    expect(renderedText(own.summary)).toContain(
      'Config in force: ci/own.yaml: config from the pull request itself.',
    );
  });
});

describe('action-scan on a force push', () => {
  it('scans the pushed commits not on the default branch when the commit before the push is gone', () => {
    const origin = new TestRepo();
    origin.commit('init', { 'old.env': `TOKEN=${fake.githubPat()}\n` });
    origin.git('checkout', '-q', '-b', 'feature');
    const before = origin.commit('first try', { 'a.txt': 'a\n' });
    origin.git('reset', '-q', '--hard', 'main');
    const token = fake.stripeLive();
    const after = origin.commit('second try', { 'pay.py': `\nSTRIPE = "${token}"\n` });
    // Rewritten history is gone from the remote too once it is pruned.
    origin.git('reflog', 'expire', '--expire=now', '--all');
    origin.git('gc', '-q', '--prune=now');
    expect(() => origin.git('cat-file', '-e', `${before}^{commit}`)).toThrow();
    const run = runAction(ACTION, {
      workspace: checkout(origin, 'feature'),
      event: {
        name: 'push',
        payload: {
          ref: 'refs/heads/feature',
          before,
          after,
          forced: true,
          repository: { default_branch: 'main' },
        },
      },
    });
    expect(run.code, run.stdout + run.stderr).toBe(1);
    expect(fileAnnotations(run)).toEqual([['pay.py', '2']]);
    expect(run.commands.filter((c) => c.command === 'notice').map((c) => c.message)).toEqual([
      `the commit before this push (${before.slice(0, 12)}) is not in the repository any more (a force push?): ` +
        'scanned the pushed commits that are not on main instead',
    ]);
    expect(renderedText(run.summary)).toContain('Scanned the pushed commits that are not on main: 1 commit');
    expect(run.stdout + run.stderr).not.toContain('fetch-depth');
  });

  it('scans the history of the pushed head when the default branch itself was force-pushed', () => {
    const origin = new TestRepo();
    const base = origin.commit('init', { 'old.env': `TOKEN=${fake.githubPat()}\n` });
    const before = origin.commit('first try', { 'a.txt': 'a\n' });
    origin.git('reset', '-q', '--hard', base);
    const after = origin.commit('second try', { 'pay.py': `STRIPE = "${fake.stripeLive()}"\n` });
    origin.git('reflog', 'expire', '--expire=now', '--all');
    origin.git('gc', '-q', '--prune=now');
    const run = runAction(ACTION, {
      workspace: checkout(origin, 'main'),
      event: {
        name: 'push',
        payload: {
          ref: 'refs/heads/main',
          before,
          after,
          forced: true,
          repository: { default_branch: 'main' },
        },
      },
    });
    expect(run.code, run.stdout + run.stderr).toBe(1);
    expect(fileAnnotations(run).sort()).toEqual([
      ['old.env', '1'],
      ['pay.py', '1'],
    ]);
    expect(run.commands.filter((c) => c.command === 'notice').map((c) => c.message)).toEqual([
      expect.stringContaining(`: scanned the history of ${after.slice(0, 12)} instead`),
    ]);
  });
});

describe('action-scan: mode files or history on a pull request', () => {
  it.each(['files', 'history'])(
    'mode: %s takes config and baseline from the pull request base, not from the checkout',
    (mode) => {
      const origin = new TestRepo();
      const base = origin.commit('init', { 'README.md': 'hello\n' });
      origin.git('checkout', '-q', '-b', 'feature');
      const token = fake.githubPat();
      const head = origin.commit('hide it', {
        '.keyfence.yaml': 'allowlist:\n  - paths: ["**"]\n',
        'deploy/app.env': `TOKEN=${token}\n`,
      });
      origin.git('checkout', '-q', 'main');
      const run = runAction(ACTION, {
        workspace: checkout(origin, 'feature'),
        event: pullRequest(base, head),
        inputs: { mode },
      });
      expect(run.code, run.stdout + run.stderr).toBe(1);
      expect(fileAnnotations(run)).toEqual([['deploy/app.env', '1']]);
      expect(renderedText(run.summary)).toContain('Config in force: the built-in defaults (no config file).');
      expect(renderedText(run.summary)).toContain('.keyfence.yaml (new) adds an allowlist entry: paths **');
      expect(`${run.stdout}${run.summary}`).not.toContain(token);
    },
  );
});

describe('action-scan: a config path that is not a file', () => {
  it('names a .keyfence.yaml directory in the pull request as a change not applied, and still scans', () => {
    const origin = new TestRepo();
    const base = origin.commit('init', { 'README.md': 'hello\n' });
    origin.git('checkout', '-q', '-b', 'feature');
    const head = origin.commit('a folder where the config goes', {
      '.keyfence.yaml/x': 'x\n',
      'keyfence-baseline.json/x': 'x\n',
      'deploy/app.env': `TOKEN=${fake.githubPat()}\n`,
    });
    origin.git('checkout', '-q', 'main');
    const run = runAction(ACTION, {
      workspace: checkout(origin, 'feature'),
      event: pullRequest(base, head),
      inputs: { baseline: 'keyfence-baseline.json' },
    });
    expect(run.code, run.stdout + run.stderr).toBe(1);
    expect(run.stdout).not.toContain('internal error');
    expect(renderedText(run.summary)).toContain(
      'keyfence-baseline.json in the pull request is not a file: not read',
    );
    expect(fileAnnotations(run)).toEqual([['deploy/app.env', '1']]);
    expect(renderedText(run.summary)).toContain('.keyfence.yaml is not a file: not read');
  });
});

describe('action-scan: an explicit config or baseline the pull request turns into a symlink', () => {
  const cases: [string, string, 'file' | 'folder'][] = [
    ['config', 'ci/own.yaml', 'file'],
    ['config', 'ci/own.yaml', 'folder'],
    ['baseline', 'ci/baseline.json', 'folder'],
  ];
  it.each(cases)(
    'refuses a %s: input %s behind a symlinked %s, quoting nothing of its target',
    (input, path, how) => {
      const home = tempDir('keyfence-runner-home-');
      const canary = `basic ${fake.githubPat()}`;
      const text = `[http]\n\textraheader = AUTHORIZATION: ${canary}\n`;
      writeFileSync(join(home, 'own.yaml'), text);
      writeFileSync(join(home, 'baseline.json'), text);
      const origin = new TestRepo();
      const base = origin.commit('init', { 'README.md': 'x\n' });
      origin.git('checkout', '-q', '-b', 'feature');
      if (how === 'file') {
        origin.write({ 'ci/x': 'x\n' });
        symlinkSync(join(home, 'own.yaml'), join(origin.dir, path));
      } else symlinkSync(home, join(origin.dir, 'ci'));
      const head = origin.commit('link it');
      origin.git('checkout', '-q', 'main');
      const run = runAction(ACTION, {
        workspace: checkout(origin, 'feature'),
        event: pullRequest(base, head),
        inputs: { [input]: path },
      });
      expect(run.code, run.stdout + run.stderr).toBe(1);
      expect(run.stdout).toContain('leads through a symbolic link');
      expect(`${run.stdout}${run.stderr}${run.summary}`).not.toContain(canary.slice(6, 20));
    },
  );
});
