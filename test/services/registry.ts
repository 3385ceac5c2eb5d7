// A real OCI distribution registry on 127.0.0.1 for the image tests: Debian's `docker-registry`
// (the distribution registry 2.8), with its own config and storage in a temp folder, optionally
// behind token auth served by a tiny token server here; images are pushed with `skopeo copy`.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createNetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';

const TOOLS = ['docker-registry', 'skopeo', 'openssl'] as const;

function missingTools(): string[] {
  return TOOLS.filter((t) => spawnSync('sh', ['-c', `command -v ${t}`]).status !== 0);
}

/**
 * Whether the registry tools are here; when they are not and we are root, installs them with
 * apt-get (as CI's machine allows). Returns the reason when they are still missing.
 */
export function ensureRegistryTools(): { ok: true } | { ok: false; reason: string } {
  let missing = missingTools();
  if (missing.length > 0 && process.getuid?.() === 0) {
    const install = (): boolean =>
      spawnSync(
        'apt-get',
        ['install', '-y', '--no-install-recommends', 'docker-registry', 'skopeo', 'openssl'],
        {
          stdio: 'ignore',
          env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
        },
      ).status === 0;
    if (!install()) {
      spawnSync('apt-get', ['update'], { stdio: 'ignore' });
      install();
    }
    missing = missingTools();
  }
  return missing.length === 0
    ? { ok: true }
    : { ok: false, reason: `missing ${missing.join(', ')} (apt-get install -y docker-registry skopeo)` };
}

export interface RegistryAuth {
  username: string;
  password: string;
  /** A DOCKER_CONFIG folder whose config.json holds the credentials, as `docker login` writes it. */
  dockerConfigDir: string;
}

export interface RunningRegistry {
  /** `127.0.0.1:PORT`, the host part of image references. */
  host: string;
  auth?: RegistryAuth;
  /** Token requests the token server granted and refused so far (token auth only). */
  tokenStats(): Promise<{ granted: number; refused: number }>;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  const srv = createNetServer();
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const port = (srv.address() as { port: number }).port;
  await new Promise((resolve) => srv.close(resolve));
  return port;
}

/** Starts a registry; `auth: 'token'` puts it behind bearer tokens from a local token server. */
export async function startRegistry(options: { auth?: 'token' } = {}): Promise<RunningRegistry> {
  const dir = mkdtempSync(join(tmpdir(), 'keyfence-registry-'));
  const port = await freePort();
  const host = `127.0.0.1:${port}`;
  let tokenServer: ChildProcess | undefined;
  let tokenUrl: string | undefined;
  let auth: RegistryAuth | undefined;
  let authConfig = '';
  if (options.auth === 'token') {
    const service = 'keyfence-test-registry';
    const issuer = 'keyfence-test-issuer';
    const keyPem = join(dir, 'token.key');
    const certPem = join(dir, 'token.crt');
    const r = spawnSync('openssl', [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-days',
      '1',
      '-subj',
      '/CN=keyfence-test-token-issuer',
      '-keyout',
      keyPem,
      '-out',
      certPem,
    ]);
    if (r.status !== 0) throw new Error(`openssl could not make the token signing cert: ${r.stderr}`);
    auth = {
      username: 'ci-robot',
      password: randomBytes(18).toString('base64url'),
      dockerConfigDir: join(dir, 'docker-config'),
    };
    mkdirSync(auth.dockerConfigDir);
    writeFileSync(
      join(auth.dockerConfigDir, 'config.json'),
      JSON.stringify({
        auths: { [host]: { auth: Buffer.from(`${auth.username}:${auth.password}`).toString('base64') } },
      }),
    );
    tokenServer = spawn(process.execPath, [join(import.meta.dirname, 'registry-token-server.mjs')], {
      stdio: ['ignore', 'pipe', 'inherit'],
      env: {
        ...process.env,
        TOKEN_KEY: keyPem,
        TOKEN_CERT: certPem,
        TOKEN_ISSUER: issuer,
        TOKEN_USER: auth.username,
        TOKEN_PASSWORD: auth.password,
      },
    });
    const tokenPort = await new Promise<number>((resolve, reject) => {
      let out = '';
      tokenServer!.stdout?.on('data', (c: Buffer) => {
        out += c.toString();
        const m = /listening (\d+)/.exec(out);
        if (m) resolve(Number(m[1]));
      });
      tokenServer!.once('exit', (code) => reject(new Error(`the token server stopped (exit ${code})`)));
    });
    tokenUrl = `http://127.0.0.1:${tokenPort}`;
    authConfig = [
      'auth:',
      '  token:',
      `    realm: http://127.0.0.1:${tokenPort}/token`,
      `    service: ${service}`,
      `    issuer: ${issuer}`,
      `    rootcertbundle: ${certPem}`,
    ].join('\n');
  }
  const configFile = join(dir, 'config.yml');
  writeFileSync(
    configFile,
    [
      'version: 0.1',
      'log:',
      '  level: error',
      '  accesslog:',
      '    disabled: true',
      'storage:',
      '  filesystem:',
      `    rootdirectory: ${join(dir, 'storage')}`,
      'http:',
      `  addr: ${host}`,
      authConfig,
      '',
    ].join('\n'),
  );
  const child: ChildProcess = spawn('docker-registry', ['serve', configFile], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (c: Buffer) => {
    stderr = (stderr + c.toString()).slice(-4000);
  });
  const stop = async (): Promise<void> => {
    if (child.exitCode === null) {
      child.kill('SIGTERM');
      await Promise.race([new Promise((resolve) => child.once('exit', resolve)), delay(5000)]);
      if (child.exitCode === null) child.kill('SIGKILL');
    }
    if (tokenServer && tokenServer.exitCode === null) {
      tokenServer.kill('SIGTERM');
      await Promise.race([new Promise((resolve) => tokenServer!.once('exit', resolve)), delay(5000)]);
    }
    rmSync(dir, { recursive: true, force: true });
  };
  // Up when /v2/ answers at all (401 behind token auth).
  for (let i = 0; ; i++) {
    try {
      const res = await fetch(`http://${host}/v2/`);
      await res.body?.cancel();
      if (res.status === 200 || res.status === 401) break;
    } catch {
      // not listening yet
    }
    if (child.exitCode !== null || i > 100) {
      await stop();
      throw new Error(
        `docker-registry did not start on ${host}: ${stderr.trim() || `exit ${child.exitCode}`}`,
      );
    }
    await delay(100);
  }
  const tokenStats = async (): Promise<{ granted: number; refused: number }> =>
    tokenUrl
      ? ((await (await fetch(`${tokenUrl}/stats`)).json()) as { granted: number; refused: number })
      : { granted: 0, refused: 0 };
  const running: RunningRegistry = { host, tokenStats, stop };
  if (auth) running.auth = auth;
  return running;
}

/**
 * Pushes an OCI layout's tag to the registry with skopeo (`--all` keeps a multi-platform index).
 * Asynchronous on purpose: the token server answers skopeo from this very process.
 */
export async function pushLayout(
  registry: RunningRegistry,
  layoutDir: string,
  tag: string,
  target: string,
  options: { all?: boolean } = {},
): Promise<void> {
  const args = [
    '--insecure-policy',
    'copy',
    '--quiet',
    '--dest-tls-verify=false',
    ...(options.all ? ['--all'] : []),
    ...(registry.auth ? ['--dest-creds', `${registry.auth.username}:${registry.auth.password}`] : []),
    `oci:${layoutDir}:${tag}`,
    `docker://${registry.host}/${target}`,
  ];
  const child = spawn('skopeo', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (c: Buffer) => {
    stderr += c.toString();
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', resolve);
  }).finally(() => clearTimeout(timer));
  if (code !== 0) throw new Error(`skopeo copy failed (exit ${code}): ${stderr.trim()}`);
}
