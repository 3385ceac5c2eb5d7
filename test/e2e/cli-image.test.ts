import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Zippable, zipSync } from 'fflate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ensureRegistryTools,
  pushLayout,
  type RunningRegistry,
  startRegistry,
} from '../services/registry.js';
import { keyfence, tempDir } from '../support/cli.js';
import { dockerSaveTar, type ImageSpec, tarOfFolder, writeOciLayout } from '../support/oci.js';
import { sarifValidationErrors } from '../support/sarif.js';
import { fake } from '../support/secrets.js';

interface Finding {
  ruleId: string;
  location: {
    path: string;
    line: number;
    image?: string;
    layer?: string;
    layerIndex?: number;
    deletedInLayer?: number;
    chain?: string[];
  };
}
interface Report {
  findings: Finding[];
  problems: { kind: string; path?: string; message: string }[];
}

function expectNoSecret(run: { stdout: string; stderr: string }, ...secrets: string[]): void {
  for (const s of secrets) {
    expect(run.stdout).not.toContain(s);
    expect(run.stderr).not.toContain(s);
  }
}

/** An image whose secrets sit where images leak them: a deleted layer file, Env, the build history. */
function leakyImage(): {
  spec: ImageSpec;
  secrets: { deleted: string; env: string; history: string; label: string };
} {
  const secrets = {
    deleted: fake.githubPat(),
    env: fake.awsAccessKeyId(),
    history: fake.stripeLive(),
    label: fake.slackBot(),
  };
  const spec: ImageSpec = {
    layers: [
      { files: { 'etc/os-release': 'ID=test\n', 'app/main.js': 'console.log("hi")\n' } },
      { files: { 'app/.env': `GITHUB_TOKEN=${secrets.deleted}\n` } },
      { files: { 'app/README': 'cleaned up\n' }, delete: ['app/.env'] },
    ],
    env: ['PATH=/usr/local/bin:/usr/bin:/bin', `AWS_ACCESS_KEY_ID=${secrets.env}`],
    labels: { maintainer: 'team', 'ci.slack': secrets.label },
    history: [
      '/bin/sh -c #(nop) ADD file:abc in /',
      '/bin/sh -c #(nop) COPY file:def in /app/.env',
      `/bin/sh -c curl -fsS -H "Authorization: Bearer ${secrets.history}" https://api.example.com/setup && rm /app/.env`,
    ],
  };
  return { spec, secrets };
}

function expectLeakyFindings(report: Report, image: string): void {
  const byPath = new Map(report.findings.map((f) => [f.location.path, f]));
  expect(byPath.get('app/.env')).toMatchObject({
    ruleId: 'github-pat',
    location: {
      image,
      layerIndex: 2,
      deletedInLayer: 3,
      layer: expect.stringMatching(/^sha256:[0-9a-f]{64}$/),
    },
  });
  expect(byPath.get('image-config/Env')).toMatchObject({
    ruleId: 'aws-access-key-id',
    location: { image, line: 2 },
  });
  expect(byPath.get('image-config/Labels')?.location).toMatchObject({ image, line: 2 });
  expect(byPath.get('image-config/history')?.location).toMatchObject({ image, line: 3 });
  expect(byPath.get('image-config/Env')?.location.layer).toBeUndefined();
}

describe('keyfence scan --image-archive', () => {
  it('reads an OCI layout folder: a deleted file, Env, Labels and history, with image and layer', async () => {
    const { spec, secrets } = leakyImage();
    const dir = tempDir();
    await writeOciLayout(join(dir, 'layout'), 'v1', [spec]);
    const run = keyfence(['scan', '--image-archive', 'layout', '--format', 'json'], dir);
    expect(run.code).toBe(1);
    const report = JSON.parse(run.stdout) as Report;
    expect(report.findings).toHaveLength(4);
    expectLeakyFindings(report, 'oci:layout:v1');
    expectNoSecret(run, ...Object.values(secrets));

    const text = keyfence(['scan', '--image-archive', 'layout'], dir);
    expect(text.code).toBe(1);
    expect(text.stdout).toMatch(
      /app\/\.env {2}\(image oci:layout:v1, layer 2 sha256:[0-9a-f]{12}; deleted in layer 3, still in the image\)\n\s+1:14\s+github-pat/,
    );
    expect(text.stdout).toContain('image-config/history  (image oci:layout:v1)');
    expectNoSecret(text, ...Object.values(secrets));

    const sarif = keyfence(['scan', '--image-archive', 'layout', '--format', 'sarif'], dir);
    writeFileSync(join(dir, 'image.sarif'), sarif.stdout);
    expect(sarifValidationErrors(join(dir, 'image.sarif'))).toEqual([]);
    const results = JSON.parse(sarif.stdout).runs[0].results as {
      message: { text: string };
      properties: Record<string, unknown>;
    }[];
    const deleted = results.find((r) => r.properties.deletedInLayer === 3)!;
    expect(deleted.message.text).toContain('deleted in layer 3, still in the image');
    expect(deleted.properties).toMatchObject({ image: 'oci:layout:v1', layerIndex: 2 });
    expectNoSecret(sarif, ...Object.values(secrets));
  });

  it('reads an OCI layout tar and a docker save tar', async () => {
    const { spec, secrets } = leakyImage();
    const dir = tempDir();
    await writeOciLayout(join(dir, 'layout'), 'v2', [spec]);
    writeFileSync(join(dir, 'image.oci.tar'), await tarOfFolder(join(dir, 'layout')));
    writeFileSync(join(dir, 'saved.tar'), await dockerSaveTar(spec, 'team/app:2.0'));
    const oci = keyfence(['scan', '--image-archive', 'image.oci.tar', '--format', 'json'], dir);
    expect(oci.code).toBe(1);
    expectLeakyFindings(JSON.parse(oci.stdout) as Report, 'oci-archive:image.oci.tar:v2');
    const saved = keyfence(['scan', '--image-archive', 'saved.tar', '--format', 'json'], dir);
    expect(saved.code).toBe(1);
    expectLeakyFindings(JSON.parse(saved.stdout) as Report, 'docker-archive:saved.tar:team/app:2.0');
    expectNoSecret(oci, ...Object.values(secrets));
    expectNoSecret(saved, ...Object.values(secrets));
  });

  it('sees through opaque folders, reads zstd layers, and opens archives inside layers', async () => {
    const a = fake.githubPat();
    const b = fake.awsAccessKeyId();
    const jar = Buffer.from(zipSync({ 'creds.properties': Buffer.from(`aws.key=${b}\n`) } as Zippable));
    const dir = tempDir();
    await writeOciLayout(join(dir, 'layout'), 'z', [
      {
        layers: [
          { files: { 'srv/conf/token.txt': `token: ${a}\n` }, compression: 'zstd' },
          {
            files: { 'srv/lib/app.jar': jar, 'srv/conf/new.txt': 'clean\n' },
            opaque: ['srv/conf'],
            compression: 'zstd',
          },
        ],
      },
    ]);
    const run = keyfence(['scan', '--image-archive', 'layout', '--format', 'json'], dir);
    expect(run.code).toBe(1);
    const report = JSON.parse(run.stdout) as Report;
    expect(report.findings.find((f) => f.location.path === 'srv/conf/token.txt')?.location).toMatchObject({
      layerIndex: 1,
      deletedInLayer: 2,
    });
    const inJar = report.findings.find((f) => f.location.path === 'srv/lib/app.jar!/creds.properties');
    expect(inJar?.location).toMatchObject({ layerIndex: 2, chain: ['srv/lib/app.jar', 'creds.properties'] });
    expect(inJar?.location.deletedInLayer).toBeUndefined();
    expectNoSecret(run, a, b);
  });

  it('applies the archive limits to layers, naming the image and layer in the problem', async () => {
    const token = fake.githubPat();
    const dir = tempDir();
    await writeOciLayout(join(dir, 'layout'), 'big', [
      { layers: [{ files: { 'data/big.txt': 'row\n'.repeat(2000), 'app/.env': `TOKEN=${token}\n` } }] },
    ]);
    const run = keyfence(
      ['scan', '--image-archive', 'layout', '--archive-max-entry-size', '4KiB', '--format', 'json'],
      dir,
    );
    expect(run.code).toBe(1);
    const report = JSON.parse(run.stdout) as Report;
    expect(report.findings.map((f) => f.location.path)).toEqual(['app/.env']);
    expect(report.problems).toEqual([
      expect.objectContaining({
        kind: 'limit',
        path: expect.stringMatching(/^oci:layout:big layer 1 \(sha256:[0-9a-f]{64}\): data\/big\.txt$/),
        message: expect.stringContaining('over the per-entry limit of 4 KiB'),
      }),
    ]);
    expectNoSecret(run, token);
  });

  it('picks the platform from a multi-platform index (default linux/amd64)', async () => {
    const amd = fake.githubPat();
    const arm = fake.stripeLive();
    const dir = tempDir();
    await writeOciLayout(join(dir, 'multi'), 'latest', [
      {
        layers: [{ files: { 'amd.env': `TOKEN=${amd}\n` } }],
        platform: { os: 'linux', architecture: 'amd64' },
      },
      {
        layers: [{ files: { 'arm.env': `STRIPE=${arm}\n` } }],
        platform: { os: 'linux', architecture: 'arm64', variant: 'v8' },
      },
    ]);
    const def = JSON.parse(
      keyfence(['scan', '--image-archive', 'multi', '--format', 'json'], dir).stdout,
    ) as Report;
    expect(def.findings.map((f) => f.location.path)).toEqual(['amd.env']);
    const armRun = keyfence(
      ['scan', '--image-archive', 'multi', '--platform', 'linux/arm64', '--format', 'json'],
      dir,
    );
    expect((JSON.parse(armRun.stdout) as Report).findings.map((f) => f.location.path)).toEqual(['arm.env']);
    const none = keyfence(['scan', '--image-archive', 'multi', '--platform', 'linux/s390x'], dir);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('has no image for linux/s390x (it has: linux/amd64, linux/arm64/v8)');
    expectNoSecret(armRun, amd, arm);
  });

  it('fails with a clear error on a missing or unrecognised image archive', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'junk.tar'), Buffer.alloc(2048));
    const missing = keyfence(['scan', '--image-archive', 'nope.tar'], dir);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('no such image archive: nope.tar');
    const junk = keyfence(['scan', '--image-archive', 'junk.tar'], dir);
    expect(junk.code).toBe(2);
    expect(junk.stderr).toContain('neither an OCI layout tar');
  });
});

// The registry tests need Debian's docker-registry and skopeo. In CI they must run: a missing tool
// fails them. Elsewhere they are skipped with the reason.
const tools = ensureRegistryTools();
const inCi = process.env.CI === 'true';
const runRegistry = tools.ok || inCi;

describe.runIf(runRegistry)('keyfence scan --image (a real registry on 127.0.0.1)', () => {
  let anon: RunningRegistry | undefined;
  let secured: RunningRegistry | undefined;
  const dir = tempDir();
  const leaky = leakyImage();
  const multiAmd = fake.githubPat();
  const multiArm = fake.githubPat();

  beforeAll(async () => {
    if (!tools.ok) throw new Error(`registry tests cannot run: ${tools.reason}`);
    [anon, secured] = await Promise.all([startRegistry(), startRegistry({ auth: 'token' })]);
    await writeOciLayout(join(dir, 'leaky'), 'v1', [leaky.spec]);
    await writeOciLayout(join(dir, 'multi'), 'v1', [
      {
        layers: [{ files: { 'amd.env': `TOKEN=${multiAmd}\n` } }],
        platform: { os: 'linux', architecture: 'amd64' },
      },
      {
        layers: [{ files: { 'arm.env': `TOKEN=${multiArm}\n` } }],
        platform: { os: 'linux', architecture: 'arm64' },
      },
    ]);
    await pushLayout(anon, join(dir, 'leaky'), 'v1', 'team/leaky:v1');
    await pushLayout(anon, join(dir, 'multi'), 'v1', 'team/multi:v1', { all: true });
    await pushLayout(secured, join(dir, 'leaky'), 'v1', 'private/leaky:v1');
  }, 300_000);

  afterAll(async () => {
    await Promise.all([anon?.stop(), secured?.stop()]);
  });

  it('pulls anonymously over plain HTTP for an --insecure-registry host and finds every leak', () => {
    const ref = `${anon!.host}/team/leaky:v1`;
    const run = keyfence(
      ['scan', '--image', ref, '--insecure-registry', anon!.host, '--format', 'json'],
      dir,
    );
    expect(run.stderr).toBe('');
    expect(run.code).toBe(1);
    expectLeakyFindings(JSON.parse(run.stdout) as Report, ref);
    expectNoSecret(run, ...Object.values(leaky.secrets));
  });

  it('refuses plain HTTP unless the host is named with --insecure-registry', () => {
    const run = keyfence(['scan', '--image', `${anon!.host}/team/leaky:v1`], dir);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(`pass --insecure-registry ${anon!.host}`);
  });

  it('picks the platform from a pushed multi-platform index, by tag and by digest', () => {
    const ref = `${anon!.host}/team/multi:v1`;
    const base = ['scan', '--insecure-registry', anon!.host, '--format', 'json'];
    const amd = JSON.parse(keyfence([...base, '--image', ref], dir).stdout) as Report;
    expect(amd.findings.map((f) => f.location.path)).toEqual(['amd.env']);
    const arm = keyfence([...base, '--image', ref, '--platform', 'linux/arm64'], dir);
    expect((JSON.parse(arm.stdout) as Report).findings.map((f) => f.location.path)).toEqual(['arm.env']);
    expectNoSecret(arm, multiAmd, multiArm);
    const index = JSON.parse(readFileSync(join(dir, 'multi', 'index.json'), 'utf8')) as {
      manifests: { digest: string }[];
    };
    const byDigest = keyfence(
      [...base, '--image', `${anon!.host}/team/multi@${index.manifests[0]!.digest}`],
      dir,
    );
    expect((JSON.parse(byDigest.stdout) as Report).findings.map((f) => f.location.path)).toEqual(['amd.env']);
    const missing = keyfence([...base, '--image', `${anon!.host}/team/multi:v9`], dir);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('team/multi: v9 not found');
  });

  it('gets a bearer token with the credentials in DOCKER_CONFIG, and fails clearly without them', async () => {
    const ref = `${secured!.host}/private/leaky:v1`;
    const args = ['scan', '--image', ref, '--insecure-registry', secured!.host, '--format', 'json'];
    const withCreds = keyfence(args, dir, {
      env: { ...process.env, NO_COLOR: '1', DOCKER_CONFIG: secured!.auth!.dockerConfigDir },
    });
    expect(withCreds.stderr).toBe('');
    expect(withCreds.code).toBe(1);
    expectLeakyFindings(JSON.parse(withCreds.stdout) as Report, ref);
    const granted = (await secured!.tokenStats()).granted;
    expect(granted).toBeGreaterThan(0);

    const without = keyfence(args, dir, {
      env: { ...process.env, NO_COLOR: '1', DOCKER_CONFIG: join(dir, 'no-such-docker-config') },
    });
    expect(without.code).toBe(2);
    expect(without.stderr).toContain(
      `the token service of ${secured!.host} refused anonymous access (HTTP 401)`,
    );
    expect(without.stderr).toContain('hint: log in so that');
    for (const run of [withCreds, without]) {
      expectNoSecret(run, secured!.auth!.password, ...Object.values(leaky.secrets));
    }
  });
});

if (!runRegistry) {
  describe('keyfence scan --image (a real registry)', () => {
    it.skip(`skipped: ${tools.ok ? '' : tools.reason} (with CI=true this fails instead)`, () => {});
  });
}
