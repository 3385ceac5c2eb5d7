import { createHash } from 'node:crypto';
import { SecretValue } from '@keyfence/core';
import { describe, expect, it } from 'vitest';
import type { RegistryCredential } from './docker-config.js';
import { MEDIA } from './oci.js';
import { parseChallenge, parseImageReference, RegistryClient } from './registry.js';

const digest = (b: Buffer): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;

describe('parseImageReference', () => {
  it('splits host, repository, tag and digest', () => {
    expect(parseImageReference('registry.example.com/team/app:1.4')).toEqual({
      registry: 'registry.example.com',
      repository: 'team/app',
      tag: '1.4',
    });
    expect(parseImageReference('127.0.0.1:5000/app')).toEqual({
      registry: '127.0.0.1:5000',
      repository: 'app',
      tag: 'latest',
    });
    const d = `sha256:${'a'.repeat(64)}`;
    expect(parseImageReference(`localhost/a/b@${d}`)).toEqual({
      registry: 'localhost',
      repository: 'a/b',
      digest: d,
    });
  });

  it('refuses a reference without a registry host, or with an invalid part', () => {
    expect(() => parseImageReference('alpine:3')).toThrow(/names no registry host/);
    expect(() => parseImageReference('library/alpine')).toThrow(/names no registry host/);
    expect(() => parseImageReference('reg.example.com/Team/App')).toThrow(/lowercase/);
    expect(() => parseImageReference('reg.example.com/app@sha256:xyz')).toThrow(/digest/);
  });
});

describe('parseChallenge', () => {
  it('reads quoted and bare parameters', () => {
    expect(
      parseChallenge(
        'Bearer realm="https://auth.example.com/token",service="reg",scope="repository:a/b:pull"',
      ),
    ).toEqual({
      realm: 'https://auth.example.com/token',
      service: 'reg',
      scope: 'repository:a/b:pull',
    });
    expect(parseChallenge('Basic realm=registry')).toEqual({ realm: 'registry' });
  });
});

type Handler = (url: URL, init: RequestInit) => Response;

function fakeFetch(handler: Handler): { fetch: typeof fetch; calls: { url: string; auth?: string }[] } {
  const calls: { url: string; auth?: string }[] = [];
  const f = (async (input: string | URL, init: RequestInit = {}) => {
    const url = new URL(String(input));
    const auth = (init.headers as Record<string, string> | undefined)?.Authorization;
    calls.push(auth ? { url: url.href, auth } : { url: url.href });
    return handler(url, init);
  }) as typeof fetch;
  return { fetch: f, calls };
}

const manifest = Buffer.from(
  JSON.stringify({ mediaType: MEDIA.ociManifest, config: { digest: 'x' }, layers: [] }),
);

function client(handler: Handler, cred?: RegistryCredential) {
  const fake = fakeFetch(handler);
  const c = new RegistryClient(parseImageReference('reg.example.com/team/app:1'), {
    insecure: false,
    credentials: () => cred,
    fetch: fake.fetch,
    sleep: async () => {},
  });
  return { c, calls: fake.calls };
}

describe('RegistryClient', () => {
  const password = SecretValue.of('pw-from-docker-config');

  it('answers a basic challenge with the docker config credentials', async () => {
    const { c, calls } = client(
      (_url, init) => {
        const auth = (init.headers as Record<string, string>).Authorization;
        return auth === `Basic ${Buffer.from('me:pw-from-docker-config').toString('base64')}`
          ? new Response(manifest, { headers: { 'Content-Type': MEDIA.ociManifest } })
          : new Response('', { status: 401, headers: { 'WWW-Authenticate': 'Basic realm="reg"' } });
      },
      { kind: 'basic', username: 'me', password },
    );
    const m = await c.manifest('1');
    expect(m.mediaType).toBe(MEDIA.ociManifest);
    expect(calls.map((x) => x.url)).toEqual([
      'https://reg.example.com/v2/team/app/manifests/1',
      'https://reg.example.com/v2/team/app/manifests/1',
    ]);
  });

  it('gets a bearer token from the realm with the credentials, then retries with it', async () => {
    const { c, calls } = client(
      (url, init) => {
        const auth = (init.headers as Record<string, string>).Authorization;
        if (url.host === 'auth.example.com') {
          expect(url.searchParams.get('scope')).toBe('repository:team/app:pull');
          expect(url.searchParams.get('service')).toBe('reg');
          return Response.json({ token: 'tok-123' });
        }
        return auth === 'Bearer tok-123'
          ? new Response(manifest)
          : new Response('', {
              status: 401,
              headers: { 'WWW-Authenticate': 'Bearer realm="https://auth.example.com/token",service="reg"' },
            });
      },
      { kind: 'basic', username: 'me', password },
    );
    expect((await c.manifest('1')).body.equals(manifest)).toBe(true);
    expect(calls[1]!.url).toMatch(/^https:\/\/auth\.example\.com\/token\?/);
    expect(calls[1]!.auth).toMatch(/^Basic /);
    expect(calls[2]!.auth).toBe('Bearer tok-123');
  });

  it('does not send credentials to a plain-HTTP token service of an HTTPS registry', async () => {
    const { c, calls } = client(
      () =>
        new Response('', {
          status: 401,
          headers: { 'WWW-Authenticate': 'Bearer realm="http://auth.example.com/token"' },
        }),
      { kind: 'basic', username: 'me', password },
    );
    await expect(c.manifest('1')).rejects.toThrow(/is not HTTPS; credentials are not sent over plain HTTP/);
    expect(calls).toHaveLength(1);
  });

  it('retries a 503, then maps 404 and 403 to clear errors', async () => {
    let n = 0;
    const flaky = client(() => (n++ === 0 ? new Response('', { status: 503 }) : new Response(manifest)));
    await expect(flaky.c.manifest('1')).resolves.toBeDefined();
    expect(flaky.calls).toHaveLength(2);
    const missing = client(() => new Response('', { status: 404 }));
    await expect(missing.c.manifest('9')).rejects.toThrow('reg.example.com/team/app: 9 not found');
    const denied = client(() => new Response('', { status: 403 }));
    await expect(denied.c.manifest('1')).rejects.toThrow(/denied access to team\/app \(HTTP 403\)/);
  });

  it('checks a manifest fetched by digest and a blob against their digests', async () => {
    const good = digest(manifest);
    const { c } = client(() => new Response(manifest));
    await expect(c.manifest(good)).resolves.toBeDefined();
    await expect(c.manifest(`sha256:${'0'.repeat(64)}`)).rejects.toThrow(/does not match its digest/);
    await expect(c.blobSource().read({ digest: `sha256:${'1'.repeat(64)}` })).rejects.toThrow(
      /does not match/,
    );
  });
});
