import { spawnSync } from 'node:child_process';
import { freePort } from './ports.js';
import { answers, startService } from './process.js';

/** A running moto server: STS, Secrets Manager and IAM on 127.0.0.1. */
export interface MotoServer {
  endpoint: string;
  stop(): Promise<void>;
}

function hasMotoServer(): boolean {
  return spawnSync('python3', ['-c', 'import moto.server, flask'], { stdio: 'ignore' }).status === 0;
}

/** Installs moto's server with pip when `import moto.server` fails. */
export function ensureMoto(): void {
  if (hasMotoServer()) return;
  const install = spawnSync('python3', ['-m', 'pip', 'install', '--quiet', 'moto[server]'], {
    encoding: 'utf8',
  });
  if (install.status !== 0 || !hasMotoServer()) {
    throw new Error(`could not install moto[server] with pip:\n${install.stderr}`);
  }
}

/** Starts `python3 -m moto.server` on a free port and waits until it answers. */
export async function startMoto(): Promise<MotoServer> {
  ensureMoto();
  const port = await freePort();
  const endpoint = `http://127.0.0.1:${port}`;
  const service = await startService({
    name: 'moto',
    command: 'python3',
    args: ['-m', 'moto.server', '-H', '127.0.0.1', '-p', String(port)],
    ready: () => answers(`${endpoint}/moto-api/`),
  });
  return { endpoint, stop: service.stop };
}

/** The environment that points the AWS SDK (and so the action) at moto. */
export function motoEnv(endpoint: string): Record<string, string> {
  return {
    AWS_ENDPOINT_URL: endpoint,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'testing',
    AWS_SECRET_ACCESS_KEY: 'testing',
    AWS_EC2_METADATA_DISABLED: 'true',
  };
}
