import { KeyfenceError } from '@keyfence/core';
import { StoreErrorCode } from '../errors.js';

/** One entry of vault-action's `secrets:` input: `PATH KEY [| NAME]`. */
export interface VaultSecretRequest {
  entry: string;
  /** The API path under /v1/, e.g. `secret/data/ci/app` for KV v2 or `kv/ci/app` for KV v1. */
  path: string;
  /** A key, a dotted path into nested JSON, a "quoted" literal key, or `*` for every key. */
  selector: string;
  /** The name from `| NAME`; for `*`, the prefix of every key's name. */
  name?: string;
}

/**
 * vault-action's name for a key without `| NAME`: the first `.` becomes `__`, `-` is dropped, any other
 * character that is not a letter, digit or `_` is removed; upper-cased for an environment variable.
 */
export function normalizeVaultKeyName(selector: string): string {
  return selector
    .replace('.', '__')
    .replaceAll('-', '')
    .replace(/[^\p{L}\p{N}_]/gu, '')
    .toUpperCase();
}

/**
 * Parses vault-action's `secrets:` syntax: entries separated by `;` (or new lines), each `PATH KEY`
 * with an optional `| NAME`. All errors are reported at once.
 */
export function parseVaultSecrets(input: string): VaultSecretRequest[] {
  const requests: VaultSecretRequest[] = [];
  const problems: string[] = [];
  for (const raw of input.split(/[;\n]/)) {
    const entry = raw.trim();
    if (entry === '' || entry.startsWith('#')) continue;
    const bar = entry.lastIndexOf('|');
    const spec = bar === -1 ? entry : entry.slice(0, bar).trim();
    const name = bar === -1 ? undefined : entry.slice(bar + 1).trim();
    if (name !== undefined && name === '') {
      problems.push(`"${entry}": nothing after |; give the name the value should have`);
      continue;
    }
    const parts = spec.split(/\s+/).filter((part) => part !== '');
    if (parts.length !== 2 || parts[0] === undefined || parts[1] === undefined) {
      problems.push(`"${entry}": expected PATH KEY, optionally followed by | NAME`);
      continue;
    }
    const [path, selector] = parts;
    if (/[^\w"./*-]/.test(selector)) {
      problems.push(
        `"${entry}": only plain keys, dotted paths, "quoted keys" and * are supported as selectors`,
      );
      continue;
    }
    requests.push({
      entry,
      path: path.replace(/^\/+|\/+$/g, ''),
      selector,
      ...(name === undefined ? {} : { name }),
    });
  }
  if (problems.length > 0) {
    throw new KeyfenceError(
      StoreErrorCode.SECRET_ID_INVALID,
      `secrets has invalid entries:\n  - ${problems.join('\n  - ')}`,
      {
        hint: 'Write each entry as `secret/data/ci/app password | APP_PASSWORD ;` (the API path, a key, an optional name).',
      },
    );
  }
  return requests;
}
