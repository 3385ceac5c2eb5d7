import { randomBytes } from 'node:crypto';
import { createServer as createHttpServer, type Server } from 'node:http';
import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHttpSend } from './http.js';
import { bypassesProxy, proxyAgentsFromEnv, proxySettingsFromEnv } from './proxy.js';

describe('proxySettingsFromEnv', () => {
  it('reads either case, the lower-case name first, and splits NO_PROXY', () => {
    expect(
      proxySettingsFromEnv({
        HTTPS_PROXY: 'http://upper:1',
        https_proxy: 'http://lower:2',
        NO_PROXY: 'a.com, .b.org  c:8080',
      }),
    ).toEqual({ httpsProxy: 'http://lower:2', noProxy: ['a.com', '.b.org', 'c:8080'] });
    expect(proxySettingsFromEnv({ HTTP_PROXY: ' http://p:3 ', no_proxy: '' })).toEqual({
      httpProxy: 'http://p:3',
      noProxy: [],
    });
  });
});

describe('bypassesProxy', () => {
  it.each([
    ['example.com', 443, ['example.com'], true],
    ['api.example.com', 443, ['example.com'], true],
    ['api.example.com', 443, ['.example.com'], true],
    ['api.example.com', 443, ['*.example.com'], true],
    ['notexample.com', 443, ['example.com'], false],
    ['example.com', 443, ['example.com:8443'], false],
    ['example.com', 8443, ['example.com:8443'], true],
    ['127.0.0.1', 8200, ['127.0.0.1'], true],
    ['::1', 80, ['[::1]:80'], true],
    ['::1', 80, ['::1'], true],
    ['anything', 1, ['*'], true],
    ['EXAMPLE.com.', 443, ['example.COM'.toLowerCase()], true],
    ['example.com', 443, [], false],
  ])('%s:%i with NO_PROXY %j -> %s', (host, port, noProxy, expected) => {
    expect(bypassesProxy(host, port, noProxy)).toBe(expected);
  });
});

describe('proxyAgentsFromEnv', () => {
  let target: Server;
  let targetPort = 0;
  let proxy: Server;
  let proxyPort = 0;
  const tunnels: string[] = [];
  const sockets = new Set<Socket>();

  beforeAll(async () => {
    target = createHttpServer((req, res) => res.end(`hello from ${req.url}`));
    await new Promise<void>((resolve) => target.listen(0, '127.0.0.1', resolve));
    targetPort = (target.address() as { port: number }).port;
    proxy = createHttpServer((_req, res) => res.writeHead(405).end());
    proxy.on('connect', (req, client: Socket, head: Buffer) => {
      tunnels.push(`${req.url} ${req.headers['proxy-authorization'] ?? ''}`.trim());
      const [host = '', port = ''] = (req.url ?? '').split(':');
      const upstream = connect(Number(port), host, () => {
        client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
        upstream.write(head);
        upstream.pipe(client);
        client.pipe(upstream);
      });
      sockets.add(client).add(upstream);
      upstream.on('error', () => client.destroy());
      client.on('error', () => upstream.destroy());
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    proxyPort = (proxy.address() as { port: number }).port;
  });

  afterAll(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => target.close(resolve));
    await new Promise((resolve) => proxy.close(resolve));
  });

  it('gives no agent, so requests go direct, when no proxy is set', () => {
    expect(proxyAgentsFromEnv({})).toEqual({});
  });

  it('tunnels through the proxy with CONNECT, with basic auth from the proxy URL', async () => {
    tunnels.length = 0;
    // Characters that must be percent-encoded in a URL's user info, decoded before they are sent.
    const user = 'ci@corp';
    const password = `p:${randomBytes(6).toString('hex')}`;
    const proxyUrl = new URL(`http://127.0.0.1:${proxyPort}`);
    proxyUrl.username = encodeURIComponent(user);
    proxyUrl.password = encodeURIComponent(password);
    expect(proxyUrl.password).toContain('%3A');
    const send = createHttpSend({ HTTP_PROXY: proxyUrl.toString() });
    const response = await send({ url: new URL(`http://127.0.0.1:${targetPort}/via-proxy`) });
    expect(response.body).toBe('hello from /via-proxy');
    expect(tunnels).toEqual([
      `127.0.0.1:${targetPort} Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`,
    ]);
  });

  it('goes direct for a host NO_PROXY names', async () => {
    tunnels.length = 0;
    const send = createHttpSend({
      HTTP_PROXY: `127.0.0.1:${proxyPort}`,
      NO_PROXY: `127.0.0.1:${targetPort}`,
    });
    expect((await send({ url: new URL(`http://127.0.0.1:${targetPort}/direct`) })).body).toBe(
      'hello from /direct',
    );
    expect(tunnels).toEqual([]);
  });

  it('reports a proxy that refuses the tunnel', async () => {
    const refusing = createHttpServer();
    refusing.on('connect', (_req, client: Socket) => client.end('HTTP/1.1 403 Forbidden\r\n\r\n'));
    await new Promise<void>((resolve) => refusing.listen(0, '127.0.0.1', resolve));
    const port = (refusing.address() as { port: number }).port;
    const send = createHttpSend({ HTTP_PROXY: `http://127.0.0.1:${port}` });
    await expect(send({ url: new URL(`http://127.0.0.1:${targetPort}/`) })).rejects.toThrow(
      /refused to tunnel .*HTTP 403/,
    );
    await new Promise((resolve) => refusing.close(resolve));
  });

  it('starts TLS inside the tunnel for https targets', async () => {
    tunnels.length = 0;
    // The target speaks plain HTTP, so the TLS handshake that went through the tunnel must fail:
    // proof that the agent tunnelled first and then started TLS end to end.
    const send = createHttpSend({ HTTPS_PROXY: `http://127.0.0.1:${proxyPort}` });
    await expect(
      send({ url: new URL(`https://localhost:${targetPort}/`), timeoutMs: 5_000 }),
    ).rejects.toThrow();
    expect(tunnels).toEqual([`localhost:${targetPort}`]);
  });
});
