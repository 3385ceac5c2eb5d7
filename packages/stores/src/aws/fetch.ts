import {
  BatchGetSecretValueCommand,
  GetSecretValueCommand,
  ListSecretsCommand,
  type SecretValueEntry,
} from '@aws-sdk/client-secrets-manager';
import { KeyfenceError, SecretValue } from '@keyfence/core';
import { mapLimit } from '../concurrency.js';
import { type OnSecret, StoreErrorCode } from '../errors.js';
import type { SecretsManagerClientLike } from './client.js';
import type { SecretsManagerRequest } from './secret-ids.js';

/** AWS's limit on SecretIdList in one BatchGetSecretValue call. */
export const BATCH_GET_LIMIT = 20;
const LIST_PAGE_SIZE = 100;
const MAX_LIST_PAGES = 1_000;

export interface FetchSecretsOptions {
  /** A client for a region; called once per region that holds requested secrets. */
  clientFor: (region: string) => SecretsManagerClientLike;
  /** The region of secrets asked for by name or prefix; ARNs carry their own. */
  region?: string;
  onSecret: OnSecret;
  /** Told about fallbacks worth a line in the log (e.g. BatchGetSecretValue not allowed). */
  onNotice?: (message: string) => void;
  /** Requests in flight at once per phase. Default 4. */
  concurrency?: number;
}

/** One secret value as read, with the request that asked for it. */
export interface FetchedAwsSecret {
  request: SecretsManagerRequest;
  name: string;
  arn: string;
  region: string;
  versionId?: string;
  value: SecretValue;
  /** Stored as SecretBinary; the value is its UTF-8 text, or base64 when the bytes are not UTF-8. */
  binary?: 'utf8' | 'base64';
}

interface Target {
  request: SecretsManagerRequest;
  region: string;
  secretId: string;
}

interface ReadValue {
  name: string;
  arn: string;
  versionId?: string;
  value: SecretValue;
  binary?: 'utf8' | 'base64';
}

type Problem = { id: string; kind: 'not-found' | 'denied' | 'other'; detail: string };

/** Splits a list into chunks of at most `size`. */
export function chunk<T>(items: readonly T[], size: number): T[][] {
  const chunks: T[][] = [];
  for (let start = 0; start < items.length; start += size) chunks.push(items.slice(start, start + size));
  return chunks;
}

function errorName(error: unknown): string {
  return error instanceof Error ? error.name.replace(/Exception$/, '') : '';
}

function classify(code: string | undefined): Problem['kind'] {
  const name = (code ?? '').replace(/Exception$/, '');
  if (name === 'ResourceNotFound') return 'not-found';
  if (name === 'AccessDenied') return 'denied';
  return 'other';
}

const UTF8 = new TextDecoder('utf-8', { fatal: true });

function readEntry(
  entry:
    | SecretValueEntry
    | { ARN?: string; Name?: string; VersionId?: string; SecretString?: string; SecretBinary?: Uint8Array },
): ReadValue | undefined {
  if (entry.ARN === undefined || entry.Name === undefined) return undefined;
  let text: string;
  let binary: ReadValue['binary'];
  if (entry.SecretString !== undefined) {
    text = entry.SecretString;
  } else if (entry.SecretBinary !== undefined) {
    try {
      text = UTF8.decode(entry.SecretBinary);
      binary = 'utf8';
    } catch {
      text = Buffer.from(entry.SecretBinary).toString('base64');
      binary = 'base64';
    }
  } else {
    text = '';
  }
  const read: ReadValue = { name: entry.Name, arn: entry.ARN, value: new SecretValue(text) };
  if (entry.VersionId !== undefined) read.versionId = entry.VersionId;
  if (binary !== undefined) read.binary = binary;
  return read;
}

/** Whether a returned secret answers a requested id: its name, its full ARN, or a partial ARN of it. */
function answers(id: string, read: ReadValue): boolean {
  return id === read.name || id === read.arn || (id.startsWith('arn:') && read.arn.startsWith(`${id}-`));
}

/** Lists every secret whose name starts with prefix, following NextToken to the end (no 100-secret ceiling). */
export async function listSecretsByPrefix(
  client: SecretsManagerClientLike,
  prefix: string,
): Promise<Array<{ name: string; arn: string }>> {
  const found: Array<{ name: string; arn: string }> = [];
  let nextToken: string | undefined;
  for (let page = 0; page < MAX_LIST_PAGES; page++) {
    const output = await client.send(
      new ListSecretsCommand({
        Filters: [{ Key: 'name', Values: [prefix] }],
        MaxResults: LIST_PAGE_SIZE,
        ...(nextToken === undefined ? {} : { NextToken: nextToken }),
      }),
    );
    for (const entry of output.SecretList ?? []) {
      // The service's name filter is looser than a prefix (case, word matches); keep only true prefixes.
      if (entry.Name?.startsWith(prefix) && entry.ARN !== undefined)
        found.push({ name: entry.Name, arn: entry.ARN });
    }
    nextToken = output.NextToken;
    if (!nextToken) break;
  }
  return found;
}

class BatchFallback {
  active = false;
}

async function readBatch(
  client: SecretsManagerClientLike,
  ids: readonly string[],
  fallback: BatchFallback,
  options: FetchSecretsOptions,
): Promise<{ values: Map<string, ReadValue>; problems: Problem[] }> {
  if (fallback.active) return readOneByOne(client, ids, options);
  const values = new Map<string, ReadValue>();
  const problems: Problem[] = [];
  const reads: ReadValue[] = [];
  let nextToken: string | undefined;
  try {
    do {
      const output = await client.send(
        new BatchGetSecretValueCommand({
          SecretIdList: [...ids],
          ...(nextToken === undefined ? {} : { NextToken: nextToken }),
        }),
      );
      for (const entry of output.SecretValues ?? []) {
        const read = readEntry(entry);
        if (read === undefined) continue;
        options.onSecret(read.value);
        reads.push(read);
      }
      for (const error of output.Errors ?? []) {
        const id = error.SecretId ?? '(unknown)';
        problems.push({
          id,
          kind: classify(error.ErrorCode),
          detail: `${error.ErrorCode ?? 'Error'}: ${error.Message ?? ''}`.trim(),
        });
      }
      nextToken = output.NextToken;
    } while (nextToken);
  } catch (error) {
    const name = errorName(error);
    // Roles written for aws-secretsmanager-get-secrets often allow GetSecretValue only; and some
    // Secrets Manager look-alikes do not implement the batch call. Both still work one by one.
    if (
      name === 'AccessDenied' ||
      name === 'UnknownOperation' ||
      name === 'InvalidAction' ||
      name === 'NotImplemented'
    ) {
      if (!fallback.active) {
        fallback.active = true;
        options.onNotice?.(
          `BatchGetSecretValue failed (${name}); reading secrets one at a time. Allow secretsmanager:BatchGetSecretValue to save requests.`,
        );
      }
      return readOneByOne(client, ids, options);
    }
    throw error;
  }
  for (const id of ids) {
    const read = reads.find((candidate) => answers(id, candidate));
    if (read !== undefined) values.set(id, read);
    else if (!problems.some((problem) => problem.id === id)) {
      problems.push({ id, kind: 'not-found', detail: 'not returned by BatchGetSecretValue' });
    }
  }
  return { values, problems };
}

async function readOneByOne(
  client: SecretsManagerClientLike,
  ids: readonly string[],
  options: FetchSecretsOptions,
): Promise<{ values: Map<string, ReadValue>; problems: Problem[] }> {
  const values = new Map<string, ReadValue>();
  const problems: Problem[] = [];
  await mapLimit(ids, options.concurrency ?? 4, async (id) => {
    try {
      const output = await client.send(new GetSecretValueCommand({ SecretId: id }));
      const read = readEntry(output);
      if (read === undefined) {
        problems.push({ id, kind: 'other', detail: 'GetSecretValue answered without a name or ARN' });
        return;
      }
      options.onSecret(read.value);
      values.set(id, read);
    } catch (error) {
      const kind = classify(errorName(error));
      if (kind === 'other' && !(error instanceof Error && error.name.endsWith('Exception'))) throw error;
      problems.push({
        id,
        kind,
        detail: `${errorName(error) || 'Error'}: ${error instanceof Error ? error.message : String(error)}`,
      });
    }
  });
  return { values, problems };
}

function problemsError(problems: readonly Problem[]): KeyfenceError {
  const notFound = problems.some((problem) => problem.kind === 'not-found');
  const denied = problems.some((problem) => problem.kind === 'denied');
  const hints: string[] = [];
  if (notFound) {
    hints.push(
      'Check each name and its region (aws-region, or the region inside an ARN); secrets scheduled for deletion cannot be read.',
    );
  }
  if (denied) {
    hints.push(
      'The role needs secretsmanager:GetSecretValue on each secret (and kms:Decrypt on a customer-managed key).',
    );
  }
  return new KeyfenceError(
    notFound
      ? StoreErrorCode.SECRET_NOT_FOUND
      : denied
        ? StoreErrorCode.SECRET_ACCESS_DENIED
        : StoreErrorCode.SECRET_FETCH_FAILED,
    `Could not read ${problems.length} secret(s) from AWS Secrets Manager; nothing was exported:\n  - ${problems
      .map((problem) => `${problem.id}: ${problem.detail}`)
      .join('\n  - ')}`,
    hints.length > 0 ? { hint: hints.join(' ') } : {},
  );
}

/**
 * Reads the requested secrets: prefixes are expanded with ListSecrets (all pages), then values are read
 * with BatchGetSecretValue in chunks of 20 per region (GetSecretValue one by one when the batch call is
 * refused). Every failure is collected and reported at once; on any failure nothing is returned.
 */
export async function fetchSecretsManagerSecrets(
  requests: readonly SecretsManagerRequest[],
  options: FetchSecretsOptions,
): Promise<FetchedAwsSecret[]> {
  const concurrency = options.concurrency ?? 4;
  const problems: Problem[] = [];
  const clients = new Map<string, SecretsManagerClientLike>();
  const clientFor = (region: string): SecretsManagerClientLike => {
    let client = clients.get(region);
    if (client === undefined) {
      client = options.clientFor(region);
      clients.set(region, client);
    }
    return client;
  };
  const defaultRegion = (request: SecretsManagerRequest): string => {
    if (options.region === undefined || options.region === '') {
      throw new KeyfenceError(StoreErrorCode.REGION_MISSING, `No AWS region for "${request.id}".`, {
        hint: 'Set aws-region (or AWS_REGION), or ask for the secret by its ARN.',
      });
    }
    return options.region;
  };

  const targets: Target[] = [];
  const prefixRequests = requests.filter((request) => request.kind === 'prefix');
  const listed = await mapLimit(prefixRequests, concurrency, async (request) => {
    const region = defaultRegion(request);
    return { request, region, matches: await listSecretsByPrefix(clientFor(region), request.prefix) };
  });
  for (const request of requests) {
    if (request.kind === 'prefix') {
      const result = listed.find((item) => item.request === request)!;
      if (result.matches.length === 0) {
        problems.push({
          id: request.id,
          kind: 'not-found',
          detail: `no secret name starts with "${request.prefix}"`,
        });
      }
      for (const match of result.matches)
        targets.push({ request, region: result.region, secretId: match.arn });
    } else if (request.kind === 'arn') {
      targets.push({ request, region: request.arn.region, secretId: request.id });
    } else {
      targets.push({ request, region: defaultRegion(request), secretId: request.id });
    }
  }

  const idsByRegion = new Map<string, string[]>();
  for (const target of targets) {
    const ids = idsByRegion.get(target.region) ?? [];
    if (!ids.includes(target.secretId)) ids.push(target.secretId);
    idsByRegion.set(target.region, ids);
  }
  const jobs = [...idsByRegion].flatMap(([region, ids]) =>
    chunk(ids, BATCH_GET_LIMIT).map((batch) => ({ region, batch })),
  );
  const fallback = new BatchFallback();
  const results = await mapLimit(jobs, concurrency, ({ region, batch }) =>
    readBatch(clientFor(region), batch, fallback, options).then((result) => ({ region, ...result })),
  );

  const values = new Map<string, ReadValue>();
  for (const result of results) {
    problems.push(...result.problems);
    for (const [id, read] of result.values) values.set(`${result.region}\n${id}`, read);
  }
  if (problems.length > 0) throw problemsError(problems);

  return targets.map((target) => {
    const read = values.get(`${target.region}\n${target.secretId}`)!;
    const fetched: FetchedAwsSecret = {
      request: target.request,
      name: read.name,
      arn: read.arn,
      region: target.region,
      value: read.value,
    };
    if (read.versionId !== undefined) fetched.versionId = read.versionId;
    if (read.binary !== undefined) fetched.binary = read.binary;
    return fetched;
  });
}
