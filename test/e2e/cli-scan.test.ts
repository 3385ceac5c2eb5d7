import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { keyfence, tempDir } from '../support/cli.js';
import { fake, randomString } from '../support/secrets.js';

function workspace(files: Record<string, string | Buffer>): string {
  const dir = tempDir();
  for (const [name, content] of Object.entries(files)) {
    mkdirSync(join(dir, name, '..'), { recursive: true });
    writeFileSync(join(dir, name), content);
  }
  return dir;
}

function expectNoSecret(run: { stdout: string; stderr: string }, ...secrets: string[]): void {
  for (const s of secrets) {
    expect(run.stdout).not.toContain(s);
    expect(run.stderr).not.toContain(s);
  }
}

describe('keyfence scan', () => {
  it('exits 1 with a redacted, grouped text report when a folder holds a leak', () => {
    const token = fake.githubPat();
    const key = fake.awsAccessKeyId();
    const dir = workspace({
      'src/app.ts': `export const token = '${token}';\n`,
      'deploy/.env': `AWS_ACCESS_KEY_ID=${key}\n`,
      'README.md': 'nothing here\n',
    });
    const run = keyfence(['scan', '.'], dir);
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/src\/app\.ts\n\s+1:\d+\s+github-pat/);
    expect(run.stdout).toMatch(/deploy\/\.env\n\s+1:\d+\s+aws-access-key-id/);
    expect(run.stdout).toContain('2 leaks found in 2 files');
    expect(run.stdout).not.toContain('\x1b[');
    expectNoSecret(run, token, key);
  });

  it('exits 0 on a clean folder and on an empty one', () => {
    expect(keyfence(['scan'], workspace({ 'a.txt': 'hello\n' })).code).toBe(0);
    const empty = tempDir();
    const run = keyfence(['scan', empty], empty);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('no leaks found');
  });

  it('writes the JSON contract: findings with ruleId, location, redacted, fingerprint, entropy; and stats', () => {
    const token = fake.githubPat();
    const dir = workspace({ 'a/b.py': `\n\nTOKEN = "${token}"\n` });
    const run = keyfence(['scan', '.', '--format', 'json'], dir);
    expect(run.code).toBe(1);
    const report = JSON.parse(run.stdout);
    expect(report.findings).toHaveLength(1);
    const [f] = report.findings;
    expect(f).toMatchObject({ ruleId: 'github-pat', location: { path: 'a/b.py', line: 3, column: 10 } });
    expect(f.fingerprint).toMatch(/^[0-9a-f]{64}$/);
    expect(typeof f.entropy).toBe('number');
    expect(f.redacted).toBe('ghp_… (32-63 chars)');
    expect(f.fingerprintScheme).toBe('scrypt');
    expect(report.stats).toMatchObject({
      files: 1,
      bytes: expect.any(Number),
      durationMs: expect.any(Number),
    });
    expectNoSecret(run, token);
  });

  it('writes the report to --output and a one-line summary to stderr', () => {
    const token = fake.stripeLive();
    const dir = workspace({ 'pay.js': `stripe(${JSON.stringify(token)})\n` });
    const run = keyfence(['scan', '.', '--format', 'sarif', '--output', 'out.sarif'], dir);
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr).toContain('1 leak found; report written to out.sarif');
    const sarif = readFileSync(join(dir, 'out.sarif'), 'utf8');
    expect(JSON.parse(sarif).runs[0].results[0].ruleId).toMatch(/stripe/);
    expect(sarif).not.toContain(token);
  });

  it('applies a baseline written by keyfence baseline, and still reports new leaks', () => {
    const old = fake.githubPat();
    const dir = workspace({ 'old.env': `GITHUB_TOKEN=${old}\n` });
    const written = keyfence(['baseline', '.', '--output', 'baseline.json'], dir);
    expect(written.code).toBe(0);
    expect(readFileSync(join(dir, 'baseline.json'), 'utf8')).not.toContain(old);
    // The accepted secret moves to another line: still accepted.
    writeFileSync(join(dir, 'old.env'), `\n\n# moved\nGITHUB_TOKEN=${old}\n`);
    expect(keyfence(['scan', '.', '--baseline', 'baseline.json'], dir).code).toBe(0);
    writeFileSync(join(dir, 'new.env'), `SLACK_TOKEN=${fake.slackBot()}\n`);
    const run = keyfence(['scan', '.', '--baseline', 'baseline.json', '--format', 'json'], dir);
    expect(run.code).toBe(1);
    expect(
      JSON.parse(run.stdout).findings.map((f: { location: { path: string } }) => f.location.path),
    ).toEqual(['new.env']);
  });

  it('uses .keyfence.yaml at the root: path allowlist, disabled rules and extra rules', () => {
    const dir = workspace({
      '.keyfence.yaml': [
        'disabledRules: [aws-access-key-id]',
        'allowlist:',
        "  - paths: ['fixtures/**']",
        'rules:',
        '  - id: acme-token',
        '    description: ACME API token',
        '    keywords: [acme_]',
        "    regex: '(acme_[a-z0-9]{32})'",
      ].join('\n'),
      'fixtures/token.txt': fake.githubPat(),
      'keys.txt': `${fake.awsAccessKeyId()}\nacme_${randomString(32, 'abcdefghijklmnopqrstuvwxyz0123456789')}\n`,
    });
    const run = keyfence(['scan', '--format', 'json'], dir);
    expect(run.code).toBe(1);
    expect(JSON.parse(run.stdout).findings.map((f: { ruleId: string }) => f.ruleId)).toEqual(['acme-token']);
  });

  it('respects .gitignore inside a git work tree, and --no-ignore scans ignored files', () => {
    const dir = workspace({ '.gitignore': 'local/\n', 'local/.env': `TOKEN=${fake.githubPat()}\n` });
    spawnSync('git', ['init', '-q'], { cwd: dir });
    expect(keyfence(['scan'], dir).code).toBe(0);
    expect(keyfence(['scan', '--no-ignore'], dir).code).toBe(1);
  });

  it('scans files a commit tracks even where .gitignore lists them, as git itself never ignores them', () => {
    const dir = workspace({
      '.gitignore': 'deploy/\n*.env\nlocal/\n',
      'deploy/prod.env': `TOKEN=${fake.githubPat()}\n`,
      'app.env': `STRIPE=${fake.stripeLive()}\n`,
      'local/scratch.env': `TOKEN=${fake.githubPat()}\n`,
    });
    const git = (...args: string[]) => spawnSync('git', args, { cwd: dir, encoding: 'utf8' });
    git('init', '-q');
    // What a pull request does to hide its files: commit them with -f, and list them as ignored.
    git('add', '-f', '.gitignore', 'deploy/prod.env', 'app.env');
    const run = keyfence(['scan', '--format', 'json'], dir);
    expect(run.code).toBe(1);
    const paths = JSON.parse(run.stdout).findings.map((f: { location: { path: string } }) => f.location.path);
    // local/ is ignored and untracked: left out, as before.
    expect(paths.sort()).toEqual(['app.env', 'deploy/prod.env']);
  });

  it('skips lock files and binary files by default, and scans them when asked', () => {
    const token = fake.githubPat();
    const dir = workspace({
      'package-lock.json': `{"token": "${token}"}`,
      'blob.bin': Buffer.concat([Buffer.from([0, 1, 2, 0]), Buffer.from(` ${token} `)]),
    });
    expect(keyfence(['scan'], dir).code).toBe(0);
    const run = keyfence(['scan', '--include-lockfiles', '--scan-binaries', '--format', 'json'], dir);
    expect(JSON.parse(run.stdout).findings).toHaveLength(2);
  });

  it('still reports a real-looking secret in a test folder', () => {
    const dir = workspace({ 'test/fixtures/config.ts': `const key = '${fake.githubPat()}';\n` });
    expect(keyfence(['scan'], dir).code).toBe(1);
  });
});

describe('keyfence scan on bad input', () => {
  it('handles a 20 MB single-line minified file and finds the secret at its end', () => {
    const token = fake.githubPat();
    const line = `${'var a=1,b=function(c){return c*2};'.repeat(600_000)}var t="${token}";`;
    const dir = workspace({ 'app.min.js': line });
    const run = keyfence(['scan', '--format', 'json'], dir);
    expect(run.code).toBe(1);
    const [f] = JSON.parse(run.stdout).findings;
    expect(f.location).toMatchObject({ path: 'app.min.js', line: 1 });
    expect(f.location.column).toBeGreaterThan(20_000_000);
  });

  it('scans a file of invalid UTF-8 without failing', () => {
    const token = fake.githubPat();
    const dir = workspace({
      'latin.txt': Buffer.concat([Buffer.from([0xc3, 0x28, 0xff, 0xfe, 0x0a]), Buffer.from(`k=${token}\n`)]),
    });
    const run = keyfence(['scan', '--format', 'json'], dir);
    expect(run.code).toBe(1);
    expect(JSON.parse(run.stdout).findings[0].location.line).toBe(2);
  });

  it('reports a file it cannot read and goes on with the rest', () => {
    const dir = workspace({ 'locked.txt': 'x', 'open.txt': `t=${fake.githubPat()}\n` });
    chmodSync(join(dir, 'locked.txt'), 0o000);
    chmodSync(dir, 0o755);
    // As root every file is readable, so drop to an unprivileged user to see a real EACCES.
    const asUser = process.getuid?.() === 0 ? { uid: 65534, gid: 65534 } : {};
    const run = keyfence(['scan', dir, '--format', 'json'], '/', asUser);
    expect(run.code).toBe(1);
    const report = JSON.parse(run.stdout);
    expect(report.findings).toHaveLength(1);
    expect(report.problems).toEqual([
      { kind: 'unreadable', path: 'locked.txt', message: 'cannot read (EACCES)' },
    ]);
  });

  it('survives a symbolic link loop', () => {
    const dir = workspace({ 'a/file.txt': `t=${fake.githubPat()}\n` });
    symlinkSync('..', join(dir, 'a', 'loop'));
    symlinkSync(join(dir, 'b'), join(dir, 'b'));
    const run = keyfence(['scan', '--format', 'json'], dir);
    expect(run.code).toBe(1);
    expect(JSON.parse(run.stdout).findings).toHaveLength(1);
  });

  it('does not follow a symbolic link out of the scanned folder unless --follow-symlinks is given', () => {
    const outside = tempDir();
    const home = fake.githubPat();
    writeFileSync(join(outside, '.git-credentials'), `https://x:${home}@example.com\n`);
    const inside = fake.githubPat();
    const dir = workspace({ 'src/real.txt': `t=${inside}\n` });
    symlinkSync(outside, join(dir, 'runner-home'));
    symlinkSync(join(outside, '.git-credentials'), join(dir, 'creds'));
    // A link that stays inside the root is followed, and the file it names is scanned once.
    symlinkSync(join(dir, 'src'), join(dir, 'again'));
    symlinkSync(join(dir, 'src', 'real.txt'), join(dir, 'also.txt'));
    const run = keyfence(['scan', '--format', 'json'], dir);
    expect(run.code).toBe(1);
    const report = JSON.parse(run.stdout);
    expect(report.findings.map((f: { location: { path: string } }) => f.location.path)).toEqual([
      'src/real.txt',
    ]);
    expect(report.problems).toEqual([
      expect.objectContaining({ kind: 'skipped', path: 'creds' }),
      expect.objectContaining({ kind: 'skipped', path: 'runner-home' }),
    ]);
    expectNoSecret(run, home, inside);

    const followed = JSON.parse(keyfence(['scan', '--format', 'json', '--follow-symlinks'], dir).stdout);
    // Followed, the outside file is scanned once, under the name of the folder that holds it.
    expect(followed.findings.map((f: { location: { path: string } }) => f.location.path).sort()).toEqual([
      'runner-home/.git-credentials',
      'src/real.txt',
    ]);
  });

  it('refuses settings files that are links to devices or FIFOs, with one line, instead of hanging', () => {
    // Reading /dev/zero or a FIFO never ends: each must fail (config, baseline) or be skipped (.gitignore).
    const guard = { timeout: 120_000 };
    const token = fake.githubPat();
    const dir = workspace({ 'app.env': `TOKEN=${token}\n` });
    expect(spawnSync('git', ['init', '-q', dir]).status).toBe(0);
    symlinkSync('/dev/zero', join(dir, '.gitignore'));
    const scanned = keyfence(['scan', '--format', 'json'], dir, guard);
    expect(scanned.code).toBe(1);
    expect(JSON.parse(scanned.stdout).findings.map((f: { ruleId: string }) => f.ruleId)).toContain(
      'github-pat',
    );
    expect(spawnSync('mkfifo', [join(dir, 'fifo')]).status).toBe(0);
    for (const [args, what] of [
      [['--config', 'fifo'], 'config file'],
      [['--config', '/dev/zero'], 'config file'],
      [['--baseline', 'fifo'], 'baseline'],
      [['--baseline', '/dev/zero'], 'baseline'],
    ] as const) {
      const run = keyfence(['scan', ...args], dir, guard);
      expect(run.code).toBe(2);
      expect(run.stderr).toMatch(
        new RegExp(
          `cannot read ${what} \\S+: not a regular file|cannot read ${what} \\S+ \\(not a regular file\\)`,
        ),
      );
      expect(run.stderr).not.toMatch(/\n\s+at /);
    }
    symlinkSync('fifo', join(dir, '.keyfence.yaml'));
    const viaLink = keyfence(['scan'], dir, guard);
    expect(viaLink.code).toBe(2);
    expect(viaLink.stderr).toContain('.keyfence.yaml: not a regular file');
  });

  it('refuses a config file too large to be one, naming it', () => {
    const dir = workspace({ 'big.yaml': `# ${'x'.repeat(5 * 1024 * 1024)}\n` });
    const run = keyfence(['scan', '--config', 'big.yaml'], dir);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/cannot read config file \S*big\.yaml: larger than 4 MiB/);
  });

  it('does not follow a symbolic link into .git, where the runner keeps the checkout token', () => {
    const token = fake.githubPat();
    const dir = workspace({ '.git/config': `[http]\n\textraheader = AUTHORIZATION: bearer ${token}\n` });
    symlinkSync(join(dir, '.git', 'config'), join(dir, 'config.txt'));
    symlinkSync('.git', join(dir, 'gitdir'));
    const run = keyfence(['scan', '--format', 'json', '--follow-symlinks'], dir);
    expect(run.code).toBe(0);
    const report = JSON.parse(run.stdout);
    expect(report.findings).toEqual([]);
    expect(report.problems.map((p: { path: string; message: string }) => [p.path, p.message])).toEqual([
      ['config.txt', 'symbolic link into .git; not followed'],
      ['gitdir', 'symbolic link into .git; not followed'],
    ]);
    expectNoSecret(run, token);
  });

  it('exits 2 with a clear message for a path that does not exist', () => {
    const dir = tempDir();
    const run = keyfence(['scan', 'no/such/dir'], dir);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('keyfence: error: no such file or folder: no/such/dir');
    expect(run.stderr).toContain('hint:');
    expect(run.stderr).not.toMatch(/\n\s+at /);
  });

  it('exits 2 with one line naming the file for a YAML alias bomb in the config', () => {
    const names = 'abcdefghij';
    const lines = [`a: &a [${Array(9).fill('"x"').join(', ')}]`];
    for (let i = 1; i < names.length; i++)
      lines.push(
        `${names[i]}: &${names[i]} [${Array(9)
          .fill(`*${names[i - 1]}`)
          .join(', ')}]`,
      );
    const dir = workspace({ '.keyfence.yaml': `${lines.join('\n')}\n` });
    const run = keyfence(['scan'], dir);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/invalid config file \S*\.keyfence\.yaml:\n\s+\S*\.keyfence\.yaml: .*alias/i);
    expect(run.stderr).not.toContain('internal error');
    expect(run.stderr).not.toMatch(/\n\s+at /);
  });

  it('exits 2 for a malformed config file and names the line', () => {
    const dir = workspace({ '.keyfence.yaml': 'allowlist:\n  - paths: [a\nrules: 3\n' });
    const run = keyfence(['scan'], dir);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/\.keyfence\.yaml:\d+: /);
    expect(run.stderr).not.toMatch(/\n\s+at /);
  });

  it('runs user rules and allowlists with catastrophic-backtracking regexes in linear time', () => {
    // On a backtracking engine each of these takes longer than the universe has on these lines.
    const dir = workspace({
      '.keyfence.yaml': [
        'rules:',
        '  - id: nested',
        '    description: x',
        '    keywords: [aaa]',
        "    regex: '(a+)+$'",
        '  - id: sneaky',
        '    description: x',
        '    keywords: [aaa]',
        "    regex: '(a|a){1,64}$'",
        'allowlist:',
        "  - regexes: ['^(a+)+$']",
        '    regexTarget: line',
      ].join('\n'),
      'a.txt': `${'a'.repeat(1500)}!\nt=${fake.githubPat()}\n`,
    });
    const run = keyfence(['scan', '--format', 'json'], dir);
    expect(run.code).toBe(1);
    const report = JSON.parse(run.stdout);
    expect(report.findings.map((f: { ruleId: string }) => f.ruleId)).toEqual(['github-pat']);
    expect(report.problems).toEqual([]);
    expect(run.stderr).not.toContain('warning');
  });

  it('exits 2 with one usage line, not an internal error, for --output in a missing folder or naming a folder', () => {
    const dir = workspace({ 'app.env': `TOKEN=${fake.githubPat()}\n` });
    for (const args of [
      ['scan', '--format', 'sarif', '--output', join(dir, 'missing', 'dir', 'x.sarif')],
      ['baseline', '--output', 'missing/base.json'],
      ['scan', '--output', '.'],
    ]) {
      const run = keyfence(args, dir);
      expect(run.code, run.stderr).toBe(2);
      expect(run.stderr).toMatch(
        /^keyfence: error: --output .*(does not exist|is a folder)\n {2}hint: [^\n]+\n$/,
      );
      expect(run.stderr).not.toContain('internal error');
      expect(run.stdout).toBe('');
    }
  });

  it('exits 2 for unknown options and formats, without a stack', () => {
    const dir = tempDir();
    for (const args of [['scan', '--frobnicate'], ['scan', '--format', 'xml'], ['launch']]) {
      const run = keyfence(args, dir);
      expect(run.code).toBe(2);
      expect(run.stderr).toMatch(/^keyfence: error: .*\n {2}hint: /);
    }
  });
});

describe('keyfence scan on large files', () => {
  it('reports exact lines and columns for secrets on both sides of every chunk boundary', () => {
    const line = `${'x=1;'.repeat(24)}\n`; // 97 bytes, so chunk boundaries fall mid-line
    const lines = Math.ceil((17 * 1024 * 1024) / line.length);
    const chunk = 8 * 1024 * 1024;
    const planted = new Map<number, string>();
    for (const boundary of [chunk, 2 * chunk]) {
      const at = Math.floor(boundary / line.length);
      planted.set(at - 1, fake.githubPat());
      planted.set(at, fake.githubPat());
      planted.set(at + 1, fake.githubPat());
    }
    const parts: string[] = [];
    for (let i = 0; i < lines; i++) parts.push(planted.has(i) ? `t = '${planted.get(i)}'  \n` : line);
    const dir = workspace({ 'big.txt': parts.join('') });
    const run = keyfence(['scan', '--format', 'json'], dir);
    expect(run.code).toBe(1);
    const found = JSON.parse(run.stdout).findings.map((f: { location: { line: number; column: number } }) => [
      f.location.line,
      f.location.column,
    ]);
    expect(found).toEqual([...planted.keys()].map((i) => [i + 1, 6]));
  });
});

describe('keyfence scan with worker threads', () => {
  it('finds the same leaks on worker threads as on one thread, and splits them across shards', () => {
    const files: Record<string, string> = {};
    for (let i = 0; i < 40; i++) {
      files[`pkg${i % 4}/file${i}.js`] =
        `${'const filler = 1;\n'.repeat(20_000)}${i % 5 === 0 ? `const t = '${fake.githubPat()}';\n` : ''}`;
    }
    const dir = workspace(files);
    const summary = (args: string[]) =>
      JSON.parse(keyfence(['scan', '--format', 'json', ...args], dir).stdout).findings.map(
        (f: { location: { path: string; line: number }; fingerprint: string }) =>
          `${f.location.path}:${f.location.line}:${f.fingerprint}`,
      );
    const one = summary(['--workers', '0']);
    expect(one).toHaveLength(8);
    expect(summary(['--workers', '2'])).toEqual(one);
    const shards = [
      ...summary(['--shard', '1/3']),
      ...summary(['--shard', '2/3']),
      ...summary(['--shard', '3/3']),
    ];
    expect(shards.sort()).toEqual([...one].sort());
  });
});

describe('keyfence on its own repository', () => {
  it('comes back clean: fixtures are allow-listed by the project config, test secrets are made at run time', () => {
    const root = join(import.meta.dirname, '../..');
    const run = keyfence(['scan', '.', '--format', 'json'], root);
    expect(JSON.parse(run.stdout).findings).toEqual([]);
    expect(run.code).toBe(0);
  });
});
