import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import pg from 'pg';
import { motoEnv } from '../services/moto.js';

/** The test superuser of the machine's PostgreSQL, as test/services/postgres.mjs prints it. */
export interface PostgresServer {
  host: string;
  port: number;
  user: string;
  password: string;
}

const POSTGRES_SCRIPT = resolve(import.meta.dirname, '../services/postgres.mjs');

/** Starts PostgreSQL with password authentication over TCP (idempotent) and returns the test superuser. */
export async function startPostgres(): Promise<PostgresServer> {
  const out = execFileSync(process.execPath, [POSTGRES_SCRIPT], { encoding: 'utf8', timeout: 300_000 });
  return JSON.parse(out) as PostgresServer;
}

/** A random password made at run time (no literal secrets in test files). */
export function randomPassword(): string {
  return randomBytes(18).toString('base64url');
}

/** A database secret in the layout AWS uses. */
export interface DbSecret {
  engine: 'postgres';
  host: string;
  port: number;
  dbname: string;
  username: string;
  password: string;
  [field: string]: unknown;
}

/** Tries one login with a secret's credentials (over TCP, password checked by the server). */
export async function canLogIn(secret: DbSecret | string | undefined, probe = 'SELECT 1'): Promise<boolean> {
  if (secret === undefined) return false;
  const s = typeof secret === 'string' ? (JSON.parse(secret) as DbSecret) : secret;
  const client = new pg.Client({
    host: s.host,
    port: s.port,
    user: s.username,
    password: s.password,
    database: s.dbname,
    connectionTimeoutMillis: 5_000,
  });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.query(probe);
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/**
 * One test's own database and logins with unique names: an application login (owner of a table), and
 * an admin login with CREATEROLE (what rotation uses). Dropped by cleanup().
 */
export class DatabaseFixture {
  readonly dbname: string;
  readonly app: string;
  readonly adminUser: string;
  readonly appPassword = randomPassword();
  readonly adminPassword = randomPassword();

  private constructor(
    readonly server: PostgresServer,
    prefix: string,
  ) {
    const id = randomBytes(4).toString('hex');
    this.dbname = `kf_${prefix}_${id}`;
    this.app = `kf_${prefix}_${id}_app`;
    this.adminUser = `kf_${prefix}_${id}_admin`;
  }

  /** Creates the database, the logins, and a table the application login owns. */
  static async create(server: PostgresServer, prefix: string): Promise<DatabaseFixture> {
    const fixture = new DatabaseFixture(server, prefix);
    const { escapeIdentifier: id, escapeLiteral: lit } = pg;
    await fixture.superuser('postgres', [
      `CREATE ROLE ${id(fixture.app)} WITH LOGIN PASSWORD ${lit(fixture.appPassword)}`,
      `CREATE ROLE ${id(fixture.adminUser)} WITH LOGIN CREATEROLE PASSWORD ${lit(fixture.adminPassword)}`,
      `CREATE DATABASE ${id(fixture.dbname)} OWNER ${id(fixture.app)}`,
      // Every statement of the admin login is logged: the test then shows no password reached the log.
      `ALTER ROLE ${id(fixture.adminUser)} SET log_statement = 'all'`,
      `ALTER ROLE ${id(fixture.app)} SET log_statement = 'all'`,
    ]);
    // PostgreSQL 16+ gives CREATEROLE only over roles it made or holds ADMIN on; grant it explicitly.
    await fixture.superuser('postgres', [
      `GRANT ${id(fixture.app)} TO ${id(fixture.adminUser)} WITH ADMIN OPTION`,
    ]);
    await fixture.superuser(fixture.dbname, [
      `CREATE TABLE orders (id serial PRIMARY KEY, note text)`,
      `ALTER TABLE orders OWNER TO ${id(fixture.app)}`,
    ]);
    return fixture;
  }

  async superuser(database: string, statements: string[]): Promise<void> {
    const client = new pg.Client({ ...this.server, database });
    client.on('error', () => undefined);
    await client.connect();
    try {
      for (const statement of statements) await client.query(statement);
    } finally {
      await client.end();
    }
  }

  /** The application secret (AWS's database layout). */
  appSecret(extra: Record<string, unknown> = {}): DbSecret {
    return {
      engine: 'postgres',
      host: this.server.host,
      port: this.server.port,
      dbname: this.dbname,
      username: this.app,
      password: this.appPassword,
      ...extra,
    };
  }

  adminSecret(extra: Record<string, unknown> = {}): DbSecret {
    return { ...this.appSecret(), username: this.adminUser, password: this.adminPassword, ...extra };
  }

  async cleanup(): Promise<void> {
    const { escapeIdentifier: id } = pg;
    await this.superuser('postgres', [`DROP DATABASE IF EXISTS ${id(this.dbname)} WITH (FORCE)`]).catch(
      () => undefined,
    );
    for (const role of [`${this.app}_clone`, this.app, this.adminUser]) {
      await this.superuser('postgres', [`DROP ROLE IF EXISTS ${id(role)}`]).catch(() => undefined);
    }
  }
}

/** A Secrets Manager client pointed at moto. */
export function motoSecretsClient(endpoint: string): SecretsManagerClient {
  const env = motoEnv(endpoint);
  return new SecretsManagerClient({
    endpoint,
    region: env['AWS_REGION'] ?? 'us-east-1',
    credentials: {
      accessKeyId: env['AWS_ACCESS_KEY_ID'] ?? '',
      secretAccessKey: env['AWS_SECRET_ACCESS_KEY'] ?? '',
    },
    maxAttempts: 2,
  });
}

/**
 * Clients that keep logging in with whatever value `read` returns (read afresh each time), a new
 * connection every few milliseconds, counting failures.
 */
export function loginLoad(read: () => Promise<DbSecret | string | undefined>, everyMs = 5, clients = 3) {
  let stopped = false;
  const stats = { attempts: 0, failures: 0, failedWith: [] as string[] };
  const loop = async (): Promise<void> => {
    while (!stopped) {
      const value = await read();
      stats.attempts += 1;
      if (!(await canLogIn(value))) {
        stats.failures += 1;
        const username =
          typeof value === 'string' ? (JSON.parse(value) as DbSecret).username : value?.username;
        stats.failedWith.push(String(username));
      }
      await new Promise((done) => setTimeout(done, everyMs));
    }
  };
  const loops = Array.from({ length: clients }, loop);
  return {
    stats,
    stop: async () => {
      stopped = true;
      await Promise.all(loops);
      return stats;
    },
  };
}

/** An HTTP transport over fetch with the shape the stores' Vault client takes, for tests that wrap it. */
export async function fetchSend(request: {
  url: URL;
  method?: string;
  headers?: Record<string, string>;
  body?: string;
}): Promise<{ status: number; headers: Record<string, string>; body: string }> {
  const response = await fetch(request.url, {
    method: request.method ?? 'GET',
    ...(request.headers === undefined ? {} : { headers: request.headers }),
    ...(request.body === undefined ? {} : { body: request.body }),
  });
  return { status: response.status, headers: {}, body: await response.text() };
}
