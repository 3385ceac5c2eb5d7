import * as http from 'node:http';
import * as https from 'node:https';
import * as net from 'node:net';
import type { Duplex } from 'node:stream';
import * as tls from 'node:tls';

// Shared by identity (STS, the ID token, Vault login) and stores (Secrets Manager, Vault KV):
// both reach the network through the same proxy rules, so the code lives once, here.

type Env = Readonly<Record<string, string | undefined>>;

/** The proxy variables of the environment, read the way curl and most SDKs read them. */
export interface ProxySettings {
  httpProxy?: string;
  httpsProxy?: string;
  noProxy: string[];
}

function firstSet(env: Env, ...names: string[]): string | undefined {
  for (const name of names) {
    const value = env[name]?.trim();
    if (value) return value;
  }
  return undefined;
}

/** Reads HTTPS_PROXY / HTTP_PROXY / NO_PROXY (either case; the lower-case name wins, as in curl). */
export function proxySettingsFromEnv(env: Env): ProxySettings {
  const settings: ProxySettings = {
    noProxy: (firstSet(env, 'no_proxy', 'NO_PROXY') ?? '')
      .split(/[\s,]+/)
      .map((entry) => entry.trim().toLowerCase())
      .filter((entry) => entry.length > 0),
  };
  const httpProxy = firstSet(env, 'http_proxy', 'HTTP_PROXY');
  const httpsProxy = firstSet(env, 'https_proxy', 'HTTPS_PROXY');
  if (httpProxy !== undefined) settings.httpProxy = httpProxy;
  if (httpsProxy !== undefined) settings.httpsProxy = httpsProxy;
  return settings;
}

function stripBrackets(host: string): string {
  return host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
}

/** True when NO_PROXY says to reach host:port directly: `*`, an exact host, a domain suffix, with an optional port. */
export function bypassesProxy(host: string, port: number, noProxy: readonly string[]): boolean {
  const target = stripBrackets(host.toLowerCase()).replace(/\.$/, '');
  for (const raw of noProxy) {
    if (raw === '*') return true;
    let entry = raw;
    let entryPort: number | undefined;
    const portMatch = /^(.*[^:]):(\d+)$/.exec(entry);
    // An IPv6 literal without brackets is all colons; only split a port off bracketed or non-IPv6 entries.
    if (portMatch?.[1] !== undefined && (entry.startsWith('[') || !portMatch[1].includes(':'))) {
      entry = portMatch[1];
      entryPort = Number(portMatch[2]);
    }
    if (entryPort !== undefined && entryPort !== port) continue;
    entry = stripBrackets(entry).replace(/^\*?\./, '');
    if (entry === '') continue;
    if (target === entry || target.endsWith(`.${entry}`)) return true;
  }
  return false;
}

const MAX_PROXY_HEADER_BYTES = 16 * 1024;
const PROXY_CONNECT_TIMEOUT_MS = 15_000;

/** Opens a CONNECT tunnel through the proxy to host:port and resolves with the raw socket. */
export function openTunnel(proxy: URL, host: string, port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const secureProxy = proxy.protocol === 'https:';
    const proxyPort = Number(proxy.port) || (secureProxy ? 443 : 80);
    const proxyHost = stripBrackets(proxy.hostname);
    const socket = secureProxy
      ? tls.connect({
          host: proxyHost,
          port: proxyPort,
          ...(net.isIP(proxyHost) === 0 ? { servername: proxyHost } : {}),
        })
      : net.connect({ host: proxyHost, port: proxyPort });
    const target = `${net.isIPv6(host) ? `[${host}]` : host}:${port}`;
    const fail = (error: Error): void => {
      socket.destroy();
      reject(error);
    };
    let received = Buffer.alloc(0);
    const onData = (chunk: Buffer): void => {
      received = Buffer.concat([received, chunk]);
      const end = received.indexOf('\r\n\r\n');
      if (end === -1) {
        if (received.length > MAX_PROXY_HEADER_BYTES)
          fail(new Error(`proxy ${proxy.host} sent an oversized answer`));
        return;
      }
      socket.off('data', onData);
      socket.off('error', fail);
      socket.setTimeout(0);
      const status = /^HTTP\/1\.[01] (\d{3})/.exec(received.subarray(0, end).toString('latin1'))?.[1];
      if (status !== '200') {
        fail(
          new Error(`proxy ${proxy.host} refused to tunnel to ${target}: HTTP ${status ?? '(no status)'}`),
        );
        return;
      }
      // Bytes after the proxy's answer already belong to the tunnelled connection.
      if (received.length > end + 4) socket.unshift(received.subarray(end + 4));
      resolve(socket);
    };
    socket.once(secureProxy ? 'secureConnect' : 'connect', () => {
      const credentials =
        proxy.username === ''
          ? ''
          : `Proxy-Authorization: Basic ${Buffer.from(
              `${decodeURIComponent(proxy.username)}:${decodeURIComponent(proxy.password)}`,
            ).toString('base64')}\r\n`;
      socket.write(`CONNECT ${target} HTTP/1.1\r\nHost: ${target}\r\n${credentials}\r\n`);
    });
    socket.on('data', onData);
    socket.on('error', fail);
    socket.setTimeout(PROXY_CONNECT_TIMEOUT_MS, () =>
      fail(new Error(`proxy ${proxy.host} did not answer in time`)),
    );
  });
}

type Callback = (error: Error | null, stream: Duplex) => void;

function targetOf(options: http.ClientRequestArgs, defaultPort: number): { host: string; port: number } {
  const host = stripBrackets(options.hostname ?? options.host ?? 'localhost');
  return { host, port: Number(options.port) || defaultPort };
}

/** Tunnels plain-HTTP requests through the proxy with CONNECT (as curl does for https), or goes direct for NO_PROXY hosts. */
class TunnellingHttpAgent extends http.Agent {
  constructor(
    private readonly proxy: URL,
    private readonly noProxy: readonly string[],
    options: http.AgentOptions,
  ) {
    super(options);
  }

  override createConnection(options: http.ClientRequestArgs, callback?: Callback): Duplex | null | undefined {
    const { host, port } = targetOf(options, 80);
    if (bypassesProxy(host, port, this.noProxy)) return net.connect({ host, port });
    openTunnel(this.proxy, host, port).then(
      (socket) => callback?.(null, socket),
      (error: Error) => callback?.(error, undefined as unknown as Duplex),
    );
    return undefined;
  }
}

/** Tunnels HTTPS requests through the proxy with CONNECT and starts TLS inside the tunnel; direct for NO_PROXY hosts. */
class TunnellingHttpsAgent extends https.Agent {
  constructor(
    private readonly proxy: URL,
    private readonly noProxy: readonly string[],
    options: https.AgentOptions,
  ) {
    super(options);
  }

  override createConnection(options: https.RequestOptions, callback?: Callback): Duplex | null | undefined {
    const { host, port } = targetOf(options, 443);
    const servername = options.servername ?? (net.isIP(host) === 0 ? host : undefined);
    const tlsOptions: tls.ConnectionOptions = { ...(options as tls.ConnectionOptions), host, port };
    if (servername !== undefined) tlsOptions.servername = servername;
    if (bypassesProxy(host, port, this.noProxy)) return tls.connect(tlsOptions);
    openTunnel(this.proxy, host, port).then(
      (socket) => callback?.(null, tls.connect({ ...tlsOptions, socket })),
      (error: Error) => callback?.(error, undefined as unknown as Duplex),
    );
    return undefined;
  }
}

/** Agents for http: and https: targets that honour the proxy variables, or none when no proxy is set. */
export interface ProxyAgents {
  httpAgent?: http.Agent;
  httpsAgent?: https.Agent;
}

function proxyUrl(value: string): URL {
  // `HTTPS_PROXY=proxy:3128` without a scheme is common; curl reads it as http://.
  return new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(value) ? value : `http://${value}`);
}

/**
 * Builds proxy agents from the environment; a target scheme without a proxy variable gets no agent
 * (direct). Keep-alive agents hold sockets open: whoever asks for them destroys them when done.
 */
export function proxyAgentsFromEnv(env: Env, options: { keepAlive?: boolean } = {}): ProxyAgents {
  const settings = proxySettingsFromEnv(env);
  const agentOptions = { keepAlive: options.keepAlive ?? false };
  const agents: ProxyAgents = {};
  if (settings.httpProxy !== undefined) {
    agents.httpAgent = new TunnellingHttpAgent(proxyUrl(settings.httpProxy), settings.noProxy, agentOptions);
  }
  if (settings.httpsProxy !== undefined) {
    agents.httpsAgent = new TunnellingHttpsAgent(
      proxyUrl(settings.httpsProxy),
      settings.noProxy,
      agentOptions,
    );
  }
  return agents;
}
