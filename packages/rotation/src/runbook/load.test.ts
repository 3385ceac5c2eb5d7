import { isKeyfenceError } from '@keyfence/core';
import { describe, expect, it } from 'vitest';
import { selectRunbooks } from '../run.js';
import { checkRunbooks, formatRunbookIssue, loadRunbooks } from './load.js';

const SMALLEST = `runbooks:
  - name: orders-db
    store: { type: aws-secrets-manager, secret-id: prod/orders/db }
    upstream: { type: postgres, strategy: single-user, admin-secret-id: prod/orders/db-admin }
`;

function errorsOf(text: string): string[] {
  return checkRunbooks(text, 'runbooks.yaml')
    .issues.filter((issue) => issue.severity === 'error')
    .map(formatRunbookIssue);
}

describe('runbook validation', () => {
  it('accepts the smallest runbook from the issue as written, with safe defaults', () => {
    const { runbooks, issues } = checkRunbooks(SMALLEST, 'runbooks.yaml');
    expect(issues).toEqual([]);
    expect(runbooks).toHaveLength(1);
    const [runbook] = runbooks;
    expect(runbook?.store).toEqual({ type: 'aws-secrets-manager', secretId: 'prod/orders/db' });
    expect(runbook?.upstream).toMatchObject({
      type: 'postgres',
      strategy: 'single-user',
      adminSecretId: 'prod/orders/db-admin',
      tls: 'require',
    });
    expect(runbook?.gracePeriodMs).toBe(86_400_000);
    expect(runbook?.lockTtlMs).toBe(900_000);
    expect(runbook?.source).toEqual({ file: 'runbooks.yaml', line: 2 });
  });

  it('names the file, line, column and field of a typo, and suggests the right word', () => {
    const errors = errorsOf(SMALLEST.replace('strategy: single-user', 'strategy: single-usr'));
    expect(errors).toEqual([
      'runbooks.yaml:4:43: runbooks[0].upstream.strategy: must be one of single-user, alternating-users (got "single-usr") (did you mean "single-user"?)',
    ]);
  });

  it('reports an unknown field at its key, with the closest allowed one', () => {
    const errors = errorsOf(`${SMALLEST}    revocation:\n      grace-perod: 1h\n`);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(
      /^runbooks\.yaml:6:7: runbooks\[0\]\.revocation\.grace-perod: unknown field "grace-perod" \(did you mean "grace-period"\?\)/,
    );
  });

  it('reports every problem at once', () => {
    const errors = errorsOf(`runbooks:
  - name: a
    store: { type: aws-secret-manager }
    upstream: { type: postgres }
    lock-ttl: soon
  - name: a
    store: { type: vault-kv2, path: secret/data/x }
    upstream: { type: command, strategy: single-user, test: ./t.sh }
`);
    const joined = errors.join('\n');
    expect(joined).toContain(
      'runbooks[0].store.type: must be one of aws-secrets-manager, vault-kv2 (got "aws-secret-manager") (did you mean "aws-secrets-manager"?)',
    );
    expect(joined).toContain('runbooks[0].upstream.strategy: is required');
    expect(joined).toContain('runbooks[0].lock-ttl: must be a duration');
    expect(joined).toContain('runbooks[1].name: "a" is already the name of runbooks[0]');
    expect(joined).toContain('runbooks[1].store.path: is the path inside the mount');
    expect(joined).toContain('runbooks[1].upstream.create: is required');
    expect(joined).toContain('runbooks[1].upstream.set: is required');
    expect(errors.length).toBeGreaterThanOrEqual(7);
  });

  it('reports a YAML syntax error with its line', () => {
    const errors = errorsOf('runbooks:\n  - name: a\n    store: { type: aws\n');
    expect(errors[0]).toMatch(/^runbooks\.yaml:\d+:\d+: \(yaml\): /);
  });

  it('needs a non-empty runbooks list', () => {
    expect(errorsOf('runbook: []\n')).toEqual([
      'runbooks.yaml:1:1: runbook: unknown field "runbook" (did you mean "runbooks"?); allowed: version, runbooks',
      'runbooks.yaml:1:1: runbooks: must be a non-empty list of runbooks',
    ]);
  });

  it('parses the optional fields', () => {
    const { runbooks, issues } = checkRunbooks(
      `runbooks:
  - name: kv
    store: { type: vault-kv2, mount: kv, path: prod/db, address: "http://127.0.0.1:8200" }
    upstream: { type: postgres, strategy: alternating-users, admin-secret-id: prod/db-admin, tls: disable }
    validation: { wait: 5s, attempts: 3, interval: 500ms, probe: "INSERT INTO probe DEFAULT VALUES" }
    revocation: { grace-period: 2h }
    rotate-every: 30d
    notify: { webhook: "https://hooks.example.com/x" }
`,
      'r.yaml',
    );
    expect(issues).toEqual([]);
    expect(runbooks[0]).toMatchObject({
      store: { type: 'vault-kv2', mount: 'kv', path: 'prod/db', address: 'http://127.0.0.1:8200' },
      validation: { waitMs: 5_000, attempts: 3, intervalMs: 500, probe: 'INSERT INTO probe DEFAULT VALUES' },
      gracePeriodMs: 7_200_000,
      rotateEveryMs: 30 * 86_400_000,
      notify: { webhook: 'https://hooks.example.com/x' },
    });
  });

  it('throws a user error listing every error when loading a bad file', () => {
    try {
      loadRunbooks('bad.yaml', () =>
        SMALLEST.replace('secret-id: prod/orders/db', 'secret-idd: prod/orders/db'),
      );
      expect.unreachable();
    } catch (error) {
      expect(isKeyfenceError(error) && error.code).toBe('RUNBOOK_INVALID');
      expect((error as Error).message).toContain('bad.yaml:3:');
      expect((error as Error).message).toContain('runbooks[0].store.secret-id: is required');
    }
  });
});

describe('selectRunbooks', () => {
  const { runbooks } = checkRunbooks(
    `${SMALLEST}  - name: billing-db\n    store: { type: aws-secrets-manager, secret-id: b }\n    upstream: { type: postgres, strategy: single-user }\n`,
    'r.yaml',
  );

  it('selects by name or glob', () => {
    expect(selectRunbooks(runbooks, ['*-db']).map((r) => r.name)).toEqual(['orders-db', 'billing-db']);
    expect(selectRunbooks(runbooks, ['billing-db']).map((r) => r.name)).toEqual(['billing-db']);
    expect(selectRunbooks(runbooks, undefined)).toHaveLength(2);
  });

  it('refuses a pattern that matches nothing', () => {
    expect(() => selectRunbooks(runbooks, ['orders-dv'])).toThrow(/matches no runbook/);
  });
});
