import { readFileSync } from 'node:fs';
import { ErrorCode, KeyfenceError } from '@keyfence/core';
import { type Document, isMap, isNode, LineCounter, parseDocument } from 'yaml';
import { parseDuration } from '../duration.js';
import { RotationErrorCode } from '../errors.js';
import type {
  CommandUpstreamConfig,
  NotifyConfig,
  PostgresUpstreamConfig,
  Runbook,
  StoreConfig,
  Strategy,
  TlsMode,
  UpstreamConfig,
  ValidationConfig,
} from './types.js';

/** One problem in a runbook file, located at its line and column. */
export interface RunbookIssue {
  file: string;
  line: number;
  column: number;
  /** The field's path, e.g. `runbooks[0].upstream.strategy`. */
  field: string;
  message: string;
  severity: 'error' | 'warning';
}

export interface LoadedRunbooks {
  runbooks: Runbook[];
  warnings: RunbookIssue[];
}

type Path = (string | number)[];
type Json = Record<string, unknown>;

const DEFAULTS = {
  gracePeriod: '24h',
  lockTtl: '15m',
  staleAfter: '1h',
  validationAttempts: 5,
  validationInterval: '2s',
  passwordLength: 32,
  commandTimeout: '60s',
} as const;

/** Formats an issue as `file:line:column: field: message`. */
export function formatRunbookIssue(issue: RunbookIssue): string {
  return `${issue.file}:${issue.line}:${issue.column}: ${issue.severity === 'warning' ? 'warning: ' : ''}${issue.field}: ${issue.message}`;
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, index) => index);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = row[0] ?? 0;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = row[j] ?? 0;
      row[j] = Math.min(above + 1, (row[j - 1] ?? 0) + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1));
      diagonal = above;
    }
  }
  return row[b.length] ?? 0;
}

function suggestion(word: string, choices: readonly string[]): string {
  const best = choices
    .map((choice) => ({ choice, distance: editDistance(word.toLowerCase(), choice) }))
    .sort((a, b) => a.distance - b.distance)[0];
  return best !== undefined && best.distance <= Math.max(2, Math.floor(word.length / 3))
    ? ` (did you mean "${best.choice}"?)`
    : '';
}

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function describe(value: unknown): string {
  return JSON.stringify(value) ?? String(value);
}

/** Walks one parsed file, collecting every issue with its position instead of stopping at the first. */
class Checker {
  readonly issues: RunbookIssue[] = [];

  constructor(
    readonly file: string,
    private readonly doc: Document,
    private readonly lines: LineCounter,
  ) {}

  fieldName(path: Path): string {
    return path.reduce<string>(
      (name, step) =>
        typeof step === 'number' ? `${name}[${step}]` : name === '' ? step : `${name}.${step}`,
      '',
    );
  }

  /** The position of the node at `path`, or of its nearest existing parent; `key` points at a map key instead. */
  position(path: Path, key = false): { line: number; column: number } {
    if (key && path.length > 0) {
      const parent = this.doc.getIn(path.slice(0, -1), true);
      if (isMap(parent)) {
        const pair = parent.items.find(
          (item) => isNode(item.key) && (item.key as { value?: unknown }).value === path.at(-1),
        );
        const range = isNode(pair?.key) ? pair.key.range : undefined;
        if (range) return this.at(range[0]);
      }
    }
    for (let length = path.length; length >= 0; length--) {
      const node = length === 0 ? this.doc.contents : this.doc.getIn(path.slice(0, length), true);
      if (isNode(node) && node.range) return this.at(node.range[0]);
    }
    return { line: 1, column: 1 };
  }

  at(offset: number): { line: number; column: number } {
    const { line, col } = this.lines.linePos(offset);
    return { line, column: col };
  }

  add(path: Path, message: string, severity: 'error' | 'warning' = 'error', key = false): void {
    this.issues.push({
      file: this.file,
      ...this.position(path, key),
      field: this.fieldName(path),
      message,
      severity,
    });
  }

  /** Reports fields that are not in `allowed`, naming the closest allowed one. */
  keys(value: Json, path: Path, allowed: readonly string[]): void {
    for (const key of Object.keys(value)) {
      if (!allowed.includes(key)) {
        this.add(
          [...path, key],
          `unknown field "${key}"${suggestion(key, allowed)}; allowed: ${allowed.join(', ')}`,
          'error',
          true,
        );
      }
    }
  }

  string(value: Json, path: Path, key: string, required: true): string | undefined;
  string(value: Json, path: Path, key: string, required?: false): string | undefined;
  string(value: Json, path: Path, key: string, required = false): string | undefined {
    const raw = value[key];
    if (raw === undefined || raw === null) {
      if (required) this.add([...path, key], 'is required');
      return undefined;
    }
    if (typeof raw !== 'string' || raw.trim() === '') {
      this.add([...path, key], `must be a non-empty string (got ${describe(raw)})`);
      return undefined;
    }
    return raw.trim();
  }

  choice<T extends string>(
    value: Json,
    path: Path,
    key: string,
    choices: readonly T[],
    fallback?: T,
  ): T | undefined {
    const raw = value[key];
    if (raw === undefined || raw === null) {
      if (fallback === undefined) this.add([...path, key], `is required: one of ${choices.join(', ')}`);
      return fallback;
    }
    if (typeof raw === 'string' && (choices as readonly string[]).includes(raw)) return raw as T;
    this.add(
      [...path, key],
      `must be one of ${choices.join(', ')} (got ${describe(raw)})${suggestion(String(raw), choices)}`,
    );
    return undefined;
  }

  duration(value: Json, path: Path, key: string, fallback: string | undefined): number | undefined {
    const raw = value[key] ?? fallback;
    if (raw === undefined) return undefined;
    const ms = parseDuration(raw);
    if (ms === undefined)
      this.add([...path, key], `must be a duration such as 30s, 15m, 24h or 7d (got ${describe(raw)})`);
    return ms;
  }

  integer(value: Json, path: Path, key: string, fallback: number, min: number, max: number): number {
    const raw = value[key] ?? fallback;
    if (typeof raw !== 'number' || !Number.isInteger(raw) || raw < min || raw > max) {
      this.add([...path, key], `must be a whole number from ${min} to ${max} (got ${describe(raw)})`);
      return fallback;
    }
    return raw;
  }

  map(value: Json, path: Path, key: string, required: boolean): Json | undefined {
    const raw = value[key];
    if (raw === undefined || raw === null) {
      if (required) this.add([...path, key], 'is required');
      return undefined;
    }
    if (!isObject(raw)) {
      this.add([...path, key], `must be a mapping (got ${describe(raw)})`);
      return undefined;
    }
    return raw;
  }

  command(value: Json, path: Path, key: string, required: boolean): string[] | undefined {
    const raw = value[key];
    if (raw === undefined || raw === null) {
      if (required) this.add([...path, key], 'is required');
      return undefined;
    }
    // A list is run as is; a string goes through `sh -c`, for pipes and quoting.
    if (typeof raw === 'string' && raw.trim() !== '') return ['sh', '-c', raw];
    if (Array.isArray(raw) && raw.length > 0 && raw.every((part) => typeof part === 'string'))
      return raw as string[];
    this.add([...path, key], 'must be a command: a string (run with sh -c) or a list of arguments');
    return undefined;
  }
}

const STORE_TYPES = ['aws-secrets-manager', 'vault-kv2'] as const;
const UPSTREAM_TYPES = ['postgres', 'command', 'aws-iam-access-key'] as const;
const STRATEGIES: readonly Strategy[] = ['single-user', 'alternating-users'];
const RUNBOOK_KEYS = [
  'name',
  'store',
  'upstream',
  'validation',
  'revocation',
  'rotate-every',
  'lock-ttl',
  'stale-after',
  'notify',
] as const;

function checkStore(c: Checker, raw: Json, path: Path): StoreConfig | undefined {
  const type = c.choice(raw, path, 'type', STORE_TYPES);
  if (type === 'aws-secrets-manager') {
    c.keys(raw, path, ['type', 'secret-id', 'region']);
    const secretId = c.string(raw, path, 'secret-id', true);
    const region = c.string(raw, path, 'region');
    return secretId === undefined
      ? undefined
      : { type, secretId, ...(region === undefined ? {} : { region }) };
  }
  if (type === 'vault-kv2') {
    c.keys(raw, path, ['type', 'mount', 'path', 'state-path', 'address', 'namespace']);
    const secretPath = c.string(raw, path, 'path', true);
    const mount = c.string(raw, path, 'mount') ?? 'secret';
    const statePath = c.string(raw, path, 'state-path');
    const address = c.string(raw, path, 'address');
    const namespace = c.string(raw, path, 'namespace');
    if (secretPath?.startsWith(`${mount}/data/`) || secretPath?.startsWith('data/')) {
      c.add(
        [...path, 'path'],
        'is the path inside the mount, without the mount and data/ (e.g. prod/orders/db)',
      );
    }
    if (secretPath === undefined) return undefined;
    return {
      type,
      mount,
      path: secretPath.replace(/^\/+|\/+$/g, ''),
      ...(statePath === undefined ? {} : { statePath }),
      ...(address === undefined ? {} : { address }),
      ...(namespace === undefined ? {} : { namespace }),
    };
  }
  return undefined;
}

function checkPostgres(c: Checker, raw: Json, path: Path): PostgresUpstreamConfig | undefined {
  c.keys(raw, path, [
    'type',
    'strategy',
    'admin-secret-id',
    'tls',
    'clone-suffix',
    'password-length',
    'exclude-characters',
  ]);
  const strategy = c.choice(raw, path, 'strategy', STRATEGIES);
  const adminSecretId = c.string(raw, path, 'admin-secret-id');
  const tls = c.choice<TlsMode>(raw, path, 'tls', ['require', 'verify-full', 'disable'], 'require');
  const cloneSuffix = c.string(raw, path, 'clone-suffix') ?? '_clone';
  if (!/^[a-z0-9_]{1,20}$/.test(cloneSuffix)) {
    c.add([...path, 'clone-suffix'], 'must be 1-20 characters of a-z, 0-9 and _');
  }
  const passwordLength = c.integer(raw, path, 'password-length', DEFAULTS.passwordLength, 16, 99);
  const excludeCharacters = typeof raw['exclude-characters'] === 'string' ? raw['exclude-characters'] : '';
  if (strategy === undefined || tls === undefined) return undefined;
  return {
    type: 'postgres',
    strategy,
    ...(adminSecretId === undefined ? {} : { adminSecretId }),
    tls,
    cloneSuffix,
    passwordLength,
    excludeCharacters,
  };
}

function checkCommand(c: Checker, raw: Json, path: Path): CommandUpstreamConfig | undefined {
  c.keys(raw, path, ['type', 'strategy', 'create', 'set', 'test', 'revoke', 'timeout']);
  const strategy = c.choice(raw, path, 'strategy', [...STRATEGIES, 'independent'] as const);
  const create = c.command(raw, path, 'create', true);
  const set = c.command(raw, path, 'set', strategy !== 'independent');
  const test = c.command(raw, path, 'test', true);
  const revoke = c.command(raw, path, 'revoke', false);
  const timeoutMs = c.duration(raw, path, 'timeout', DEFAULTS.commandTimeout);
  if (strategy === undefined || create === undefined || test === undefined || timeoutMs === undefined)
    return undefined;
  return {
    type: 'command',
    strategy,
    create,
    test,
    timeoutMs,
    ...(set === undefined ? {} : { set }),
    ...(revoke === undefined ? {} : { revoke }),
  };
}

function checkUpstream(c: Checker, raw: Json, path: Path): UpstreamConfig | undefined {
  const type = c.choice(raw, path, 'type', UPSTREAM_TYPES);
  if (type === 'postgres') return checkPostgres(c, raw, path);
  if (type === 'command') return checkCommand(c, raw, path);
  if (type === 'aws-iam-access-key') {
    c.keys(raw, path, ['type', 'user-name']);
    const userName = c.string(raw, path, 'user-name', true);
    return userName === undefined ? undefined : { type, userName };
  }
  return undefined;
}

function checkValidation(
  c: Checker,
  raw: Json | undefined,
  path: Path,
  defaultWait: string,
): ValidationConfig {
  const value = raw ?? {};
  c.keys(value, path, ['wait', 'attempts', 'interval', 'probe']);
  const probe = c.string(value, path, 'probe');
  return {
    waitMs: c.duration(value, path, 'wait', defaultWait) ?? 0,
    attempts: c.integer(value, path, 'attempts', DEFAULTS.validationAttempts, 1, 50),
    intervalMs: c.duration(value, path, 'interval', DEFAULTS.validationInterval) ?? 2_000,
    ...(probe === undefined ? {} : { probe }),
  };
}

function checkNotify(c: Checker, raw: Json, path: Path): NotifyConfig {
  c.keys(raw, path, ['webhook', 'repository-dispatch', 'event-type']);
  const webhook = c.string(raw, path, 'webhook');
  if (webhook !== undefined && !/^https?:\/\//.test(webhook))
    c.add([...path, 'webhook'], 'must be an http(s) URL');
  const repository = c.string(raw, path, 'repository-dispatch');
  if (repository !== undefined && !/^[\w.-]+\/[\w.-]+$/.test(repository)) {
    c.add([...path, 'repository-dispatch'], 'must be OWNER/REPO');
  }
  const eventType = c.string(raw, path, 'event-type') ?? 'keyfence-rotated';
  return {
    ...(webhook === undefined ? {} : { webhook }),
    ...(repository === undefined ? {} : { repositoryDispatch: { repository, eventType } }),
  };
}

function checkRunbook(c: Checker, raw: unknown, path: Path, names: Map<string, number>): Runbook | undefined {
  if (!isObject(raw)) {
    c.add(path, `must be a mapping with name, store and upstream (got ${describe(raw)})`);
    return undefined;
  }
  c.keys(raw, path, RUNBOOK_KEYS);
  const name = c.string(raw, path, 'name', true);
  if (name !== undefined) {
    if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(name)) {
      c.add(
        [...path, 'name'],
        'must start with a letter or digit and hold only letters, digits, ".", "_" and "-"',
      );
    }
    const first = names.get(name);
    if (first !== undefined) c.add([...path, 'name'], `"${name}" is already the name of runbooks[${first}]`);
    else names.set(name, Number(path.at(-1)));
  }
  const storeRaw = c.map(raw, path, 'store', true);
  const store = storeRaw === undefined ? undefined : checkStore(c, storeRaw, [...path, 'store']);
  const upstreamRaw = c.map(raw, path, 'upstream', true);
  const upstream =
    upstreamRaw === undefined ? undefined : checkUpstream(c, upstreamRaw, [...path, 'upstream']);
  // New IAM keys take seconds to work everywhere; other upstreams answer at once.
  const defaultWait = upstream?.type === 'aws-iam-access-key' ? '10s' : '0s';
  const validation = checkValidation(
    c,
    c.map(raw, path, 'validation', false),
    [...path, 'validation'],
    defaultWait,
  );
  const revocation = c.map(raw, path, 'revocation', false) ?? {};
  c.keys(revocation, [...path, 'revocation'], ['grace-period']);
  const gracePeriodMs = c.duration(revocation, [...path, 'revocation'], 'grace-period', DEFAULTS.gracePeriod);
  const rotateEveryMs = c.duration(raw, path, 'rotate-every', undefined);
  const lockTtlMs = c.duration(raw, path, 'lock-ttl', DEFAULTS.lockTtl);
  if (lockTtlMs !== undefined && lockTtlMs < 60_000) c.add([...path, 'lock-ttl'], 'must be at least 1m');
  const staleAfterMs = c.duration(raw, path, 'stale-after', DEFAULTS.staleAfter);
  const notifyRaw = c.map(raw, path, 'notify', false);
  const notify = notifyRaw === undefined ? undefined : checkNotify(c, notifyRaw, [...path, 'notify']);
  if (
    name === undefined ||
    store === undefined ||
    upstream === undefined ||
    gracePeriodMs === undefined ||
    lockTtlMs === undefined ||
    staleAfterMs === undefined
  ) {
    return undefined;
  }
  if (
    upstream.type === 'postgres' &&
    upstream.strategy === 'alternating-users' &&
    upstream.adminSecretId === undefined
  ) {
    c.add(
      [...path, 'upstream'],
      "alternating-users has no admin-secret-id: the secret's masterarn field must name the admin secret",
      'warning',
    );
  }
  return {
    name,
    store,
    upstream,
    validation,
    gracePeriodMs,
    lockTtlMs,
    staleAfterMs,
    ...(rotateEveryMs === undefined ? {} : { rotateEveryMs }),
    ...(notify === undefined ? {} : { notify }),
    source: { file: c.file, line: c.position(path).line },
  };
}

/** Validates runbook YAML text; returns every runbook and every issue (errors and warnings) at once. */
export function checkRunbooks(text: string, file: string): { runbooks: Runbook[]; issues: RunbookIssue[] } {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, uniqueKeys: true, prettyErrors: false });
  const c = new Checker(file, doc, lines);
  if (doc.errors.length > 0) {
    for (const error of doc.errors) {
      const [start] = error.linePos ?? [{ line: 1, col: 1 }];
      c.issues.push({
        file,
        line: start.line,
        column: start.col,
        field: '(yaml)',
        message: error.message.split('\n')[0] ?? error.message,
        severity: 'error',
      });
    }
    return { runbooks: [], issues: c.issues };
  }
  const root: unknown = doc.toJS();
  if (!isObject(root)) {
    c.add([], 'the file must be a mapping with a runbooks list');
    return { runbooks: [], issues: c.issues };
  }
  c.keys(root, [], ['version', 'runbooks']);
  if (root['version'] !== undefined && root['version'] !== 1) c.add(['version'], 'must be 1');
  const list = root['runbooks'];
  if (!Array.isArray(list) || list.length === 0) {
    c.add(['runbooks'], 'must be a non-empty list of runbooks');
    return { runbooks: [], issues: c.issues };
  }
  const names = new Map<string, number>();
  const runbooks = list
    .map((item, index) => checkRunbook(c, item, ['runbooks', index], names))
    .filter((runbook): runbook is Runbook => runbook !== undefined);
  return { runbooks, issues: c.issues };
}

/** Reads and validates a runbook file; a KeyfenceError (exit 2) lists every error with file, line and field. */
export function loadRunbooks(
  file: string,
  readText: (file: string) => string = (path) => readFileSync(path, 'utf8'),
): LoadedRunbooks {
  let text: string;
  try {
    text = readText(file);
  } catch (error) {
    throw new KeyfenceError(ErrorCode.INPUT_NOT_FOUND, `Cannot read the runbook file ${file}.`, {
      hint: 'Pass the path of a YAML file with a runbooks list (--runbooks FILE).',
      cause: error,
    });
  }
  const { runbooks, issues } = checkRunbooks(text, file);
  const errors = issues.filter((issue) => issue.severity === 'error');
  if (errors.length > 0) {
    throw new KeyfenceError(
      RotationErrorCode.RUNBOOK_INVALID,
      `${file} has ${errors.length} error(s):\n  ${errors.map(formatRunbookIssue).join('\n  ')}`,
      { hint: 'Fix the fields named above; docs/runbooks.md lists every field.' },
    );
  }
  return { runbooks, warnings: issues.filter((issue) => issue.severity === 'warning') };
}
