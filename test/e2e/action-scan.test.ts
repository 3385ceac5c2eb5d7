import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { strToU8, zipSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import { checkout, pullRequestEvent as pullRequest } from '../support/checkout.js';
import { tempDir } from '../support/cli.js';
import { TestRepo } from '../support/git.js';
import { renderedText } from '../support/markdown.js';
import { writeOciLayout } from '../support/oci.js';
import { type ActionRun, runAction, type WorkflowCommand } from '../support/runner.js';
import { sarifValidationErrors } from '../support/sarif.js';
import { fake } from '../support/secrets.js';

const ACTION = 'action-scan';

interface SarifLog {
  runs: {
    tool: { driver: { name: string; version: string } };
    results: {
      ruleId: string;
      locations: { physicalLocation: { artifactLocation: { uri: string }; region: { startLine: number } } }[];
      properties?: { commit?: string };
      partialFingerprints?: Record<string, string>;
    }[];
  }[];
}

function annotations(run: ActionRun, level = 'error'): WorkflowCommand[] {
  return run.commands.filter((c) => c.command === level);
}

/** The job summary as a reader sees it, rendered by a GFM renderer. */
function summaryText(run: ActionRun): string {
  return renderedText(run.summary);
}

function sarif(run: ActionRun): SarifLog {
  return JSON.parse(readFileSync(run.outputs['sarif-file']!, 'utf8'));
}

/** The full secret must appear in nothing the action printed or wrote. */
function expectNoSecret(run: ActionRun, secrets: string[]): void {
  const written = [run.outputs['sarif-file'], run.outputs['report-file']]
    .filter((f): f is string => Boolean(f) && existsSync(f!))
    .map((f) => readFileSync(f, 'utf8'));
  const everything = [run.stdout, run.stderr, run.summary, ...written, JSON.stringify(run.outputs)].join(
    '\n',
  );
  for (const s of secrets) expect(everything).not.toContain(s);
}

/** A repository with main, and a feature branch that adds a token in one commit and removes it in the next. */
function leakyPullRequest() {
  const origin = new TestRepo();
  const base = origin.commit('init', { 'README.md': 'hello\n', 'config/app.env': 'A=1\n' });
  origin.git('checkout', '-q', '-b', 'feature');
  const token = fake.githubPat();
  const adding = origin.commit('add config', { 'config/app.env': `A=1\nB=2\nGITHUB_TOKEN=${token}\n` });
  const head = origin.commit('remove it again', { 'config/app.env': 'A=1\nB=2\n' });
  origin.git('checkout', '-q', 'main');
  return { origin, base, adding, head, token };
}

describe('action-scan on a pull request', () => {
  it('reports a token added then removed within the pull request, at the adding commit and line', () => {
    const { origin, base, adding, head, token } = leakyPullRequest();
    const workspace = checkout(origin, 'feature');
    const run = runAction(ACTION, {
      workspace,
      event: pullRequest(base, head),
      inputs: { 'report-file': 'reports/keyfence.json' },
    });
    expect(run.code, run.stdout + run.stderr).toBe(1);

    const [annotation, ...others] = annotations(run);
    expect(others.filter((a) => a.properties['file'])).toEqual([]);
    expect(annotation).toEqual({
      command: 'error',
      properties: { title: 'keyfence: github-pat', file: 'config/app.env', line: '3', endLine: '3' },
      message: expect.stringMatching(
        new RegExp(
          `^GitHub classic personal access token .*: ghp_… \\(32-63 chars\\) \\(commit ${adding.slice(0, 12)}\\)$`,
        ),
      ),
    });
    // The step fails the toolkit's way: a final ::error:: without a file.
    expect(run.commands.at(-1)).toMatchObject({
      command: 'error',
      properties: {},
      message: expect.stringContaining('keyfence found 1 leaked secret: revoke and rotate it first'),
    });

    expect(run.outputs['findings']).toBe('1');
    expect(run.outputs['sarif-file']).toBe(join(run.runnerTemp, 'keyfence.sarif'));
    expect(run.outputs['report-file']).toBe(join(workspace, 'reports/keyfence.json'));

    expect(run.summary).toContain('### keyfence: 1 leaked secret found');
    expect(summaryText(run)).toContain(`pull request #7 (${base.slice(0, 12)}..${head.slice(0, 12)}): `);
    expect(run.summary).toContain(`(https://github.example/acme/app/commit/${adding})`);
    expect(run.summary).toContain(`(https://github.example/acme/app/blob/${adding}/config/app.env#L3)`);
    expect(run.summary).toContain('Revoke and rotate each credential at its provider first');

    const log = sarif(run);
    expect(sarifValidationErrors(run.outputs['sarif-file']!)).toEqual([]);
    expect(log.runs[0]!.tool.driver.version).toBe(
      JSON.parse(readFileSync(resolve(import.meta.dirname, '../../action-scan/package.json'), 'utf8'))
        .version,
    );
    expect(log.runs[0]!.results).toMatchObject([
      {
        ruleId: 'github-pat',
        locations: [
          { physicalLocation: { artifactLocation: { uri: 'config/app.env' }, region: { startLine: 3 } } },
        ],
        properties: { commit: adding },
      },
    ]);
    const report = JSON.parse(readFileSync(run.outputs['report-file']!, 'utf8'));
    expect(report.findings).toMatchObject([
      { location: { path: 'config/app.env', line: 3, commit: adding } },
    ]);
    expectNoSecret(run, [token]);
  });

  it('exits 0 on a clean pull request, with a summary and an empty SARIF file', () => {
    const origin = new TestRepo();
    const base = origin.commit('init', { 'README.md': 'hello\n' });
    origin.git('checkout', '-q', '-b', 'feature');
    const head = origin.commit('docs', { 'docs/guide.md': 'A token looks like ghp_ and 36 characters.\n' });
    const run = runAction(ACTION, { workspace: checkout(origin, 'feature'), event: pullRequest(base, head) });
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(annotations(run)).toEqual([]);
    expect(run.outputs).toMatchObject({ findings: '0', 'report-file': '' });
    expect(run.summary).toContain('### keyfence: no leaks found');
    expect(sarif(run).runs[0]!.results).toEqual([]);
    expect(sarifValidationErrors(run.outputs['sarif-file']!)).toEqual([]);
  });

  it('reports but exits 0 with fail-on: never', () => {
    const { origin, base, head, token } = leakyPullRequest();
    const run = runAction(ACTION, {
      workspace: checkout(origin, 'feature'),
      event: pullRequest(base, head),
      inputs: { 'fail-on': 'never' },
    });
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(run.outputs['findings']).toBe('1');
    expect(annotations(run)).toHaveLength(1);
    expectNoSecret(run, [token]);
  });

  it('keys fingerprints with fingerprint-key: HMAC in the SARIF file, the key in nothing it wrote', () => {
    const { origin, base, head, token } = leakyPullRequest();
    const key = `org-${fake.githubPat().slice(4, 20)}`;
    const run = runAction(ACTION, {
      workspace: checkout(origin, 'feature'),
      event: pullRequest(base, head),
      inputs: { 'fail-on': 'never', 'fingerprint-key': key },
    });
    expect(run.code, run.stdout + run.stderr).toBe(0);
    const [result] = sarif(run).runs[0]!.results;
    expect(Object.keys(result!.partialFingerprints ?? {})).toEqual(['keyfence/v2-hmac']);
    const unkeyed = runAction(ACTION, {
      workspace: checkout(origin, 'feature'),
      event: pullRequest(base, head),
      inputs: { 'fail-on': 'never' },
    });
    const [plain] = sarif(unkeyed).runs[0]!.results;
    expect(Object.keys(plain!.partialFingerprints ?? {})).toEqual(['keyfence/v2-scrypt']);
    expectNoSecret(run, [token, key]);
  });

  it('annotates at most max-annotations findings and counts the rest in a notice; the summary has all', () => {
    const origin = new TestRepo();
    const base = origin.commit('init', { 'README.md': 'hello\n' });
    origin.git('checkout', '-q', '-b', 'feature');
    const secrets = [fake.githubPat(), fake.stripeLive(), fake.slackBot(), fake.githubPat()];
    const head = origin.commit(
      'leaks',
      // The first name needs the toolkit's escaping of `,` and `:` in a command property.
      Object.fromEntries(secrets.map((s, i) => [i === 0 ? 'a, b: c.txt' : `leak${i}.txt`, `x\nkey=${s}\n`])),
    );
    const run = runAction(ACTION, {
      workspace: checkout(origin, 'feature'),
      event: pullRequest(base, head),
      inputs: { 'max-annotations': '2' },
    });
    expect(run.code).toBe(1);
    expect(annotations(run).map((a) => a.properties['file'])).toEqual([
      'a, b: c.txt',
      'leak1.txt',
      undefined,
    ]);
    expect(run.stdout).toContain(',file=a%2C b%3A c.txt,line=2,');
    expect(annotations(run, 'notice')).toEqual([
      {
        command: 'notice',
        properties: { title: 'keyfence' },
        message:
          '2 more findings are not annotated (max-annotations: 2); the job summary lists them and says which report holds all 4.',
      },
    ]);
    expect(run.summary.split('\n').filter((l) => /^\| \d \|/.test(l))).toHaveLength(4);
    expect(sarif(run).runs[0]!.results).toHaveLength(4);
    expectNoSecret(run, secrets);
  });
});

describe('action-scan on a shallow clone (actions/checkout without fetch-depth: 0)', () => {
  it('fetches the history the pull request needs from the remote', () => {
    const { origin, base, adding, head, token } = leakyPullRequest();
    const workspace = checkout(origin, 'feature', 1);
    expect(
      execFileSync('git', ['rev-parse', '--is-shallow-repository'], { cwd: workspace, encoding: 'utf8' }),
    ).toBe('true\n');
    const run = runAction(ACTION, { workspace, event: pullRequest(base, head) });
    expect(run.code, run.stdout + run.stderr).toBe(1);
    expect(annotations(run)[0]!.properties).toMatchObject({ file: 'config/app.env', line: '3' });
    expect(annotations(run)[0]!.message).toContain(`(commit ${adding.slice(0, 12)})`);
    expectNoSecret(run, [token]);
  });

  it('fails with the fetch-depth: 0 hint, and no stack, when the remote cannot be reached', () => {
    const { origin, base, head } = leakyPullRequest();
    const workspace = checkout(origin, 'feature', 1);
    execFileSync('git', ['remote', 'set-url', 'origin', `${origin.dir}-gone`], { cwd: workspace });
    const run = runAction(ACTION, { workspace, event: pullRequest(base, head) });
    expect(run.code).toBe(1);
    const [error, ...more] = annotations(run);
    expect(more).toEqual([]);
    expect(error!.message).toMatch(/^(commit \w+ is not in this clone|this is a shallow clone)/);
    expect(error!.message).toContain('fetch-depth: 0');
    expect(run.stdout + run.stderr).not.toMatch(/\n\s+at /);
    expect(run.outputs).toEqual({});
  });
});

describe('action-scan on a push', () => {
  it('scans only the pushed commits of an existing branch', () => {
    const origin = new TestRepo();
    const old = fake.githubPat();
    origin.commit('init', { 'old.env': `TOKEN=${old}\n` });
    const before = origin.commit('two', { 'a.txt': 'a\n' });
    const token = fake.stripeLive();
    const after = origin.commit('three', { 'pay.py': `\nSTRIPE = "${token}"\n` });
    const run = runAction(ACTION, {
      workspace: checkout(origin, 'main'),
      event: {
        name: 'push',
        payload: { ref: 'refs/heads/main', before, after, repository: { default_branch: 'main' } },
      },
    });
    expect(run.code).toBe(1);
    expect(
      annotations(run)
        .filter((a) => a.properties['file'])
        .map((a) => [a.properties['file'], a.properties['line']]),
    ).toEqual([['pay.py', '2']]);
    expect(summaryText(run)).toContain(`the pushed commits (${before.slice(0, 12)}..${after.slice(0, 12)})`);
    expectNoSecret(run, [old, token]);
  });

  it('scans a new branch (before = 000…) for the commits that are not on the default branch', () => {
    const origin = new TestRepo();
    const old = fake.githubPat();
    origin.commit('init', { 'old.env': `TOKEN=${old}\n` });
    origin.git('checkout', '-q', '-b', 'feature');
    const token = fake.slackBot();
    const after = origin.commit('feature', { 'notify.py': `SLACK = "${token}"\n` });
    const payload = {
      ref: 'refs/heads/feature',
      before: '0'.repeat(40),
      after,
      created: true,
      repository: { default_branch: 'main' },
    };
    const workspace = checkout(origin, 'feature');
    const run = runAction(ACTION, { workspace, event: { name: 'push', payload } });
    expect(run.code).toBe(1);
    expect(
      annotations(run)
        .filter((a) => a.properties['file'])
        .map((a) => a.properties['file']),
    ).toEqual(['notify.py']);
    expect(run.summary).toContain('the commits of the new refs/heads/feature that are not on main');

    // A shallow clone lacks origin/main: the action fetches it.
    const shallow = runAction(ACTION, {
      workspace: checkout(origin, 'feature', 1),
      event: { name: 'push', payload },
    });
    expect(shallow.code, shallow.stdout).toBe(1);
    expect(
      annotations(shallow)
        .filter((a) => a.properties['file'])
        .map((a) => a.properties['file']),
    ).toEqual(['notify.py']);

    // No default branch to compare with: the history is scanned, and the summary says why.
    const missing = { ...payload, repository: { default_branch: 'trunk' } };
    const fallback = runAction(ACTION, { workspace, event: { name: 'push', payload: missing } });
    expect(fallback.code).toBe(1);
    expect(
      annotations(fallback)
        .filter((a) => a.properties['file'])
        .map((a) => a.properties['file'])
        .sort(),
    ).toEqual(['notify.py', 'old.env']);
    expect(fallback.summary).toContain('origin/trunk could not be found or fetched');
    for (const r of [run, shallow, fallback]) expectNoSecret(r, [old, token]);
  });

  it('scans nothing when a push deletes a branch', () => {
    const origin = new TestRepo();
    origin.commit('init', { 'old.env': `TOKEN=${fake.githubPat()}\n` });
    const run = runAction(ACTION, {
      workspace: checkout(origin, 'main'),
      event: {
        name: 'push',
        payload: { ref: 'refs/heads/gone', before: origin.head(), after: '0'.repeat(40), deleted: true },
      },
    });
    expect(run.code, run.stdout).toBe(0);
    expect(run.outputs['findings']).toBe('0');
    expect(summaryText(run)).toContain('Scanned nothing: the push deleted refs/heads/gone');
  });
});

describe('action-scan on a schedule', () => {
  it('scans the history with mode: history, and the files by default', () => {
    const origin = new TestRepo();
    origin.commit('init', { 'README.md': 'hello\n' });
    const removed = fake.githubPat();
    const adding = origin.commit('leak', { 'deploy/ci.env': `X=1\nTOKEN=${removed}\n` });
    origin.commit('unleak', { 'deploy/ci.env': 'X=1\n' });
    const current = fake.awsAccessKeyId();
    origin.commit('current', { 'src/aws.ts': `export const id = '${current}';\n` });
    const workspace = checkout(origin, 'main');
    const event = { name: 'schedule', payload: { schedule: '0 3 * * *' } };

    const history = runAction(ACTION, { workspace, event, inputs: { mode: 'history' } });
    expect(history.code).toBe(1);
    const found = annotations(history).filter((a) => a.properties['file']);
    expect(found.map((a) => a.properties['file']).sort()).toEqual(['deploy/ci.env', 'src/aws.ts']);
    expect(found.find((a) => a.properties['file'] === 'deploy/ci.env')!.message).toContain(
      adding.slice(0, 12),
    );
    expect(history.summary).toMatch(/Scanned the git history: \d+ commits/);

    const files = runAction(ACTION, { workspace, event, env: { GITHUB_SHA: origin.head() } });
    expect(files.code).toBe(1);
    expect(
      annotations(files)
        .filter((a) => a.properties['file'])
        .map((a) => a.properties['file']),
    ).toEqual(['src/aws.ts']);
    expect(files.summary).toContain(`/blob/${origin.head()}/src/aws.ts#L1)`);
    for (const r of [history, files]) expectNoSecret(r, [removed, current]);
  });

  it('names files from the repository root when path is a subfolder', () => {
    const origin = new TestRepo();
    const token = fake.githubPat();
    origin.commit('init', {
      'services/api/.env': `TOKEN=${token}\n`,
      'other/x.env': `T=${fake.githubPat()}\n`,
    });
    const run = runAction(ACTION, {
      workspace: checkout(origin, 'main'),
      event: { name: 'workflow_dispatch', payload: {} },
      inputs: { path: 'services' },
    });
    expect(
      annotations(run)
        .filter((a) => a.properties['file'])
        .map((a) => a.properties['file']),
    ).toEqual(['services/api/.env']);
    expect(sarif(run).runs[0]!.results[0]!.locations[0]!.physicalLocation.artifactLocation.uri).toBe(
      'services/api/.env',
    );
  });
});

describe('action-scan inputs', () => {
  const origin = new TestRepo();
  origin.commit('init', { 'README.md': 'hello\n' });
  const workspace = checkout(origin, 'main');
  const event = { name: 'workflow_dispatch', payload: {} };

  it.each([
    ['fail-on', 'sometimes', 'input "fail-on" must be one of findings, never (got "sometimes")'],
    ['mode', 'everything', 'input "mode" must be one of auto, diff, history, files (got "everything")'],
    ['max-annotations', 'ten', 'input "max-annotations" must be a whole number, 0 or more (got "ten")'],
  ])('rejects %s: %s with an error naming the input', (name, value, message) => {
    const run = runAction(ACTION, { workspace, event, inputs: { [name]: value } });
    expect(run.code).toBe(1);
    expect(run.commands).toEqual([
      {
        command: 'error',
        properties: {},
        message: expect.stringMatching(new RegExp(`^${escapeRegex(message)}\\nhint: `)),
      },
    ]);
    expect(run.stderr).toBe('');
    expect(run.stdout).not.toMatch(/\n\s+at /);
  });

  it('refuses mode: diff on an event without a commit range', () => {
    const run = runAction(ACTION, {
      workspace,
      event: { name: 'schedule', payload: {} },
      inputs: { mode: 'diff' },
    });
    expect(run.code).toBe(1);
    expect(annotations(run)[0]!.message).toContain('mode: diff needs an event with a commit range');
  });

  it('can be imported without running (the bundle entry is a separate file)', async () => {
    const before = process.exitCode;
    const main = await import('../../action-scan/src/main.js');
    expect(typeof main.run).toBe('function');
    expect(process.exitCode).toBe(before);
  });
});

function escapeRegex(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

describe('action-scan with image and artifacts inputs', () => {
  it('scans an image archive and build outputs beside the files, reporting them in the summary and SARIF', async () => {
    const origin = new TestRepo();
    origin.commit('init', { 'README.md': 'clean\n' });
    const workspace = checkout(origin, 'main');
    const inImage = fake.githubPat();
    const inEnv = fake.stripeLive();
    const imageDir = join(tempDir('keyfence-image-'), 'layout');
    await writeOciLayout(imageDir, 'app', [
      {
        layers: [{ files: { 'app/.env': `TOKEN=${inImage}\n` } }, { files: {}, delete: ['app/.env'] }],
        env: [`STRIPE_KEY=${inEnv}`],
      },
    ]);
    const inJar = fake.awsAccessKeyId();
    const jar = zipSync({ 'application.properties': strToU8(`aws.key=${inJar}\n`) });
    mkdirSync(join(workspace, 'dist'), { recursive: true });
    writeFileSync(join(workspace, 'dist', 'app.zip'), zipSync({ 'lib/app.jar': jar }));
    const run = runAction(ACTION, {
      workspace,
      event: { name: 'workflow_dispatch', payload: {} },
      inputs: { image: imageDir, artifacts: '# build outputs\ndist/*.zip\n' },
    });
    expect(run.code).toBe(1);
    expect(run.outputs['findings']).toBe('3');
    // Nothing in an image or archive maps to a repository file: no annotation points at one.
    expect(annotations(run).filter((a) => a.properties['file'])).toEqual([]);
    expect(run.summary).toContain('deleted in layer 2');
    expect(summaryText(run)).toContain('app.zip!/lib/app.jar!/application.properties');
    const uris = sarif(run).runs[0]!.results.map(
      (r) => r.locations[0]!.physicalLocation.artifactLocation.uri,
    );
    expect(uris.some((u) => u.includes('app.jar'))).toBe(true);
    expect(sarifValidationErrors(run.outputs['sarif-file']!)).toEqual([]);
    expectNoSecret(run, [inImage, inEnv, inJar]);
  });
});
