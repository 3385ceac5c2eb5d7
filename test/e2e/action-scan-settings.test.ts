import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { strToU8, zipSync } from 'fflate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ensureRegistryTools,
  pushLayout,
  type RunningRegistry,
  startRegistry,
} from '../services/registry.js';
import { tempDir } from '../support/cli.js';
import { TestRepo } from '../support/git.js';
import { writeOciLayout } from '../support/oci.js';
import { type ActionRun, runAction } from '../support/runner.js';
import { sarifValidationErrors } from '../support/sarif.js';
import { fake } from '../support/secrets.js';

// The action's own settings: errors and warnings name its inputs, never the CLI's flags.
const ACTION = 'action-scan';
const DISPATCH = { name: 'workflow_dispatch', payload: {} };

function cleanWorkspace(): string {
  const origin = new TestRepo();
  origin.commit('init', { 'README.md': 'clean\n' });
  const dir = join(tempDir('keyfence-ws-'), 'app');
  execFileSync('git', ['clone', '-q', `file://${origin.dir}`, dir]);
  return dir;
}

function commands(run: ActionRun, level: string): string[] {
  return run.commands.filter((c) => c.command === level).map((c) => c.message);
}

interface SarifLocation {
  physicalLocation: { artifactLocation: { uri: string; uriBaseId: string } };
}

function sarifLocations(run: ActionRun): SarifLocation['physicalLocation']['artifactLocation'][] {
  const log = JSON.parse(readFileSync(run.outputs['sarif-file']!, 'utf8')) as {
    runs: { results: { locations: SarifLocation[] }[] }[];
  };
  return log.runs[0]!.results.map((r) => r.locations[0]!.physicalLocation.artifactLocation);
}

describe('action-scan artifacts that match nothing', () => {
  it('warns, naming the input and the workspace-relative glob, and still scans what matched', () => {
    const workspace = cleanWorkspace();
    const inZip = fake.awsAccessKeyId();
    mkdirSync(join(workspace, 'dist'));
    writeFileSync(
      join(workspace, 'dist', 'app.zip'),
      zipSync({ 'app.properties': strToU8(`key=${inZip}\n`) }),
    );
    const run = runAction(ACTION, {
      workspace,
      event: DISPATCH,
      inputs: { artifacts: 'dist/*.zip\nbuild/libs/*.jar\nout/app.war\n' },
    });
    expect(run.code).toBe(1);
    expect(run.outputs['findings']).toBe('1');
    expect(commands(run, 'warning')).toEqual([
      'input "artifacts": no file matches "build/libs/*.jar" (relative to the workspace); nothing scanned for it',
      'input "artifacts": no file matches "out/app.war" (relative to the workspace); nothing scanned for it',
    ]);
    // The one error is the leak, not the missing outputs; no CLI flag is named anywhere.
    expect(commands(run, 'error').join('\n')).not.toMatch(/no file matches|no such archive/);
    expect(run.stdout).not.toContain('--archive');
    expect(run.stdout).not.toContain(inZip);
  });

  it('does not follow a checked-out link out of the workspace to find artifacts', () => {
    const workspace = cleanWorkspace();
    const home = tempDir('keyfence-home-');
    const elsewhere = fake.awsAccessKeyId();
    writeFileSync(join(home, 'app.zip'), zipSync({ 'app.properties': strToU8(`key=${elsewhere}\n`) }));
    // The pull request commits the artifact folder, and one artifact, as links to the runner's files.
    symlinkSync(home, join(workspace, 'dist'));
    mkdirSync(join(workspace, 'out'));
    symlinkSync(join(home, 'app.zip'), join(workspace, 'out', 'app.zip'));
    const run = runAction(ACTION, {
      workspace,
      event: DISPATCH,
      inputs: { artifacts: 'dist/*.zip\nout/app.zip\n' },
    });
    expect(run.code).toBe(0);
    expect(run.outputs['findings']).toBe('0');
    expect(commands(run, 'warning')).toEqual([
      'input "artifacts": "dist/*.zip" leads out of the workspace through a symbolic link; not scanned',
      'input "artifacts": "out/app.zip" leads out of the workspace through a symbolic link; not scanned',
    ]);
    expect(run.stdout).not.toContain(elsewhere);
  });

  it('passes a clean run whose only glob matches nothing, with the warning', () => {
    const run = runAction(ACTION, {
      workspace: cleanWorkspace(),
      event: DISPATCH,
      inputs: { artifacts: 'dist/*.zip' },
    });
    expect(run.code).toBe(0);
    expect(run.outputs['findings']).toBe('0');
    expect(commands(run, 'warning')).toEqual([
      'input "artifacts": no file matches "dist/*.zip" (relative to the workspace); nothing scanned for it',
    ]);
    expect(commands(run, 'error')).toEqual([]);
  });
});

describe("action-scan past code scanning's 25,000 results", () => {
  it('says truthfully what the summary, the SARIF file and the JSON report each hold', () => {
    const workspace = cleanWorkspace();
    const n = 25_004;
    const tokens = Array.from({ length: n }, () => fake.githubPat());
    writeFileSync(join(workspace, 'tokens.env'), `${tokens.map((t) => `T=${t}`).join('\n')}\n`);
    const run = runAction(ACTION, {
      workspace,
      event: DISPATCH,
      // Keyed: without a key each distinct secret costs a slow scrypt hash, 25,004 of them minutes.
      inputs: {
        'report-file': 'out/keyfence.json',
        'max-annotations': '0',
        'fingerprint-key': randomBytes(32).toString('base64'),
      },
    });
    expect(run.code).toBe(1);
    expect(run.outputs['findings']).toBe(String(n));
    const sarif = JSON.parse(readFileSync(run.outputs['sarif-file']!, 'utf8'));
    expect(sarif.runs[0].results).toHaveLength(25_000);
    expect(sarif.runs[0].properties).toMatchObject({ truncated: true, findings: n });
    const json = JSON.parse(readFileSync(run.outputs['report-file']!, 'utf8'));
    expect(json.findings).toHaveLength(n);
    const rows = run.summary.split('\n').filter((l) => /^\| \d+ \|/.test(l)).length;
    expect(rows).toBeLessThan(n);
    expect(run.summary).not.toContain(`All ${n} are in the SARIF file`);
    expect(run.summary).toContain(
      `${n - rows} more not shown: a job summary holds at most 1 MiB. The SARIF file holds the first 25000 ` +
        `(code scanning takes at most 25000 per run); the JSON report holds all ${n}.`,
    );
  }, 120_000);
});

describe('action-scan errors about a setting name the action input', () => {
  it('refuses a path input that the checkout turned into a link out of the workspace', () => {
    const workspace = cleanWorkspace();
    const home = tempDir('keyfence-home-');
    const credential = fake.githubPat();
    writeFileSync(join(home, '.git-credentials'), `https://x:${credential}@example.invalid\n`);
    // The pull request replaces the folder the workflow scans with a link to the runner's home.
    symlinkSync(home, join(workspace, 'docs'));
    const run = runAction(ACTION, { workspace, event: DISPATCH, inputs: { path: 'docs', mode: 'files' } });
    expect(run.code).toBe(1);
    const [error] = commands(run, 'error');
    expect(error).toMatch(
      /^input "path": docs is a symbolic link that leads out of the workspace; not scanned\nhint: /,
    );
    expect(run.stdout).not.toContain('.git-credentials');
    expect(run.stdout).not.toContain(credential);
    // A link that stays inside the workspace is scanned as before.
    mkdirSync(join(workspace, 'real'));
    symlinkSync(join(workspace, 'real'), join(workspace, 'inside'));
    const inside = runAction(ACTION, {
      workspace,
      event: DISPATCH,
      inputs: { path: 'inside', mode: 'files' },
    });
    expect(inside.code).toBe(0);
  });

  it('names the config input, not --config, when the config file cannot be read', () => {
    const run = runAction(ACTION, {
      workspace: cleanWorkspace(),
      event: DISPATCH,
      inputs: { config: 'ci/keyfence.yaml' },
    });
    expect(run.code).toBe(1);
    const [error] = commands(run, 'error');
    expect(error).toMatch(/^cannot read config file .*ci\/keyfence\.yaml: ENOENT\nhint: /);
    expect(error).toContain('check the path given to the `config` input');
    expect(run.stdout).not.toContain('--config');
  });

  it('names the artifacts input, not --archive, for an image that is a gzip-compressed tar', () => {
    const workspace = cleanWorkspace();
    writeFileSync(join(workspace, 'image.tar.gz'), gzipSync(Buffer.from('not really a tar')));
    const run = runAction(ACTION, { workspace, event: DISPATCH, inputs: { image: 'image.tar.gz' } });
    expect(run.code).toBe(1);
    const [error] = commands(run, 'error');
    expect(error).toContain('image.tar.gz is gzip-compressed');
    expect(error).toContain('or scan it with the `artifacts` input to read it as a plain archive');
    expect(run.stdout).not.toContain('--archive');
  });

  it('names the platform input when a multi-platform image has no image for the default platform', async () => {
    const workspace = cleanWorkspace();
    const layout = join(tempDir('keyfence-image-'), 'multi');
    await writeOciLayout(layout, 'v1', [
      { layers: [{ files: { 'a.txt': 'a\n' } }], platform: { os: 'linux', architecture: 'arm64' } },
      { layers: [{ files: { 'b.txt': 'b\n' } }], platform: { os: 'linux', architecture: 's390x' } },
    ]);
    const run = runAction(ACTION, { workspace, event: DISPATCH, inputs: { image: layout } });
    expect(run.code).toBe(1);
    const [error] = commands(run, 'error');
    expect(error).toContain('has no image for linux/amd64');
    expect(error).toContain('set `platform: linux/arm64` under `with:`');
    expect(run.stdout).not.toContain('--platform');
    const picked = runAction(ACTION, {
      workspace,
      event: DISPATCH,
      inputs: { image: layout, platform: 'linux/arm64' },
    });
    expect(picked.code).toBe(0);
    const typo = runAction(ACTION, {
      workspace,
      event: DISPATCH,
      inputs: { image: layout, platform: 'arm64' },
    });
    expect(commands(typo, 'error')).toEqual([
      'a platform is OS/ARCH[/VARIANT] (got "arm64")\nhint: e.g. set `platform: linux/arm64` under `with:` (or linux/arm64/v8)',
    ]);
  });
});

// Like the CLI's registry tests: Debian's docker-registry and skopeo; in CI a missing tool fails.
const tools = ensureRegistryTools();
const runRegistry = tools.ok || process.env.CI === 'true';

describe.runIf(runRegistry)('action-scan image from a plain-HTTP registry (insecure-registry input)', () => {
  let registry: RunningRegistry | undefined;
  const secret = fake.githubPat();
  const inCmd = fake.stripeLive();

  beforeAll(async () => {
    if (!tools.ok) throw new Error(`registry tests cannot run: ${tools.reason}`);
    registry = await startRegistry();
    const layout = join(tempDir('keyfence-image-'), 'app');
    await writeOciLayout(layout, 'v1', [
      {
        layers: [{ files: { 'app/.env': `GITHUB_TOKEN=${secret}\n` } }],
        cmd: ['serve', `--stripe-key=${inCmd}`],
      },
    ]);
    await pushLayout(registry, layout, 'v1', 'team/app:v1');
  }, 300_000);

  afterAll(async () => {
    await registry?.stop();
  });

  it('refuses plain HTTP with a hint that names the insecure-registry input', () => {
    const image = `${registry!.host}/team/app:v1`;
    const run = runAction(ACTION, { workspace: cleanWorkspace(), event: DISPATCH, inputs: { image } });
    expect(run.code).toBe(1);
    const [error] = commands(run, 'error');
    expect(error).toContain(`cannot reach registry ${registry!.host}`);
    expect(error).toContain(`add \`${registry!.host}\` to the \`insecure-registry\` input`);
    expect(run.stdout).not.toContain('--insecure-registry');
  });

  it('pulls over plain HTTP from a host in insecure-registry, with image URIs apart from the repository', () => {
    const workspace = cleanWorkspace();
    // A repository file at the same path as the image's: code scanning must not pin the alert on it.
    mkdirSync(join(workspace, 'app'));
    writeFileSync(join(workspace, 'app', '.env'), 'GITHUB_TOKEN=\n');
    const image = `${registry!.host}/team/app:v1`;
    const run = runAction(ACTION, {
      workspace,
      event: DISPATCH,
      inputs: { image, 'insecure-registry': `# the job's own registry\n${registry!.host}\n`, mode: 'files' },
    });
    expect(run.code).toBe(1);
    expect(run.outputs['findings']).toBe('2');
    const locations = sarifLocations(run);
    expect(locations).toEqual(
      expect.arrayContaining([
        { uri: `${encodeURIComponent(image)}/app/.env`, uriBaseId: 'IMAGE' },
        { uri: `${encodeURIComponent(image)}/image-config/Cmd`, uriBaseId: 'IMAGE' },
      ]),
    );
    expect(locations.some((l) => l.uri === 'app/.env')).toBe(false);
    expect(sarifValidationErrors(run.outputs['sarif-file']!)).toEqual([]);
    expect(`${run.stdout}${run.summary}`).not.toContain(secret);
  });
});
