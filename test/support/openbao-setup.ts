import type { OpenBaoServer } from '../services/openbao.js';
import type { OidcIssuer } from './oidc.js';

/** The audience the test roles accept. */
export const VAULT_AUDIENCE = 'keyfence-test';
export const REPOSITORY = 'octo-org/octo-repo';

/**
 * Configures JWT auth at auth/jwt against the local issuer's discovery document (so OpenBao fetches its
 * JWKS and really verifies tokens), a KV v1 engine at kv1/, a read policy for secret/data/ci/* and
 * kv1/ci/*, and two roles: `ci` (this repository's main branch) and `prod-deploy` (production only).
 */
export async function configureOpenBao(bao: OpenBaoServer, issuer: OidcIssuer): Promise<void> {
  await bao.api('POST', 'sys/auth/jwt', { type: 'jwt' });
  await bao.api('POST', 'auth/jwt/config', {
    oidc_discovery_url: issuer.issuer,
    bound_issuer: issuer.issuer,
  });
  await bao.api('POST', 'sys/mounts/kv1', { type: 'kv', options: { version: '1' } });
  await bao.api('POST', 'sys/policies/acl/ci-read', {
    policy:
      'path "secret/data/ci/*" { capabilities = ["read"] }\npath "kv1/ci/*" { capabilities = ["read"] }',
  });
  const role = {
    role_type: 'jwt',
    user_claim: 'sub',
    bound_audiences: [VAULT_AUDIENCE],
    token_policies: ['ci-read'],
    token_ttl: 300,
  };
  await bao.api('POST', 'auth/jwt/role/ci', {
    ...role,
    bound_subject: `repo:${REPOSITORY}:ref:refs/heads/main`,
    bound_claims: { repository: REPOSITORY },
  });
  await bao.api('POST', 'auth/jwt/role/prod-deploy', {
    ...role,
    bound_subject: `repo:${REPOSITORY}:environment:production`,
  });
}

/** Writes a KV v2 secret under secret/ (path without data/). */
export async function writeKv2(
  bao: OpenBaoServer,
  path: string,
  data: Record<string, unknown>,
): Promise<void> {
  await bao.api('POST', `secret/data/${path}`, { data });
}

/** Writes a KV v1 secret under kv1/. */
export async function writeKv1(
  bao: OpenBaoServer,
  path: string,
  data: Record<string, unknown>,
): Promise<void> {
  await bao.api('POST', `kv1/${path}`, data);
}
