#!/usr/bin/env node
// Starts the machine's PostgreSQL cluster (installing it with apt when missing), makes sure TCP logins
// on 127.0.0.1 use real password authentication (scram-sha-256 or md5), and creates a test superuser
// whose password is generated once and kept outside the repository. Idempotent: run it as often as you
// like, from several test files at once. Prints {"host","port","user","password"} as JSON.
//
//   node test/services/postgres.mjs          start (if needed) and print the connection
//   node test/services/postgres.mjs --stop   stop the cluster (only if this script's marker says it started it)

import { spawnSync } from 'node:child_process';
import { createHash, createHmac, pbkdf2Sync, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import pg from 'pg';

const TOOLS_DIR = process.env.KEYFENCE_SERVICES_DIR ?? join(homedir(), '.cache', 'keyfence-services');
const STATE_DIR = join(TOOLS_DIR, 'postgres');
const CREDENTIALS = join(STATE_DIR, 'superuser.json');
const STARTED_MARKER = join(STATE_DIR, 'started-by-keyfence');
const TEST_USER = 'keyfence_test';
const isRoot = process.getuid?.() === 0;

function run(command, args, options = {}) {
  const argv = isRoot || options.noSudo ? [command, ...args] : ['sudo', '-n', command, ...args];
  const result = spawnSync(argv[0], argv.slice(1), { encoding: 'utf8', ...options });
  return {
    ok: result.status === 0,
    stdout: result.stdout ?? '',
    stderr: `${result.stderr ?? ''}${result.error?.message ?? ''}`,
  };
}

function asPostgres(sql) {
  // SQL goes on stdin, so nothing secret lands in argv (visible in ps).
  const psql = ['psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', 'postgres', '-At'];
  const result = isRoot
    ? spawnSync('runuser', ['-u', 'postgres', '--', ...psql], { input: sql, encoding: 'utf8' })
    : spawnSync('sudo', ['-n', '-u', 'postgres', ...psql], { input: sql, encoding: 'utf8' });
  if (result.status !== 0)
    throw new Error(`psql as postgres failed: ${result.stderr || result.error?.message}`);
  return result.stdout.trim();
}

function clusters() {
  const listed = run('pg_lsclusters', ['--no-header'], { noSudo: true });
  if (!listed.ok) return [];
  return listed.stdout
    .split('\n')
    .map((line) => line.trim().split(/\s+/))
    .filter((fields) => fields.length >= 4)
    .map(([version, name, port, status]) => ({
      version,
      name,
      port: Number(port),
      online: status.startsWith('online'),
    }));
}

function install() {
  run('apt-get', ['update'], { stdio: 'ignore' });
  const installed = run('apt-get', ['install', '-y', '--no-install-recommends', 'postgresql'], {
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  });
  if (!installed.ok) throw new Error(`apt-get install postgresql failed: ${installed.stderr.slice(-1000)}`);
}

function pickCluster() {
  let found = clusters();
  if (found.length === 0) {
    install();
    found = clusters();
  }
  const cluster = found.find((c) => c.version === '15' && c.name === 'main') ?? found[0];
  if (cluster === undefined) throw new Error('no PostgreSQL cluster found after installing postgresql');
  return cluster;
}

async function start(cluster) {
  if (cluster.online) return;
  const started = run('pg_ctlcluster', [cluster.version, cluster.name, 'start']);
  // Another test file may have started it a moment ago: what counts is that it is online now.
  for (let i = 0; i < 50; i++) {
    const now = clusters().find((c) => c.version === cluster.version && c.name === cluster.name);
    if (now?.online) {
      mkdirSync(STATE_DIR, { recursive: true, mode: 0o700 });
      if (started.ok) writeFileSync(STARTED_MARKER, `${cluster.version} ${cluster.name}\n`);
      return;
    }
    await delay(200);
  }
  throw new Error(
    `pg_ctlcluster ${cluster.version} ${cluster.name} start failed: ${started.stderr.slice(-1000)}`,
  );
}

/** Makes sure TCP logins from 127.0.0.1 ask for a password (scram-sha-256 or md5), never trust. */
function ensurePasswordAuth() {
  const rules = asPostgres(
    "SELECT type || ' ' || coalesce(address, 'all') || ' ' || auth_method FROM pg_hba_file_rules WHERE error IS NULL AND type = 'host' AND 'all' = ANY(database) ORDER BY line_number",
  );
  const first = rules
    .split('\n')
    .find((line) => line.includes('127.0.0.1') || line.includes('all') || line.includes('0.0.0.0'));
  if (first !== undefined && /\b(scram-sha-256|md5)$/.test(first)) return;
  const hbaFile = asPostgres('SHOW hba_file');
  const current = readFileSync(hbaFile, 'utf8');
  // Prepended: the first matching line wins, so a later `trust` line can no longer take effect.
  writeFileSync(hbaFile, `host all all 127.0.0.1/32 scram-sha-256\n${current}`);
  asPostgres('SELECT pg_reload_conf()');
}

function scramVerifier(password) {
  const salt = randomBytes(16);
  const salted = pbkdf2Sync(password, salt, 4096, 32, 'sha256');
  const stored = createHash('sha256')
    .update(createHmac('sha256', salted).update('Client Key').digest())
    .digest();
  const server = createHmac('sha256', salted).update('Server Key').digest();
  return `SCRAM-SHA-256$4096:${salt.toString('base64')}$${stored.toString('base64')}:${server.toString('base64')}`;
}

function credentials() {
  mkdirSync(STATE_DIR, { recursive: true, mode: 0o700 });
  const fresh = { user: TEST_USER, password: randomBytes(18).toString('base64url') };
  try {
    // `wx`: the first concurrent caller writes, every other one reads what it wrote.
    writeFileSync(CREDENTIALS, JSON.stringify(fresh), { flag: 'wx', mode: 0o600 });
  } catch (error) {
    if (error.code !== 'EEXIST') throw error;
  }
  for (let i = 0; i < 20; i++) {
    try {
      return JSON.parse(readFileSync(CREDENTIALS, 'utf8'));
    } catch {
      spawnSync('sleep', ['0.05']);
    }
  }
  throw new Error(`unreadable ${CREDENTIALS}`);
}

async function canLogIn(port, user, password) {
  const client = new pg.Client({
    host: '127.0.0.1',
    port,
    user,
    password,
    database: 'postgres',
    connectionTimeoutMillis: 5_000,
  });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.query('SELECT 1');
    return { ok: true };
  } catch (error) {
    return { ok: false, code: error.code, message: error.message };
  } finally {
    await client.end().catch(() => undefined);
  }
}

export async function ensurePostgres() {
  const cluster = pickCluster();
  await start(cluster);
  ensurePasswordAuth();
  const { user, password } = credentials();
  const verifier = scramVerifier(password).replaceAll("'", "''");
  asPostgres(
    `DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '${user}') THEN CREATE ROLE ${user}; END IF; END $$;\n` +
      `ALTER ROLE ${user} WITH LOGIN SUPERUSER CREATEROLE PASSWORD '${verifier}';\n`,
  );
  const good = await canLogIn(cluster.port, user, password);
  if (!good.ok) throw new Error(`cannot log in as ${user} over TCP: ${good.message}`);
  const bad = await canLogIn(cluster.port, user, `${password}-wrong`);
  if (bad.ok)
    throw new Error('PostgreSQL accepted a wrong password: password authentication is not enforced');
  return { host: '127.0.0.1', port: cluster.port, user, password };
}

function stop() {
  if (!existsSync(STARTED_MARKER)) return;
  const [version, name] = readFileSync(STARTED_MARKER, 'utf8').trim().split(' ');
  run('pg_ctlcluster', [version, name, 'stop']);
  rmSync(STARTED_MARKER, { force: true });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  try {
    if (process.argv.includes('--stop')) stop();
    else process.stdout.write(`${JSON.stringify(await ensurePostgres())}\n`);
  } catch (error) {
    process.stderr.write(`postgres: ${error.message}\n`);
    process.exitCode = 1;
  }
}
