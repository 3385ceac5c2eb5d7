import {
  BatchGetSecretValueCommand,
  GetSecretValueCommand,
  ListSecretsCommand,
  ResourceNotFoundException,
  SecretsManagerServiceException,
} from '@aws-sdk/client-secrets-manager';
import { KeyfenceError, type SecretValue } from '@keyfence/core';
import { describe, expect, it } from 'vitest';
import type { SecretsManagerClientLike } from './client.js';
import { BATCH_GET_LIMIT, chunk, fetchSecretsManagerSecrets } from './fetch.js';
import { parseSecretIds } from './secret-ids.js';

interface StoredSecret {
  name: string;
  arn: string;
  value?: string;
  binary?: Uint8Array;
}

const arnOf = (name: string, region = 'us-east-1') =>
  `arn:aws:secretsmanager:${region}:123456789012:secret:${name}-Ab12Cd`;

/** A fake Secrets Manager at the SDK-client level, enforcing AWS's limit of 20 ids per batch. */
function fakeSecretsManager(
  secrets: StoredSecret[],
  options: { denyBatch?: boolean; pageSize?: number } = {},
) {
  const calls: Array<{ name: string; input: Record<string, unknown> }> = [];
  const find = (id: string) =>
    secrets.find((secret) => secret.name === id || secret.arn === id || secret.arn.startsWith(`${id}-`));
  const entry = (secret: StoredSecret) => ({
    ARN: secret.arn,
    Name: secret.name,
    VersionId: `v-${secret.name}`,
    ...(secret.binary === undefined ? { SecretString: secret.value } : { SecretBinary: secret.binary }),
  });
  const client = {
    send: async (command: unknown) => {
      if (command instanceof ListSecretsCommand) {
        calls.push({ name: 'ListSecrets', input: { ...command.input } });
        const prefix = String(command.input.Filters?.[0]?.Values?.[0] ?? '');
        // Like the service's filter, looser than a prefix: case-insensitive.
        const matches = secrets.filter((secret) =>
          secret.name.toLowerCase().startsWith(prefix.toLowerCase()),
        );
        const size = options.pageSize ?? command.input.MaxResults ?? 100;
        const start = Number(command.input.NextToken ?? 0);
        const page = matches.slice(start, start + size);
        return {
          SecretList: page.map((secret) => ({ Name: secret.name, ARN: secret.arn })),
          ...(start + size < matches.length ? { NextToken: String(start + size) } : {}),
          $metadata: {},
        };
      }
      if (command instanceof BatchGetSecretValueCommand) {
        const ids = command.input.SecretIdList ?? [];
        calls.push({ name: 'BatchGetSecretValue', input: { ids: ids.length } });
        if (options.denyBatch) {
          throw new SecretsManagerServiceException({
            name: 'AccessDeniedException',
            message: 'no batch',
            $fault: 'client',
            $metadata: {},
          });
        }
        if (ids.length > BATCH_GET_LIMIT) throw new Error('AWS refuses more than 20 ids');
        const found = ids.map((id) => [id, find(id)] as const);
        return {
          SecretValues: found.flatMap(([, secret]) => (secret === undefined ? [] : [entry(secret)])),
          Errors: found
            .filter(([, secret]) => secret === undefined)
            .map(([id]) => ({
              SecretId: id,
              ErrorCode: 'ResourceNotFoundException',
              Message: "Secrets Manager can't find the specified secret.",
            })),
          $metadata: {},
        };
      }
      if (command instanceof GetSecretValueCommand) {
        const id = String(command.input.SecretId);
        calls.push({ name: 'GetSecretValue', input: { id } });
        const secret = find(id);
        if (secret === undefined)
          throw new ResourceNotFoundException({ message: "can't find the specified secret", $metadata: {} });
        return { ...entry(secret), $metadata: {} };
      }
      throw new Error('unexpected command');
    },
  };
  return { client: client as unknown as SecretsManagerClientLike, calls };
}

function reveal(secrets: Array<{ value: SecretValue }>): string[] {
  return secrets.map((secret) => secret.value.reveal());
}

describe('chunk', () => {
  it('splits into chunks of at most the size, keeping order', () => {
    expect(chunk([1, 2, 3, 4, 5], 2)).toEqual([[1, 2], [3, 4], [5]]);
    expect(chunk([], 20)).toEqual([]);
  });
});

describe('fetchSecretsManagerSecrets', () => {
  const names = Array.from({ length: 45 }, (_, index) => `app/s${index}`);
  const stored = names.map((name) => ({ name, arn: arnOf(name), value: `value-of-${name}` }));

  it('reads 45 secrets in three BatchGetSecretValue calls of at most 20, masking each value', async () => {
    const { client, calls } = fakeSecretsManager(stored);
    const masked: string[] = [];
    const fetched = await fetchSecretsManagerSecrets(parseSecretIds(names), {
      clientFor: () => client,
      region: 'us-east-1',
      onSecret: (secret) => masked.push(secret.reveal()),
    });
    expect(calls.map((call) => call.input['ids'])).toEqual([20, 20, 5]);
    expect(reveal(fetched)).toEqual(names.map((name) => `value-of-${name}`));
    expect(masked.sort()).toEqual(names.map((name) => `value-of-${name}`).sort());
    expect(fetched[0]).toMatchObject({
      name: 'app/s0',
      arn: arnOf('app/s0'),
      versionId: 'v-app/s0',
      region: 'us-east-1',
    });
  });

  it('expands a prefix across every ListSecrets page, keeping only true prefixes', async () => {
    const many = Array.from({ length: 250 }, (_, index) => ({
      name: `many/x${index}`,
      arn: arnOf(`many/x${index}`),
      value: `v${index}`,
    }));
    const { client, calls } = fakeSecretsManager([
      ...many,
      { name: 'MANY/upper', arn: arnOf('MANY/upper'), value: 'no' },
    ]);
    const fetched = await fetchSecretsManagerSecrets(parseSecretIds(['many/*']), {
      clientFor: () => client,
      region: 'us-east-1',
      onSecret: () => {},
    });
    expect(calls.filter((call) => call.name === 'ListSecrets')).toHaveLength(3);
    expect(calls.filter((call) => call.name === 'BatchGetSecretValue')).toHaveLength(13);
    expect(fetched).toHaveLength(250);
    expect(fetched.some((secret) => secret.name === 'MANY/upper')).toBe(false);
  });

  it('reports every missing secret and every empty prefix at once, returning nothing', async () => {
    const { client } = fakeSecretsManager(stored);
    const error = (await fetchSecretsManagerSecrets(
      parseSecretIds(['app/s1', 'app/missing', 'other/missing', 'nothing/*']),
      {
        clientFor: () => client,
        region: 'us-east-1',
        onSecret: () => {},
      },
    ).catch((thrown: unknown) => thrown)) as KeyfenceError;
    expect(error).toBeInstanceOf(KeyfenceError);
    expect(error.code).toBe('SECRET_NOT_FOUND');
    expect(error.message).toContain('app/missing: ResourceNotFoundException');
    expect(error.message).toContain('other/missing');
    expect(error.message).toContain('no secret name starts with "nothing/"');
    expect(error.message).not.toContain('app/s1:');
    expect(error.hint).toContain('region');
  });

  it('falls back to GetSecretValue when BatchGetSecretValue is denied, with one notice', async () => {
    const { client, calls } = fakeSecretsManager(stored, { denyBatch: true });
    const notices: string[] = [];
    const fetched = await fetchSecretsManagerSecrets(parseSecretIds(names), {
      clientFor: () => client,
      region: 'us-east-1',
      onSecret: () => {},
      onNotice: (message) => notices.push(message),
      concurrency: 1,
    });
    expect(fetched).toHaveLength(45);
    expect(calls.filter((call) => call.name === 'BatchGetSecretValue')).toHaveLength(1);
    expect(calls.filter((call) => call.name === 'GetSecretValue')).toHaveLength(45);
    expect(notices).toHaveLength(1);
    expect(notices[0]).toContain('secretsmanager:BatchGetSecretValue');
  });

  it('reads ARNs in their own region with a client for that region, and matches partial ARNs', async () => {
    const west = { name: 'west/db', arn: arnOf('west/db', 'us-west-2'), value: 'west-value' };
    const east = fakeSecretsManager(stored);
    const westClient = fakeSecretsManager([west]);
    const regions: string[] = [];
    const fetched = await fetchSecretsManagerSecrets(
      parseSecretIds(['app/s3', west.arn.replace(/-Ab12Cd$/, '')]),
      {
        clientFor: (region) => {
          regions.push(region);
          return region === 'us-west-2' ? westClient.client : east.client;
        },
        region: 'us-east-1',
        onSecret: () => {},
      },
    );
    expect(regions.sort()).toEqual(['us-east-1', 'us-west-2']);
    expect(reveal(fetched)).toEqual(['value-of-app/s3', 'west-value']);
    expect(fetched[1]?.name).toBe('west/db');
  });

  it('needs a region for names, but not for ARNs', async () => {
    const { client } = fakeSecretsManager(stored);
    await expect(
      fetchSecretsManagerSecrets(parseSecretIds(['app/s1']), { clientFor: () => client, onSecret: () => {} }),
    ).rejects.toThrow('No AWS region');
    const fetched = await fetchSecretsManagerSecrets(parseSecretIds([arnOf('app/s1')]), {
      clientFor: () => client,
      onSecret: () => {},
    });
    expect(reveal(fetched)).toEqual(['value-of-app/s1']);
  });

  it('decodes binary secrets as UTF-8, or base64 when they are not text', async () => {
    const { client } = fakeSecretsManager([
      { name: 'bin/text', arn: arnOf('bin/text'), binary: new TextEncoder().encode('hello binary') },
      { name: 'bin/raw', arn: arnOf('bin/raw'), binary: new Uint8Array([0xff, 0xfe, 0x00, 0x80]) },
    ]);
    const fetched = await fetchSecretsManagerSecrets(parseSecretIds(['bin/text', 'bin/raw']), {
      clientFor: () => client,
      region: 'us-east-1',
      onSecret: () => {},
    });
    expect(fetched.map((secret) => [secret.value.reveal(), secret.binary])).toEqual([
      ['hello binary', 'utf8'],
      ['//4AgA==', 'base64'],
    ]);
  });

  it('reads a secret asked for twice (two aliases) once, returning it for both requests', async () => {
    const { client, calls } = fakeSecretsManager(stored);
    const fetched = await fetchSecretsManagerSecrets(parseSecretIds(['A,app/s1', 'B,app/s1']), {
      clientFor: () => client,
      region: 'us-east-1',
      onSecret: () => {},
    });
    expect(calls).toEqual([{ name: 'BatchGetSecretValue', input: { ids: 1 } }]);
    expect(fetched.map((secret) => secret.request.alias)).toEqual(['A', 'B']);
  });
});
