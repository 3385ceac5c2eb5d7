// The token service for the token-auth registry in the image tests, run as its own process so a
// test can call the CLI synchronously while the registry sends it here for a token.
// Settings come from the environment: TOKEN_KEY (PEM, EC P-256), TOKEN_CERT (PEM), TOKEN_ISSUER,
// TOKEN_USER, TOKEN_PASSWORD. Prints `listening PORT` once up. GET /stats tells what it answered.
import { createPrivateKey, randomBytes, sign, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';

const env = process.env;
const key = createPrivateKey(readFileSync(env.TOKEN_KEY));
const certDer = new X509Certificate(readFileSync(env.TOKEN_CERT)).raw.toString('base64');
const expected = `Basic ${Buffer.from(`${env.TOKEN_USER}:${env.TOKEN_PASSWORD}`).toString('base64')}`;
const stats = { granted: 0, refused: 0 };

function signJwt(header, claims) {
  const enc = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const input = `${enc(header)}.${enc(claims)}`;
  // JOSE wants the raw r||s form of an ECDSA signature, not DER.
  const signature = sign('sha256', Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' });
  return `${input}.${signature.toString('base64url')}`;
}

const server = createServer((req, res) => {
  const url = new URL(req.url ?? '/', 'http://token');
  if (url.pathname === '/stats') {
    res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify(stats));
    return;
  }
  if (url.pathname !== '/token' || req.headers.authorization !== expected) {
    stats.refused++;
    res.writeHead(401, { 'Content-Type': 'application/json' }).end('{"errors":[{"code":"UNAUTHORIZED"}]}');
    return;
  }
  stats.granted++;
  // Grant what each requested scope asks: `repository:NAME:pull,push`.
  const access = url.searchParams.getAll('scope').flatMap((s) => {
    const m = /^repository:([^:]+):(.+)$/.exec(s);
    return m ? [{ type: 'repository', name: m[1], actions: m[2].split(',') }] : [];
  });
  const now = Math.floor(Date.now() / 1000);
  // x5c carries the signing cert; the registry trusts it because it is in its rootcertbundle.
  const jwt = signJwt(
    { alg: 'ES256', typ: 'JWT', x5c: [certDer] },
    {
      iss: env.TOKEN_ISSUER,
      sub: env.TOKEN_USER,
      aud: url.searchParams.get('service'),
      exp: now + 300,
      nbf: now - 10,
      iat: now,
      jti: randomBytes(8).toString('hex'),
      access,
    },
  );
  res
    .writeHead(200, { 'Content-Type': 'application/json' })
    .end(
      JSON.stringify({ token: jwt, access_token: jwt, expires_in: 300, issued_at: new Date().toISOString() }),
    );
});

server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`listening ${server.address().port}\n`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
