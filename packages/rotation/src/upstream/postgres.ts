import { KeyfenceError, SecretValue } from '@keyfence/core';
import pg from 'pg';
import { RotationErrorCode } from '../errors.js';
import type { PostgresUpstreamConfig, TlsMode } from '../runbook/types.js';
import { generatePassword } from './password.js';
import { scramSha256Verifier } from './scram.js';
import type { RevokeOutcome, Upstream } from './types.js';

/** The JSON layout AWS uses for database secrets; other fields are kept as they are. */
export interface DatabaseSecret {
  engine?: string;
  host: string;
  port: number;
  dbname: string;
  username: string;
  password: string;
  masterarn?: string;
  [field: string]: unknown;
}

export interface PostgresUpstreamOptions {
  config: PostgresUpstreamConfig;
  /** Reads the current value of another secret in the same store (the admin secret). */
  readSecret: (id: string) => Promise<SecretValue>;
  /** The custom probe run with the new credential (SQL), beyond logging in. */
  probe?: string;
  connectTimeoutMs?: number;
}

const UNREACHABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  '57P03',
]);
const MAX_IDENTIFIER_BYTES = 63;

/** Parses a database secret; errors name the missing field, never a value. */
export function parseDatabaseSecret(value: SecretValue, what: string): DatabaseSecret {
  let parsed: unknown;
  try {
    parsed = JSON.parse(value.reveal());
  } catch {
    parsed = undefined;
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new KeyfenceError(RotationErrorCode.SECRET_INVALID, `${what} is not a JSON object.`, {
      hint: 'A database secret holds JSON with host, port, dbname, username and password (the layout AWS uses).',
    });
  }
  const fields = parsed as Record<string, unknown>;
  const missing = ['host', 'username', 'password'].filter(
    (key) => typeof fields[key] !== 'string' || fields[key] === '',
  );
  if (missing.length > 0) {
    throw new KeyfenceError(RotationErrorCode.SECRET_INVALID, `${what} has no ${missing.join(', ')}.`, {
      hint: 'A database secret holds JSON with host, port, dbname, username and password (the layout AWS uses).',
    });
  }
  const port = Number(fields['port'] ?? 5432);
  return {
    ...fields,
    host: fields['host'] as string,
    port: Number.isInteger(port) && port > 0 ? port : 5432,
    dbname: typeof fields['dbname'] === 'string' && fields['dbname'] !== '' ? fields['dbname'] : 'postgres',
    username: fields['username'] as string,
    password: fields['password'] as string,
  };
}

function tlsOption(mode: TlsMode): pg.ClientConfig['ssl'] {
  if (mode === 'disable') return false;
  // `require` encrypts without checking the certificate, as libpq's sslmode=require does.
  return mode === 'require' ? { rejectUnauthorized: false } : { rejectUnauthorized: true };
}

function classify(error: unknown, action: string): KeyfenceError {
  if (error instanceof KeyfenceError) return error;
  const code = typeof (error as { code?: unknown }).code === 'string' ? (error as { code: string }).code : '';
  const message = error instanceof Error ? error.message : String(error);
  const unreachable =
    UNREACHABLE_CODES.has(code) ||
    /timeout|terminated|Connection refused|does not support SSL/i.test(message);
  if (unreachable) {
    return new KeyfenceError(
      RotationErrorCode.UPSTREAM_UNREACHABLE,
      `PostgreSQL unreachable (${action}): ${message}`,
      {
        hint: /SSL/.test(message)
          ? "The server offers no TLS: set the runbook's upstream tls: disable only on a trusted network."
          : 'Check the host, port and network; the next run resumes from the vault.',
        cause: error,
      },
    );
  }
  return new KeyfenceError(
    RotationErrorCode.UPSTREAM_FAILED,
    `PostgreSQL ${action} failed: ${message}${code ? ` (SQLSTATE ${code})` : ''}`,
    {
      cause: error,
    },
  );
}

/** Rotates a PostgreSQL login's password: single-user (ALTER ROLE the same login) or alternating users (a login and its clone). */
export class PostgresUpstream implements Upstream {
  readonly kind = 'postgres';
  readonly replacesCurrent: boolean;
  readonly reusesPrevious: boolean;
  readonly #options: PostgresUpstreamOptions;
  readonly #config: PostgresUpstreamConfig;

  constructor(options: PostgresUpstreamOptions) {
    this.#options = options;
    this.#config = options.config;
    this.replacesCurrent = options.config.strategy === 'single-user';
    this.reusesPrevious = options.config.strategy === 'alternating-users';
  }

  identify(value: SecretValue): string {
    try {
      const secret = parseDatabaseSecret(value, 'value');
      return `${secret.username}@${secret.host}:${secret.port}/${secret.dbname}`;
    } catch {
      return 'unparsable value';
    }
  }

  async #connect(secret: DatabaseSecret, action: string): Promise<pg.Client> {
    const client = new pg.Client({
      host: secret.host,
      port: secret.port,
      database: secret.dbname,
      user: secret.username,
      password: secret.password,
      ssl: tlsOption(this.#config.tls),
      connectionTimeoutMillis: this.#options.connectTimeoutMs ?? 10_000,
      query_timeout: 30_000,
      application_name: 'keyfence-rotation',
    });
    // A dropped connection is reported on the client object; without a listener it would crash the process.
    client.on('error', () => undefined);
    try {
      await client.connect();
      return client;
    } catch (error) {
      await client.end().catch(() => undefined);
      throw classify(error, `${action}: log in as ${secret.username}`);
    }
  }

  async #withClient<T>(
    secret: DatabaseSecret,
    action: string,
    fn: (client: pg.Client) => Promise<T>,
  ): Promise<T> {
    const client = await this.#connect(secret, action);
    try {
      return await fn(client);
    } catch (error) {
      throw classify(error, action);
    } finally {
      await client.end().catch(() => undefined);
    }
  }

  async #admin(target: DatabaseSecret): Promise<DatabaseSecret | undefined> {
    const id =
      this.#config.adminSecretId ?? (typeof target.masterarn === 'string' ? target.masterarn : undefined);
    if (id === undefined) return undefined;
    const admin = parseDatabaseSecret(await this.#options.readSecret(id), `The admin secret ${id}`);
    // The admin secret may name another host (a proxy) or none at all; the target's host is the default.
    return { ...admin, host: admin.host || target.host };
  }

  #otherLogin(username: string): string {
    const suffix = this.#config.cloneSuffix;
    const other = username.endsWith(suffix) ? username.slice(0, -suffix.length) : `${username}${suffix}`;
    if (other === '' || Buffer.byteLength(other) > MAX_IDENTIFIER_BYTES) {
      throw new KeyfenceError(
        RotationErrorCode.SECRET_INVALID,
        `No alternate login for ${username}: ${other || '(empty)'} is not a valid role name.`,
        {
          hint: 'Role names hold at most 63 bytes; shorten the login or the clone-suffix.',
        },
      );
    }
    return other;
  }

  async create(current: SecretValue): Promise<SecretValue> {
    const secret = parseDatabaseSecret(current, 'The current value');
    const password = generatePassword(this.#config.passwordLength, this.#config.excludeCharacters);
    const username =
      this.#config.strategy === 'alternating-users' ? this.#otherLogin(secret.username) : secret.username;
    return new SecretValue(JSON.stringify({ ...secret, username, password }));
  }

  #alterPassword(role: string, password: string, login = false): string {
    // The verifier, not the password, is what the statement (and so any statement log) holds.
    return `ALTER ROLE ${pg.escapeIdentifier(role)} WITH ${login ? 'LOGIN ' : ''}PASSWORD ${pg.escapeLiteral(scramSha256Verifier(password))}`;
  }

  async set(request: { target: SecretValue; current: SecretValue; pending: SecretValue }): Promise<void> {
    const target = parseDatabaseSecret(request.target, 'The value to set');
    const current = parseDatabaseSecret(request.current, 'The current value');
    if (this.#config.strategy === 'alternating-users') {
      await this.#setStandby(target, current);
      return;
    }
    const admin = await this.#admin(target);
    if (admin !== undefined) {
      await this.#withClient(admin, 'set the password', (client) =>
        client.query(this.#alterPassword(target.username, target.password)),
      );
      return;
    }
    // No admin secret: the login changes its own password, logging in with whichever known value works.
    const candidates = [target, current, parseDatabaseSecret(request.pending, 'The pending value')];
    let lastError: unknown;
    for (const candidate of candidates) {
      if (candidate.username !== target.username) continue;
      let client: pg.Client;
      try {
        client = await this.#connect(candidate, 'set the password');
      } catch (error) {
        lastError = error;
        if (error instanceof KeyfenceError && error.code === RotationErrorCode.UPSTREAM_UNREACHABLE)
          throw error;
        continue;
      }
      try {
        await client.query(
          `ALTER ROLE CURRENT_USER WITH PASSWORD ${pg.escapeLiteral(scramSha256Verifier(target.password))}`,
        );
        return;
      } catch (error) {
        throw classify(error, 'set the password');
      } finally {
        await client.end().catch(() => undefined);
      }
    }
    throw new KeyfenceError(
      RotationErrorCode.UPSTREAM_FAILED,
      `Neither the current nor the pending password logs in as ${target.username}, so the login cannot change its own password.`,
      { hint: 'Give the runbook an admin-secret-id that can ALTER ROLE this login.', cause: lastError },
    );
  }

  async #setStandby(target: DatabaseSecret, current: DatabaseSecret): Promise<void> {
    if (target.username === current.username) {
      throw new KeyfenceError(
        RotationErrorCode.REVOKE_REFUSED,
        `Refusing to change the password of ${current.username}: the vault holds it as the current login.`,
        { hint: 'With alternating users, the pending value must name the other login.' },
      );
    }
    const admin = await this.#admin(target);
    if (admin === undefined) {
      throw new KeyfenceError(
        RotationErrorCode.STORE_CONFIG_MISSING,
        'alternating-users needs an admin login.',
        {
          hint: 'Set upstream.admin-secret-id in the runbook, or masterarn in the secret.',
        },
      );
    }
    const suffix = this.#config.cloneSuffix;
    const base = target.username.endsWith(suffix)
      ? target.username.slice(0, -suffix.length)
      : target.username;
    await this.#withClient(admin, `set the password of ${target.username}`, async (client) => {
      await client.query('BEGIN');
      try {
        const exists = await client.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [target.username]);
        if (exists.rowCount === 0) {
          if (base === target.username) {
            throw new KeyfenceError(
              RotationErrorCode.UPSTREAM_FAILED,
              `The login ${target.username} does not exist.`,
            );
          }
          // The clone is a member of the original login, so it holds the same grants (as AWS's rotation does).
          await client.query(
            `CREATE ROLE ${pg.escapeIdentifier(target.username)} WITH LOGIN PASSWORD ${pg.escapeLiteral(scramSha256Verifier(target.password))}`,
          );
          await client.query(`GRANT ${pg.escapeIdentifier(base)} TO ${pg.escapeIdentifier(target.username)}`);
        } else {
          await client.query(this.#alterPassword(target.username, target.password, true));
        }
        await client.query('COMMIT');
      } catch (error) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw error;
      }
    });
  }

  async test(value: SecretValue): Promise<void> {
    const secret = parseDatabaseSecret(value, 'The value to test');
    await this.#withClient(secret, `test ${secret.username}`, (client) =>
      client.query(this.#options.probe ?? 'SELECT 1'),
    );
  }

  async revoke(request: { previous: SecretValue; current: SecretValue }): Promise<RevokeOutcome> {
    const previous = parseDatabaseSecret(request.previous, 'The previous value');
    const current = parseDatabaseSecret(request.current, 'The current value');
    // Single-user: the old password stopped working when the new one was set. The same login in both
    // values means there is nothing separate to revoke, and the current login is never touched.
    if (this.#config.strategy === 'single-user' || previous.username === current.username)
      return 'nothing-to-revoke';
    const admin = await this.#admin(current);
    if (admin === undefined) {
      throw new KeyfenceError(
        RotationErrorCode.STORE_CONFIG_MISSING,
        'alternating-users needs an admin login to revoke.',
        {
          hint: 'Set upstream.admin-secret-id in the runbook, or masterarn in the secret.',
        },
      );
    }
    // A random password nobody keeps: the old login stops working until the next rotation sets it again.
    const unknown = generatePassword(48);
    await this.#withClient(admin, `revoke ${previous.username}`, (client) =>
      client.query(this.#alterPassword(previous.username, unknown)),
    );
    return 'revoked';
  }
}
