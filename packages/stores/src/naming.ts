import { KeyfenceError, SecretValue } from '@keyfence/core';
import { type OnSecret, StoreErrorCode } from './errors.js';
import { describeOrigin, type NamedSecret, type SecretOrigin } from './types.js';

/** aws-secretsmanager-get-secrets' `name-transformation`: the case of derived names. */
export type NameTransformation = 'uppercase' | 'lowercase' | 'none';

/** A POSIX-style environment variable name. */
export const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * Turns a secret name or JSON key into an environment variable name the way aws-secretsmanager-get-secrets
 * does: a leading digit gets a `_` in front, every other character outside [A-Za-z0-9_] becomes `_`,
 * then the case is transformed.
 */
export function toEnvName(raw: string, transformation: NameTransformation = 'uppercase'): string {
  const named = (/^[0-9]/.test(raw) ? `_${raw}` : raw).replace(/[^a-zA-Z0-9_]/g, '_');
  if (transformation === 'uppercase') return named.toUpperCase();
  if (transformation === 'lowercase') return named.toLowerCase();
  return named;
}

/** The JSON object a secret holds, or undefined for anything else (arrays and scalars are not parsed). */
export function parseJsonObject(text: string): Record<string, unknown> | undefined {
  const start = text.trimStart()[0];
  if (start !== '{') return undefined;
  try {
    const parsed: unknown = JSON.parse(text);
    return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)
      ? (parsed as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

/** One leaf of a flattened JSON secret: its env name, key path and value. */
export interface JsonLeaf {
  name: string;
  keyPath: string;
  value: SecretValue;
}

/**
 * Flattens a JSON object secret into leaves named `PREFIX_KEY_SUBKEY` (no prefix when it is empty).
 * Strings stay as they are, a string that itself holds a JSON object is flattened further (as
 * aws-secretsmanager-get-secrets does), and other values (numbers, arrays, null) become their JSON text.
 */
export function flattenJsonSecret(
  object: Record<string, unknown>,
  prefix: string,
  transformation: NameTransformation,
  onSecret: OnSecret,
): JsonLeaf[] {
  const leaves: JsonLeaf[] = [];
  const pending: Array<{ node: Record<string, unknown>; name: string; keyPath: string }> = [
    { node: object, name: prefix, keyPath: '' },
  ];
  while (pending.length > 0) {
    const { node, name, keyPath } = pending.shift()!;
    for (const [key, raw] of Object.entries(node)) {
      const leafName =
        name === '' ? toEnvName(key, transformation) : `${name}_${toEnvName(key, transformation)}`;
      const leafPath = keyPath === '' ? key : `${keyPath}.${key}`;
      const nested =
        typeof raw === 'object' && raw !== null && !Array.isArray(raw)
          ? (raw as Record<string, unknown>)
          : typeof raw === 'string'
            ? parseJsonObject(raw)
            : undefined;
      if (nested !== undefined) {
        pending.push({ node: nested, name: leafName, keyPath: leafPath });
        continue;
      }
      const value = new SecretValue(typeof raw === 'string' ? raw : JSON.stringify(raw));
      onSecret(value);
      leaves.push({ name: leafName, keyPath: leafPath, value });
    }
  }
  return leaves;
}

// Names a job's own machinery relies on: exporting a secret over one of them would break the
// runner or hand the secret to every later process in a surprising way.
const RESERVED_NAMES = new Set([
  'PATH',
  'HOME',
  'NODE_OPTIONS',
  'BASH_ENV',
  'ENV',
  'LD_PRELOAD',
  'LD_LIBRARY_PATH',
  'CI',
]);
const RESERVED_PREFIXES = ['GITHUB_', 'RUNNER_', 'ACTIONS_', 'INPUT_', 'STATE_'];

function reservedReason(name: string): string | undefined {
  const upper = name.toUpperCase();
  if (RESERVED_NAMES.has(upper)) return `${name} is reserved`;
  const prefix = RESERVED_PREFIXES.find((candidate) => upper.startsWith(candidate));
  return prefix === undefined ? undefined : `names starting with ${prefix} belong to the runner`;
}

/**
 * Checks that every name is a valid, unreserved environment variable name and that no two values
 * share one; all problems are reported at once, each collision naming both sources.
 */
export function checkNames(secrets: readonly NamedSecret[]): NamedSecret[] {
  const problems: string[] = [];
  const seen = new Map<string, SecretOrigin>();
  for (const secret of secrets) {
    if (!ENV_NAME.test(secret.name)) {
      problems.push(`"${secret.name}" (from ${describeOrigin(secret.origin)}) is not a valid variable name`);
      continue;
    }
    const reserved = reservedReason(secret.name);
    if (reserved !== undefined) {
      problems.push(`${secret.name} (from ${describeOrigin(secret.origin)}): ${reserved}`);
      continue;
    }
    // Environment variables are case-sensitive on Linux, but step outputs and Windows runners are not.
    const key = secret.name.toUpperCase();
    const first = seen.get(key);
    if (first === undefined) {
      seen.set(key, secret.origin);
      continue;
    }
    problems.push(
      `${secret.name} would be set by both ${describeOrigin(first)} and ${describeOrigin(secret.origin)}`,
    );
  }
  if (problems.length > 0) {
    const collision = problems.some((problem) => problem.includes(' would be set by both '));
    throw new KeyfenceError(
      collision ? StoreErrorCode.SECRET_NAME_COLLISION : StoreErrorCode.SECRET_NAME_INVALID,
      `Secret names clash or are invalid; nothing was exported:\n  - ${problems.join('\n  - ')}`,
      {
        hint: 'Give one of them its own name: an alias in secret-ids (`ALIAS,secret-id`), or `| NAME` in secrets.',
      },
    );
  }
  return [...secrets];
}
