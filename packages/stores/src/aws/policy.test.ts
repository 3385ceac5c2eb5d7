import { describe, expect, it } from 'vitest';
import { MAX_SESSION_POLICY_LENGTH, secretsReadSessionPolicy } from './policy.js';
import { parseSecretIds } from './secret-ids.js';

const scope = { partition: 'aws', accountId: '123456789012', region: 'eu-west-1' };
const base = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:';

/** IAM's ARN matching: `*` any run of characters, `?` exactly one. */
function allows(pattern: string, arn: string): boolean {
  const regex = pattern
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replaceAll('*', '.*')
    .replaceAll('?', '.');
  return new RegExp(`^${regex}$`).test(arn);
}

function statements(document: string) {
  return (
    JSON.parse(document) as {
      Statement: Array<{
        Sid: string;
        Action: string | string[];
        Resource: string | string[];
        Condition?: unknown;
      }>;
    }
  ).Statement;
}

describe('secretsReadSessionPolicy', () => {
  it('allows GetSecretValue on exactly the named secrets, their ARNs and prefixes', () => {
    const full = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:other/token-AbCdEf';
    const partial = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:legacy/key';
    const policy = secretsReadSessionPolicy(parseSecretIds(['prod/db', `TOKEN,${full}`, partial]), scope);
    expect(policy.widened).toBe(false);
    expect(policy.resources).toEqual([`${base}prod/db-??????`, full, `${full}-??????`, `${partial}-??????`]);
    const [read, batch, kms] = statements(policy.document);
    expect(read).toEqual({
      Sid: 'ReadRequestedSecrets',
      Effect: 'Allow',
      Action: 'secretsmanager:GetSecretValue',
      Resource: policy.resources,
    });
    expect(batch).toMatchObject({ Action: 'secretsmanager:BatchGetSecretValue', Resource: '*' });
    expect(kms).toMatchObject({
      Action: 'kms:Decrypt',
      Resource: '*',
      Condition: { StringLike: { 'kms:ViaService': 'secretsmanager.*' } },
    });
  });

  it('matches the real ARNs of the requested secrets and nothing else', () => {
    const { resources } = secretsReadSessionPolicy(parseSecretIds(['prod/db', 'prod/app/*']), scope);
    const allowed = (arn: string) => resources.some((pattern) => allows(pattern, arn));
    expect(allowed(`${base}prod/db-Xy12Zw`)).toBe(true);
    expect(allowed(`${base}prod/app/api-key-Xy12Zw`)).toBe(true);
    expect(allowed(`${base}prod/db-admin-Xy12Zw`)).toBe(false);
    expect(allowed(`${base}prod/dbx-Xy12Zw`)).toBe(false);
    expect(allowed(`${base}staging/db-Xy12Zw`)).toBe(false);
    expect(allowed(`${base.replace('eu-west-1', 'us-east-1')}prod/db-Xy12Zw`)).toBe(false);
  });

  it('allows ListSecrets only when a prefix is requested', () => {
    expect(statements(secretsReadSessionPolicy(parseSecretIds(['a/b']), scope).document)[1]?.Action).toBe(
      'secretsmanager:BatchGetSecretValue',
    );
    expect(
      statements(secretsReadSessionPolicy(parseSecretIds(['app/*']), scope).document)[1]?.Action,
    ).toEqual(['secretsmanager:BatchGetSecretValue', 'secretsmanager:ListSecrets']);
  });

  it('uses the partition of the role and wildcards what it does not know', () => {
    const policy = secretsReadSessionPolicy(parseSecretIds(['x']), { partition: 'aws-cn' });
    expect(policy.resources).toEqual(['arn:aws-cn:secretsmanager:*:*:secret:x-??????']);
  });

  it('widens the most similar patterns into common prefixes until the policy fits 2048 characters', () => {
    const names = [
      ...Array.from({ length: 45 }, (_, index) => `ci/batch/s${String(index).padStart(2, '0')}`),
      ...Array.from({ length: 10 }, (_, index) => `team-b/service-${index}/password`),
      'standalone/secret',
    ];
    const policy = secretsReadSessionPolicy(parseSecretIds(names), scope);
    expect(policy.widened).toBe(true);
    expect(policy.document.length).toBeLessThanOrEqual(MAX_SESSION_POLICY_LENGTH);
    for (const name of names) {
      expect(policy.resources.some((pattern) => allows(pattern, `${base}${name}-Ab12Cd`))).toBe(true);
    }
    // Widening merges similar names first: unrelated secrets stay out.
    expect(policy.resources.some((pattern) => allows(pattern, `${base}prod/db-Ab12Cd`))).toBe(false);
    expect(policy.resources).toContain(`${base}standalone/secret-??????`);
  });

  it('keeps every requested secret readable however small the limit', () => {
    const names = Array.from({ length: 30 }, (_, index) => `group${index % 3}/name-${index}`);
    const policy = secretsReadSessionPolicy(parseSecretIds(names), scope, 700);
    expect(policy.document.length).toBeLessThanOrEqual(700);
    for (const name of names)
      expect(policy.resources.some((pattern) => allows(pattern, `${base}${name}-Ab12Cd`))).toBe(true);
  });
});
