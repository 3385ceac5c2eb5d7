import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { ErrorCode, KeyfenceError, SecretValue } from '@keyfence/core';

/** Credentials for one registry: a user and password, or an identity (refresh) token. */
export type RegistryCredential =
  | { kind: 'basic'; username: string; password: SecretValue }
  | { kind: 'identity-token'; token: SecretValue };

/** Looks up the credentials for a registry host (`host[:port]`), if any. */
export type CredentialLookup = (host: string) => RegistryCredential | undefined;

interface DockerConfigFile {
  auths?: Record<string, { auth?: string; username?: string; password?: string; identitytoken?: string }>;
  credHelpers?: Record<string, string>;
  credsStore?: string;
}

/** The folder of Docker's client config: `$DOCKER_CONFIG`, else `~/.docker`. */
export function dockerConfigDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.DOCKER_CONFIG || join(env.HOME || homedir(), '.docker');
}

/**
 * Reads credentials the way `docker login` stores them: `auths` entries (base64 `auth`, or
 * username/password, or an identity token), then `credHelpers` / `credsStore` helper programs
 * (`docker-credential-NAME get`). A missing file means anonymous access.
 */
export function dockerCredentials(env: NodeJS.ProcessEnv = process.env): CredentialLookup {
  const file = join(dockerConfigDir(env), 'config.json');
  let config: DockerConfigFile = {};
  try {
    config = JSON.parse(readFileSync(file, 'utf8')) as DockerConfigFile;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') {
      throw new KeyfenceError(ErrorCode.CONFIG_INVALID, `cannot read ${file}: ${(e as Error).message}`, {
        hint: 'fix or remove the Docker client config (it holds registry credentials)',
      });
    }
  }
  const auths = new Map<string, NonNullable<DockerConfigFile['auths']>[string]>();
  for (const [key, value] of Object.entries(config.auths ?? {})) auths.set(registryHost(key), value);
  return (host) => {
    const helper = config.credHelpers?.[host] ?? (auths.has(host) ? undefined : config.credsStore);
    if (helper) {
      const fromHelper = runHelper(helper, host, env);
      if (fromHelper) return fromHelper;
    }
    const entry = auths.get(host);
    if (!entry) return undefined;
    if (entry.identitytoken) return { kind: 'identity-token', token: SecretValue.of(entry.identitytoken) };
    if (entry.username && entry.password) {
      return { kind: 'basic', username: entry.username, password: SecretValue.of(entry.password) };
    }
    if (entry.auth) {
      const decoded = Buffer.from(entry.auth, 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      if (colon > 0) {
        return {
          kind: 'basic',
          username: decoded.slice(0, colon),
          password: SecretValue.of(decoded.slice(colon + 1)),
        };
      }
    }
    return undefined;
  };
}

/** `https://host:5000/v1/` and `host:5000` both name `host:5000`. */
export function registryHost(key: string): string {
  return key.replace(/^[a-z]+:\/\//i, '').replace(/\/.*$/, '');
}

function runHelper(helper: string, host: string, env: NodeJS.ProcessEnv): RegistryCredential | undefined {
  const r = spawnSync(`docker-credential-${helper}`, ['get'], {
    input: host,
    encoding: 'utf8',
    env,
    timeout: 30_000,
  });
  if (r.error || r.status !== 0) return undefined;
  try {
    const out = JSON.parse(r.stdout) as { Username?: string; Secret?: string };
    if (!out.Secret) return undefined;
    return out.Username === '<token>' || !out.Username
      ? { kind: 'identity-token', token: SecretValue.of(out.Secret) }
      : { kind: 'basic', username: out.Username, password: SecretValue.of(out.Secret) };
  } catch {
    return undefined;
  }
}
