import * as http from 'node:http';
import * as https from 'node:https';
import { proxyAgentsFromEnv } from './proxy.js';

type Env = Readonly<Record<string, string | undefined>>;

/** One HTTP request; the body is sent as is. */
export interface HttpRequest {
  url: URL;
  method?: 'GET' | 'POST' | 'PUT' | 'DELETE';
  headers?: Record<string, string>;
  body?: string;
  timeoutMs?: number;
}

/** The response status, headers and body text. */
export interface HttpResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** Sends one request; injectable so tests can stand in for the network. */
export type HttpSend = (request: HttpRequest) => Promise<HttpResponse>;

/** No HTTP response at all: refused, reset, timed out, DNS. Always worth a retry. */
export class HttpTransportError extends Error {
  override name = 'HttpTransportError';
  readonly code: string | undefined;

  constructor(message: string, code: string | undefined, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
  }
}

const DEFAULT_TIMEOUT_MS = 30_000;
// A JSON API answer is small; a response this large is a misrouted request, not data.
const MAX_RESPONSE_BYTES = 16 * 1024 * 1024;

/** An HttpSend over node:http(s) that honours HTTPS_PROXY / HTTP_PROXY / NO_PROXY from env. */
export function createHttpSend(env: Env): HttpSend {
  const agents = proxyAgentsFromEnv(env);
  return (request) =>
    new Promise<HttpResponse>((resolve, reject) => {
      const secure = request.url.protocol === 'https:';
      const agent = secure ? agents.httpsAgent : agents.httpAgent;
      const options: http.RequestOptions = {
        method: request.method ?? 'GET',
        headers: {
          ...(request.body === undefined
            ? {}
            : { 'content-length': String(Buffer.byteLength(request.body)) }),
          ...request.headers,
        },
        timeout: request.timeoutMs ?? DEFAULT_TIMEOUT_MS,
      };
      if (agent !== undefined) options.agent = agent;
      const req = (secure ? https : http).request(request.url, options, (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > MAX_RESPONSE_BYTES) {
            req.destroy(
              new HttpTransportError(`response from ${request.url.host} is too large`, 'ETOOLARGE'),
            );
            return;
          }
          chunks.push(chunk);
        });
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString('utf8'),
          }),
        );
        res.on('error', (error) => reject(transportError(request.url, error)));
      });
      req.on('timeout', () =>
        req.destroy(new HttpTransportError(`timed out talking to ${request.url.host}`, 'ETIMEDOUT')),
      );
      req.on('error', (error) => reject(transportError(request.url, error)));
      req.end(request.body);
    });
}

function transportError(url: URL, error: Error): HttpTransportError {
  if (error instanceof HttpTransportError) return error;
  const code = (error as NodeJS.ErrnoException).code;
  // The message names the host only: a URL's query could carry a token one day.
  return new HttpTransportError(`could not reach ${url.host}: ${code ?? error.message}`, code, {
    cause: error,
  });
}

/** Parses a JSON body, or returns undefined when it is not JSON. */
export function parseJsonBody(response: HttpResponse): unknown {
  try {
    return JSON.parse(response.body) as unknown;
  } catch {
    return undefined;
  }
}
