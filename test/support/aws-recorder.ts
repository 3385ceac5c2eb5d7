import { createServer, request as httpRequest, type IncomingHttpHeaders, type Server } from 'node:http';

/** One AWS API call that went through the recorder. */
export interface RecordedCall {
  /** `sts`, `secretsmanager`, ... from the signing scope or the JSON target. */
  service: string;
  /** The operation, e.g. `AssumeRoleWithWebIdentity`, `BatchGetSecretValue`. */
  action: string;
  /** The decoded request: form fields for query-protocol calls, the JSON body for JSON-protocol calls. */
  params: Record<string, unknown>;
  /** Milliseconds since the recorder started. */
  at: number;
}

/** A canned failure for the next calls of one action. */
export interface InjectedFailure {
  action: string;
  times: number;
  status: number;
  /** A query-protocol (XML) error code, or a JSON-protocol `__type`. */
  code: string;
  message: string;
}

/** A reverse proxy in front of moto that records every call and can fail chosen ones, so tests see what the action sent. */
export interface AwsRecorder {
  endpoint: string;
  calls: RecordedCall[];
  startedAt: number;
  fail(failure: InjectedFailure): void;
  reset(): void;
  count(action: string): number;
  stop(): Promise<void>;
}

function decode(
  headers: IncomingHttpHeaders,
  body: string,
): { service: string; action: string; params: Record<string, unknown> } {
  const target = headers['x-amz-target'];
  const scope = /Credential=[^/]+\/[^/]+\/[^/]+\/([^/]+)\//.exec(String(headers.authorization ?? ''))?.[1];
  if (typeof target === 'string') {
    const [prefix = '', action = ''] = target.split('.');
    let params: Record<string, unknown> = {};
    try {
      params = JSON.parse(body) as Record<string, unknown>;
    } catch {
      // not JSON: leave params empty
    }
    return { service: scope ?? prefix.toLowerCase(), action, params };
  }
  const form = Object.fromEntries(new URLSearchParams(body));
  return {
    service: scope ?? (form['Version'] === '2011-06-15' ? 'sts' : 'unknown'),
    action: form['Action'] ?? '',
    params: form,
  };
}

function errorBody(
  failure: InjectedFailure,
  json: boolean,
): { headers: Record<string, string>; body: string } {
  if (json) {
    return {
      headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-errortype': failure.code },
      body: JSON.stringify({ __type: failure.code, message: failure.message }),
    };
  }
  return {
    headers: { 'content-type': 'text/xml' },
    body: `<ErrorResponse><Error><Type>Sender</Type><Code>${failure.code}</Code><Message>${failure.message}</Message></Error><RequestId>injected</RequestId></ErrorResponse>`,
  };
}

/** Starts the recorder on a free 127.0.0.1 port, forwarding to target (moto's endpoint). */
export async function startAwsRecorder(target: string): Promise<AwsRecorder> {
  const upstream = new URL(target);
  const calls: RecordedCall[] = [];
  let failures: InjectedFailure[] = [];
  let startedAt = Date.now();
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const decoded = decode(req.headers, body.toString('utf8'));
      calls.push({ ...decoded, at: Date.now() - startedAt });
      const failure = failures.find(
        (candidate) => candidate.action === decoded.action && candidate.times > 0,
      );
      if (failure !== undefined) {
        failure.times -= 1;
        const answer = errorBody(failure, typeof req.headers['x-amz-target'] === 'string');
        res.writeHead(failure.status, answer.headers);
        res.end(answer.body);
        return;
      }
      const forward = httpRequest(
        {
          host: upstream.hostname,
          port: upstream.port,
          method: req.method,
          path: req.url,
          headers: { ...req.headers, host: upstream.host },
        },
        (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
        },
      );
      forward.on('error', (error) => {
        res.writeHead(502);
        res.end(String(error));
      });
      forward.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    calls,
    get startedAt() {
      return startedAt;
    },
    fail: (failure) => {
      failures.push({ ...failure });
    },
    reset: () => {
      calls.length = 0;
      failures = [];
      startedAt = Date.now();
    },
    count: (action) => calls.filter((call) => call.action === action).length,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
