import { KeyfenceError } from '@keyfence/core';
import { StoreErrorCode } from '../errors.js';
import { ENV_NAME } from '../naming.js';

/** A parsed Secrets Manager secret ARN. */
export interface SecretArn {
  arn: string;
  partition: string;
  region: string;
  accountId: string;
  /** The name part as written: with the 6-character suffix for a full ARN, without it for a partial one. */
  resourceName: string;
}

/** One line of `secret-ids`: a name, an ARN or a `prefix*`, with an optional alias. */
export type SecretsManagerRequest =
  | { kind: 'name'; line: string; alias?: string; id: string }
  | { kind: 'arn'; line: string; alias?: string; id: string; arn: SecretArn }
  | { kind: 'prefix'; line: string; alias?: string; id: string; prefix: string };

const SECRET_ARN = /^arn:(aws[a-z-]*):secretsmanager:([a-z0-9-]+):(\d{12}):secret:([\w/+=.@-]+)$/;
const SECRET_NAME = /^[\w/+=.@-]{1,512}$/;
// aws-secretsmanager-get-secrets' rule: at least three characters before the trailing '*'.
const SECRET_PREFIX = /^([\w/+=.@-]{3,})\*$/;
/** The random suffix Secrets Manager appends to a secret's name in its full ARN. */
export const ARN_SUFFIX = /-[A-Za-z0-9]{6}$/;

/** Parses a Secrets Manager ARN of any partition, or returns undefined. */
export function parseSecretArn(value: string): SecretArn | undefined {
  const match = SECRET_ARN.exec(value);
  if (
    match?.[1] === undefined ||
    match[2] === undefined ||
    match[3] === undefined ||
    match[4] === undefined
  ) {
    return undefined;
  }
  return { arn: value, partition: match[1], region: match[2], accountId: match[3], resourceName: match[4] };
}

function parseLine(line: string): SecretsManagerRequest | string {
  const comma = line.indexOf(',');
  const alias = comma === -1 ? undefined : line.slice(0, comma).trim();
  const id = (comma === -1 ? line : line.slice(comma + 1)).trim();
  if (alias !== undefined && alias !== '' && !ENV_NAME.test(alias)) {
    return `"${line}": the alias "${alias}" is not a valid variable name (letters, digits and _, not starting with a digit)`;
  }
  const withAlias = alias === undefined ? {} : { alias };
  if (id.startsWith('arn:')) {
    const arn = parseSecretArn(id);
    if (arn === undefined) return `"${line}": "${id}" is not a Secrets Manager secret ARN`;
    return { kind: 'arn', line, id, arn, ...withAlias };
  }
  if (id.includes('*')) {
    const prefix = SECRET_PREFIX.exec(id)?.[1];
    if (prefix === undefined) {
      return `"${line}": a prefix is at least three characters followed by one trailing * (e.g. prod/app/*)`;
    }
    return { kind: 'prefix', line, id, prefix, ...withAlias };
  }
  if (!SECRET_NAME.test(id)) {
    return `"${line}": "${id}" is not a secret name (letters, digits and /_+=.@- only)`;
  }
  return { kind: 'name', line, id, ...withAlias };
}

/**
 * Parses `secret-ids` lines as aws-secretsmanager-get-secrets does (`ALIAS,secret-id`, a blank alias
 * as `,secret-id`, ARNs, `prefix*`); blank lines and `#` comments are skipped; all errors are reported at once.
 */
export function parseSecretIds(lines: readonly string[]): SecretsManagerRequest[] {
  const requests: SecretsManagerRequest[] = [];
  const problems: string[] = [];
  const seen = new Set<string>();
  for (const raw of lines) {
    // Secret names cannot hold whitespace or '#', so a trailing ` # ...` is always a comment.
    const line = raw.replace(/(^|\s)#.*$/, '').trim();
    if (line === '' || seen.has(line)) continue;
    seen.add(line);
    const parsed = parseLine(line);
    if (typeof parsed === 'string') problems.push(parsed);
    else requests.push(parsed);
  }
  if (problems.length > 0) {
    throw new KeyfenceError(
      StoreErrorCode.SECRET_ID_INVALID,
      `secret-ids has invalid lines:\n  - ${problems.join('\n  - ')}`,
      {
        hint: 'One secret a line: NAME, an ARN, or PREFIX* (three characters or more), optionally preceded by `ALIAS,`.',
      },
    );
  }
  return requests;
}
