import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { exportJWK, generateKeyPair, type JWK, SignJWT } from 'jose';

/** GitHub's claim set for one job, overridable per issuer or per token. */
export interface GitHubClaims {
  sub: string;
  repository: string;
  repository_owner: string;
  repository_id: string;
  ref: string;
  ref_type: string;
  sha: string;
  workflow: string;
  workflow_ref: string;
  job_workflow_ref: string;
  event_name: string;
  actor: string;
  run_id: string;
  run_number: string;
  run_attempt: string;
  runner_environment: string;
  environment?: string;
  [claim: string]: unknown;
}

/** A local stand-in for token.actions.githubusercontent.com plus the runner's ID-token endpoint. */
export interface OidcIssuer {
  /** The issuer URL (`iss`), serving /.well-known/openid-configuration and /.well-known/jwks. */
  issuer: string;
  jwksUrl: string;
  /** ACTIONS_ID_TOKEN_REQUEST_URL: already has a query string, as the runner's has. */
  requestUrl: string;
  /** ACTIONS_ID_TOKEN_REQUEST_TOKEN, checked as a bearer token. */
  requestToken: string;
  /** Every token request the endpoint answered: the audience asked for and the HTTP status given. */
  requests: Array<{ audience: string | null; status: number }>;
  /** Signs a token with the issuer's key; the audience and any claim can be overridden. */
  mint(audience: string, overrides?: Partial<GitHubClaims>): Promise<string>;
  /** The env vars a step with `permissions: id-token: write` gets. */
  env(): Record<string, string>;
  stop(): Promise<void>;
}

const OWNER = 'octo-org';
const REPO = `${OWNER}/octo-repo`;

/** The claims GitHub puts in a token for a push to main of octo-org/octo-repo. */
export function defaultClaims(): GitHubClaims {
  const sha = randomBytes(20).toString('hex');
  return {
    sub: `repo:${REPO}:ref:refs/heads/main`,
    repository: REPO,
    repository_owner: OWNER,
    repository_id: '123456789',
    ref: 'refs/heads/main',
    ref_type: 'branch',
    sha,
    workflow: 'deploy',
    workflow_ref: `${REPO}/.github/workflows/deploy.yml@refs/heads/main`,
    job_workflow_ref: `${REPO}/.github/workflows/deploy.yml@refs/heads/main`,
    event_name: 'push',
    actor: 'octocat',
    run_id: String(Date.now()),
    run_number: '42',
    run_attempt: '1',
    runner_environment: 'github-hosted',
  };
}

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

/** Starts the issuer on a free 127.0.0.1 port; `claims` override the defaults for every token. */
export async function startOidcIssuer(claims: Partial<GitHubClaims> = {}): Promise<OidcIssuer> {
  const { privateKey, publicKey } = await generateKeyPair('RS256');
  const kid = randomUUID();
  const jwk: JWK = { ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' };
  const requestToken = randomBytes(24).toString('hex');
  const requests: OidcIssuer['requests'] = [];
  let issuer = '';

  const mint = async (audience: string, overrides: Partial<GitHubClaims> = {}): Promise<string> => {
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT({ ...defaultClaims(), ...claims, ...overrides })
      .setProtectedHeader({ alg: 'RS256', kid, typ: 'JWT' })
      .setIssuer(issuer)
      .setAudience(audience)
      .setIssuedAt(now)
      .setNotBefore(now - 5)
      .setExpirationTime(now + 300)
      .setJti(randomUUID())
      .sign(privateKey);
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', issuer);
    if (url.pathname === '/.well-known/openid-configuration') {
      send(res, 200, {
        issuer,
        jwks_uri: `${issuer}/.well-known/jwks`,
        subject_types_supported: ['public', 'pairwise'],
        response_types_supported: ['id_token'],
        claims_supported: [
          'sub',
          'aud',
          'exp',
          'iat',
          'iss',
          'jti',
          'nbf',
          'ref',
          'repository',
          'job_workflow_ref',
        ],
        id_token_signing_alg_values_supported: ['RS256'],
        scopes_supported: ['openid'],
      });
      return;
    }
    if (url.pathname === '/.well-known/jwks') {
      send(res, 200, { keys: [jwk] });
      return;
    }
    if (url.pathname === '/_apis/idtoken') {
      const audience = url.searchParams.get('audience');
      if (req.headers.authorization !== `Bearer ${requestToken}`) {
        requests.push({ audience, status: 401 });
        send(res, 401, { message: 'bad bearer token' });
        return;
      }
      requests.push({ audience, status: 200 });
      // GitHub's default audience is the URL of the repository owner.
      send(res, 200, { value: await mint(audience ?? `https://github.com/${OWNER}`) });
      return;
    }
    send(res, 404, { message: 'not found' });
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => send(res, 500, { message: String(error) }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  issuer = `http://127.0.0.1:${port}`;
  const requestUrl = `${issuer}/_apis/idtoken?api-version=2.0`;
  return {
    issuer,
    jwksUrl: `${issuer}/.well-known/jwks`,
    requestUrl,
    requestToken,
    requests,
    mint,
    env: () => ({ ACTIONS_ID_TOKEN_REQUEST_URL: requestUrl, ACTIONS_ID_TOKEN_REQUEST_TOKEN: requestToken }),
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
