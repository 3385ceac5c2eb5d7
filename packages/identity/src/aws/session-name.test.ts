import { describe, expect, it } from 'vitest';
import { DEFAULT_ROLE_SESSION_NAME, sanitizeRoleSessionName } from './session-name.js';

describe('sanitizeRoleSessionName', () => {
  it('keeps a name STS accepts as it is', () => {
    expect(sanitizeRoleSessionName('GitHubActions')).toBe('GitHubActions');
    expect(sanitizeRoleSessionName('deploy+main=1,a.b@c-d_e')).toBe('deploy+main=1,a.b@c-d_e');
  });

  it('turns each run of characters STS refuses into one _', () => {
    expect(sanitizeRoleSessionName('deploy #42 (main)')).toBe('deploy_42_main_');
    expect(sanitizeRoleSessionName('octo-org/octo-repo:ref:refs/heads/main')).toBe(
      'octo-org_octo-repo_ref_refs_heads_main',
    );
    expect(sanitizeRoleSessionName('déploiement')).toBe('d_ploiement');
  });

  it('cuts the name at 64 characters', () => {
    const name = sanitizeRoleSessionName('a'.repeat(100));
    expect(name).toHaveLength(64);
    expect(sanitizeRoleSessionName(`${'x'.repeat(63)}/tail`)).toBe(`${'x'.repeat(63)}_`);
  });

  it('falls back to the default when fewer than 2 characters remain', () => {
    expect(sanitizeRoleSessionName('')).toBe(DEFAULT_ROLE_SESSION_NAME);
    expect(sanitizeRoleSessionName('   ')).toBe(DEFAULT_ROLE_SESSION_NAME);
    expect(sanitizeRoleSessionName('a')).toBe(DEFAULT_ROLE_SESSION_NAME);
    expect(sanitizeRoleSessionName('ab')).toBe('ab');
  });

  it('always returns a name matching STS rules', () => {
    for (const input of ['', '!', 'a b', '日本語の名前', '\n\t', 'x'.repeat(65), '::::']) {
      expect(sanitizeRoleSessionName(input)).toMatch(/^[\w+=,.@-]{2,64}$/);
    }
  });
});
