import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { dockerConfigDir, dockerCredentials, registryHost } from './docker-config.js';

const dir = mkdtempSync(join(tmpdir(), 'keyfence-docker-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('docker config credentials', () => {
  it('reads auth, username/password and identity tokens, keyed by host', () => {
    writeFileSync(
      join(dir, 'config.json'),
      JSON.stringify({
        auths: {
          'https://reg.example.com/v1/': { auth: Buffer.from('robot:pa:ss').toString('base64') },
          'other.example.com:5000': { username: 'u', password: 'p' },
          'token.example.com': { identitytoken: 'refresh-me' },
        },
      }),
    );
    const lookup = dockerCredentials({ DOCKER_CONFIG: dir });
    const a = lookup('reg.example.com');
    expect(a?.kind === 'basic' && a.username).toBe('robot');
    expect(a?.kind === 'basic' && a.password.reveal()).toBe('pa:ss');
    expect(String(a?.kind === 'basic' && a.password)).toBe('[REDACTED]');
    expect(lookup('other.example.com:5000')?.kind).toBe('basic');
    expect(lookup('token.example.com')?.kind).toBe('identity-token');
    expect(lookup('nowhere.example.com')).toBeUndefined();
  });

  it('means anonymous when there is no config file, and finds the folder the standard way', () => {
    expect(dockerCredentials({ DOCKER_CONFIG: join(dir, 'none') })('reg.example.com')).toBeUndefined();
    expect(dockerConfigDir({ DOCKER_CONFIG: '/x' })).toBe('/x');
    expect(dockerConfigDir({ HOME: '/home/me' })).toBe('/home/me/.docker');
    expect(registryHost('http://h:1/v2/')).toBe('h:1');
  });
});
