// The fetch benchmark case: keyfence's action-fetch against the approach of
// aws-secretsmanager-get-secrets (one GetSecretValue per secret, in sequence), both reading the
// same secrets from moto's Secrets Manager through one small HTTP proxy in this process. The
// proxy waits a fixed latency before forwarding each request (a stand-in for the round trip to
// AWS) and counts requests, per operation, and when the first one arrived.
//
// Both run as the runner runs a JavaScript action: `node <bundle>` with INPUT_* variables (every
// input of action.yml at its default, as the runner passes them), GITHUB_ENV / GITHUB_OUTPUT /
// GITHUB_STATE / GITHUB_STEP_SUMMARY files and RUNNER_TEMP, and static AWS keys in the
// environment (no role to assume, so no STS call; moto accepts any keys). Every run's GITHUB_ENV
// is checked to hold all the values. The baseline (fetch-baseline.mjs) is bundled with ncc first,
// as that action ships a bundle, so that start-up compares bundle with bundle.
//
// Measured per run: requests seen by the proxy, wall time from spawn to exit, and start-up (spawn
// to the proxy's first request).

import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { Agent, createServer, request as httpRequest } from 'node:http';
import { createRequire } from 'node:module';
import { createServer as createNetServer } from 'node:net';
import { dirname, join, relative, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as delay } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { capture, runLogged, tailOf, which } from './exec.mjs';
import { ALNUM, ByteSource } from './secrets.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
const REPO_ROOT = resolve(HERE, '..', '..');
const requireFromRepo = createRequire(join(REPO_ROOT, 'package.json'));

export const FETCH_SECRETS = 100;
export const FETCH_LATENCY_MS = 20;
const PREFIX = 'bench/fetch/';
const ACTION_MAIN = join(REPO_ROOT, 'action-fetch', 'dist', 'index.js');
const ACTION_YML = join(REPO_ROOT, 'action-fetch', 'action.yml');
const BASELINE_SRC = join(HERE, 'fetch-baseline.mjs');
const REGION = 'us-east-1';
const STARTUP_TARGET_MS = 300;
const REQUEST_RATIO_TARGET = 5;

// ---------------------------------------------------------------------------
// moto

function freePort() {
  return new Promise((res, rej) => {
    const server = createNetServer();
    server.unref();
    server.on('error', rej);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => res(port));
    });
  });
}

const canImportMoto = (python) =>
  spawnSync(python, ['-c', 'import moto.server, flask'], { stdio: 'ignore' }).status === 0;

/** A python that can run moto's server: python3 when it has moto[server], else a venv in the cache. */
async function motoPython(ctx) {
  const system = which('python3');
  if (!system) return { ok: false, reason: 'no python3 on PATH (moto runs on Python)' };
  if (canImportMoto(system)) return { ok: true, python: system };
  const venv = join(ctx.cacheDir, 'tools', 'venv-moto');
  const python = join(venv, 'bin', 'python');
  if (existsSync(python) && canImportMoto(python)) return { ok: true, python };
  if (!ctx.opts.install) return { ok: false, reason: 'moto[server] not installed and --no-install given' };
  const logFile = join(ctx.cacheDir, 'logs', 'install-moto.log');
  mkdirSync(dirname(logFile), { recursive: true });
  ctx.log(`fetch: installing moto[server] into ${venv}`);
  if (!existsSync(python)) {
    const v = await runLogged(system, ['-m', 'venv', venv], { logFile, timeoutSec: 300 });
    if (v.code !== 0) return { ok: false, reason: `python3 -m venv failed: ${v.tail.split('\n').pop()}` };
  }
  const r = await runLogged(
    join(venv, 'bin', 'pip'),
    ['install', '--disable-pip-version-check', '--no-input', '--quiet', 'moto[server]'],
    { logFile, timeoutSec: 600 },
  );
  if (r.code !== 0 || !canImportMoto(python))
    return { ok: false, reason: `pip install moto[server] failed: ${r.tail.split('\n').pop()}` };
  return { ok: true, python };
}

/** Starts `python -m moto.server` on a free port; resolves { endpoint, version, stop }. */
async function startMoto(ctx, python) {
  const port = await freePort();
  const endpoint = `http://127.0.0.1:${port}`;
  const logFile = join(ctx.cacheDir, 'logs', 'moto.log');
  const fd = openSync(logFile, 'w');
  const child = spawn(python, ['-m', 'moto.server', '-H', '127.0.0.1', '-p', String(port)], {
    stdio: ['ignore', fd, fd],
  });
  closeSync(fd);
  const exited = new Promise((res) => child.once('exit', res));
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    if ((await Promise.race([exited.then(() => true), delay(5000).then(() => false)])) === false) {
      child.kill('SIGKILL');
      await exited;
    }
  };
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`moto exited (${child.exitCode}): ${tailOf(logFile, 3)}`);
    try {
      const r = await fetch(`${endpoint}/moto-api/`, { signal: AbortSignal.timeout(2000) });
      await r.arrayBuffer();
      if (r.status === 200) {
        const version = capture(python, ['-c', 'import moto; print(moto.__version__)']) ?? '?';
        return { endpoint, version, stop };
      }
    } catch {
      // not up yet
    }
    await delay(150);
  }
  await stop();
  throw new Error(`moto did not answer within 60 s: ${tailOf(logFile, 3)}`);
}

// ---------------------------------------------------------------------------
// The counting proxy

function actionOf(headers, body) {
  const target = headers['x-amz-target'];
  if (typeof target === 'string') return target.split('.').pop();
  return new URLSearchParams(body).get('Action') ?? 'other';
}

/** A reverse proxy to target that waits latencyMs before forwarding each request and counts them. */
async function startProxy(target, latencyMs) {
  const upstream = new URL(target);
  const agent = new Agent({ keepAlive: true });
  const state = { requests: 0, first: null, last: null, byAction: {} };
  const server = createServer((req, res) => {
    const arrived = performance.now();
    state.requests++;
    state.first ??= arrived;
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', async () => {
      const body = Buffer.concat(chunks);
      const action = actionOf(req.headers, body.toString('utf8'));
      state.byAction[action] = (state.byAction[action] ?? 0) + 1;
      await delay(latencyMs);
      const forward = httpRequest(
        {
          host: upstream.hostname,
          port: upstream.port,
          method: req.method,
          path: req.url,
          headers: { ...req.headers, host: upstream.host },
          agent,
        },
        (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
          answer.on('end', () => {
            state.last = performance.now();
          });
        },
      );
      forward.on('error', (err) => {
        res.writeHead(502);
        res.end(String(err));
      });
      forward.end(body);
    });
  });
  await new Promise((res) => server.listen(0, '127.0.0.1', res));
  return {
    endpoint: `http://127.0.0.1:${server.address().port}`,
    state,
    reset() {
      state.requests = 0;
      state.first = null;
      state.last = null;
      state.byAction = {};
    },
    stop: () =>
      new Promise((res) => {
        server.closeAllConnections();
        server.close(() => res());
        agent.destroy();
      }),
  };
}

// ---------------------------------------------------------------------------
// Seeding, bundling, steps

async function seedSecrets(endpoint, count, rng) {
  // The SDK's notice about future Node versions is noise in the harness output.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const { SecretsManagerClient, CreateSecretCommand, ListSecretsCommand } = requireFromRepo(
    '@aws-sdk/client-secrets-manager',
  );
  const client = new SecretsManagerClient({
    endpoint,
    region: REGION,
    credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
  });
  const values = {};
  for (let i = 1; i <= count; i++)
    values[`${PREFIX}app-${String(i).padStart(3, '0')}`] = rng.chars(ALNUM, 40);
  // A few secrets of another service, which a prefix must leave out.
  const others = {};
  for (let i = 1; i <= 20; i++)
    others[`bench/other/svc-${String(i).padStart(2, '0')}`] = rng.chars(ALNUM, 40);
  const all = Object.entries({ ...values, ...others });
  let next = 0;
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      while (next < all.length) {
        const [Name, SecretString] = all[next++];
        await client.send(new CreateSecretCommand({ Name, SecretString }));
      }
    }),
  );
  const listed = await client.send(new ListSecretsCommand({ MaxResults: 100 }));
  client.destroy();
  if (!listed.SecretList?.length) throw new Error('moto lists no secrets after seeding');
  return values;
}

/** Bundles fetch-baseline.mjs with ncc (as bundle-action.mjs does for the action) into the cache. */
async function bundleBaseline(ctx) {
  const source = readFileSync(BASELINE_SRC);
  const sdkVersion = requireFromRepo('@aws-sdk/client-secrets-manager/package.json').version;
  const key = createHash('sha256').update(source).update(`\0${sdkVersion}`).digest('hex').slice(0, 12);
  const dir = join(ctx.cacheDir, 'fetch', `baseline-${key}`);
  const file = join(dir, 'index.mjs');
  if (existsSync(file)) return { file, bundled: true };
  try {
    const ncc = requireFromRepo('@vercel/ncc');
    const { code } = await ncc(BASELINE_SRC, { cache: false, target: 'es2022', quiet: true });
    const tmp = `${dir}.tmp-${process.pid}`;
    rmSync(tmp, { recursive: true, force: true });
    mkdirSync(tmp, { recursive: true });
    writeFileSync(join(tmp, 'index.mjs'), code);
    rmSync(dir, { recursive: true, force: true });
    renameSync(tmp, dir);
    ctx.log(`fetch: bundled the baseline with ncc into ${file} (${(code.length / 1024).toFixed(0)} kB)`);
    return { file, bundled: true };
  } catch (err) {
    ctx.log(`fetch: ncc could not bundle the baseline (${err.message}); running it unbundled`);
    return { file: BASELINE_SRC, bundled: false };
  }
}

/** Every input of action.yml at its default, as the runner passes them. */
function actionInputDefaults() {
  const { parse } = requireFromRepo('yaml');
  const meta = parse(readFileSync(ACTION_YML, 'utf8'));
  return Object.fromEntries(
    Object.entries(meta.inputs ?? {}).map(([name, spec]) => [
      name,
      spec?.default === undefined ? '' : String(spec.default),
    ]),
  );
}

const inputEnv = (inputs) =>
  Object.fromEntries(
    Object.entries(inputs).map(([name, value]) => [`INPUT_${name.replace(/ /g, '_').toUpperCase()}`, value]),
  );

/** NAME=value lines and NAME<<DELIMITER heredocs, as the runner reads GITHUB_ENV. */
function parseFileCommands(text) {
  const result = {};
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (line === '') continue;
    const heredoc = /^([^=<]+)<<(.+)$/.exec(line);
    if (heredoc) {
      const end = lines.indexOf(heredoc[2], i + 1);
      if (end === -1) throw new Error(`heredoc for ${heredoc[1]} is not closed`);
      result[heredoc[1]] = lines.slice(i + 1, end).join('\n');
      i = end;
      continue;
    }
    const eq = line.indexOf('=');
    if (eq > 0) result[line.slice(0, eq)] = line.slice(eq + 1);
  }
  return result;
}

/** Runs one step (`node script`) through the proxy; resolves the measurement. */
async function runStep(ctx, proxy, { script, inputs, expected, label }) {
  const dir = join(ctx.cacheDir, 'fetch', 'step');
  rmSync(dir, { recursive: true, force: true });
  const runnerTemp = join(dir, 'runner-temp');
  mkdirSync(runnerTemp, { recursive: true });
  const files = {
    GITHUB_ENV: join(dir, 'github_env'),
    GITHUB_OUTPUT: join(dir, 'github_output'),
    GITHUB_STATE: join(dir, 'github_state'),
    GITHUB_STEP_SUMMARY: join(dir, 'step_summary.md'),
  };
  for (const f of Object.values(files)) writeFileSync(f, '');
  const env = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: process.env.HOME ?? '/tmp',
    LANG: 'C.UTF-8',
    GITHUB_ACTIONS: 'true',
    RUNNER_TEMP: runnerTemp,
    ...files,
    ...inputEnv({ ...actionInputDefaults(), ...inputs }),
    AWS_ENDPOINT_URL: proxy.endpoint,
    AWS_REGION: REGION,
    AWS_ACCESS_KEY_ID: 'testing',
    AWS_SECRET_ACCESS_KEY: 'testing',
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  };
  const logFile = join(dir, 'output.log');
  const fd = openSync(logFile, 'w');
  proxy.reset();
  const started = performance.now();
  const child = spawn(process.execPath, [script], { cwd: dir, env, stdio: ['ignore', fd, fd] });
  closeSync(fd);
  const code = await new Promise((res) => {
    child.once('error', () => res(-1));
    child.once('exit', (c, signal) => res(c ?? (signal ? 128 : -1)));
  });
  const ended = performance.now();
  const s = proxy.state;
  const run = {
    label,
    code,
    wallSec: (ended - started) / 1000,
    startupMs: s.first === null ? Number.NaN : s.first - started,
    requests: s.requests,
    byAction: { ...s.byAction },
  };
  const keep = join(ctx.cacheDir, 'results', 'fetch', `${label}.log`);
  mkdirSync(dirname(keep), { recursive: true });
  writeFileSync(keep, readFileSync(logFile));
  if (code !== 0)
    return { ...run, ok: false, reason: `exit ${code}: ${tailOf(logFile, 1) || 'no output'} [log: ${keep}]` };
  const exported = Object.values(parseFileCommands(readFileSync(files.GITHUB_ENV, 'utf8')));
  const have = new Set(exported);
  const missing = Object.values(expected).filter((v) => !have.has(v)).length;
  if (missing || exported.length !== Object.keys(expected).length) {
    return {
      ...run,
      ok: false,
      reason: `GITHUB_ENV holds ${exported.length} values, ${missing} of the ${Object.keys(expected).length} expected missing [log: ${keep}]`,
    };
  }
  return { ...run, ok: true };
}

// ---------------------------------------------------------------------------
// The case

function median(values) {
  const v = values.filter(Number.isFinite).sort((a, b) => a - b);
  if (v.length === 0) return Number.NaN;
  const mid = Math.floor(v.length / 2);
  return v.length % 2 ? v[mid] : (v[mid - 1] + v[mid]) / 2;
}

const fmt = (n, d = 1) => (Number.isFinite(n) ? n.toFixed(d) : 'n/a');

function keyfenceVersion() {
  try {
    const v = JSON.parse(readFileSync(join(REPO_ROOT, 'action-fetch', 'package.json'), 'utf8')).version;
    const sha = capture('git', ['-C', REPO_ROOT, 'rev-parse', '--short', 'HEAD']);
    const dirty = capture('git', ['-C', REPO_ROOT, 'status', '--porcelain', '--', 'action-fetch/dist']);
    return `${v}${sha ? ` (${sha}${dirty ? '+dirty' : ''})` : ''}`;
  } catch {
    return '?';
  }
}

/** Runs the case; resolves { body, summary }. */
export async function runFetchCase(ctx) {
  const { opts, log } = ctx;
  const count = opts.secrets ?? FETCH_SECRETS;
  const latencyMs = opts.latencyMs ?? FETCH_LATENCY_MS;
  const header = (extra) =>
    [
      `### Fetching ${count} secrets from AWS Secrets Manager (moto behind a proxy adding ${latencyMs} ms per request)`,
      '',
      `Machine: ${ctx.machine.nproc} CPUs (${ctx.machine.cpuModel}), ${fmt(ctx.machine.memGb, 0)} GiB RAM, ${ctx.machine.platform}, Node ${ctx.machine.node}. Measured ${ctx.date}, median of ${opts.runs} run${opts.runs === 1 ? '' : 's'}.`,
      '',
      ...extra,
    ].join('\n');
  if (!existsSync(ACTION_MAIN)) {
    const reason = `action-fetch/dist/index.js is missing (run \`npm run build\`)`;
    log(`fetch: SKIPPED: ${reason}`);
    return { body: header([`Not measured: ${reason}.`]), summary: { ok: false, reason } };
  }
  const py = await motoPython(ctx);
  if (!py.ok) {
    log(`fetch: SKIPPED: ${py.reason}`);
    return { body: header([`Not measured: ${py.reason}.`]), summary: { ok: false, reason: py.reason } };
  }
  mkdirSync(join(ctx.cacheDir, 'logs'), { recursive: true });
  const baseline = await bundleBaseline(ctx);
  const moto = await startMoto(ctx, py.python);
  let proxy;
  try {
    log(`fetch: moto ${moto.version} at ${moto.endpoint}; seeding ${count} secrets`);
    const rng = new ByteSource(opts.seed === null ? null : `fetch:${opts.seed}`);
    const expected = await seedSecrets(moto.endpoint, count, rng);
    const names = Object.keys(expected);
    proxy = await startProxy(moto.endpoint, latencyMs);
    log(`fetch: proxy at ${proxy.endpoint}, ${latencyMs} ms per request`);

    const scenarios = [
      { id: 'names', label: `${count} names, one a line`, secretIds: names.join('\n') },
      { id: 'prefix', label: `the prefix \`${PREFIX}*\``, secretIds: `${PREFIX}*` },
    ];
    const approaches = [
      {
        id: 'keyfence',
        label: 'keyfence action-fetch',
        script: ACTION_MAIN,
        inputs: (s) => ({ 'secret-ids': s.secretIds, destination: 'env' }),
      },
      {
        id: 'baseline',
        label: 'baseline: one GetSecretValue per secret, in sequence',
        script: baseline.file,
        inputs: (s) => ({ 'secret-ids': s.secretIds }),
      },
    ];

    // Untimed warm-up: page cache for both bundles, moto's first-request set-up.
    for (const a of approaches) {
      const w = await runStep(ctx, proxy, {
        script: a.script,
        inputs: a.inputs(scenarios[0]),
        expected,
        label: `${a.id}.warmup`,
      });
      if (!w.ok) log(`fetch: warm-up of ${a.id} failed: ${w.reason}`);
    }

    const results = {};
    for (const s of scenarios) {
      for (const a of approaches) results[`${s.id}:${a.id}`] = { runs: [], failure: null };
      for (let i = 0; i < opts.runs; i++) {
        // Alternate the order, so neither side always runs right after the other.
        const order = i % 2 ? [...approaches].reverse() : approaches;
        for (const a of order) {
          const r = results[`${s.id}:${a.id}`];
          if (r.failure) continue;
          const run = await runStep(ctx, proxy, {
            script: a.script,
            inputs: a.inputs(s),
            expected,
            label: `${s.id}-${a.id}`,
          });
          if (!run.ok) {
            r.failure = run.reason;
            log(`fetch: ${a.id} (${s.id}) FAILED: ${run.reason}`);
            continue;
          }
          r.runs.push(run);
          log(
            `  fetch ${s.id} ${a.id} run ${i + 1}/${opts.runs}: ${run.requests} requests, ${run.wallSec.toFixed(
              2,
            )} s, first request after ${fmt(run.startupMs, 0)} ms`,
          );
        }
      }
    }

    const summarize = (r) =>
      r.failure || r.runs.length === 0
        ? { ok: false, reason: r.failure ?? 'no run' }
        : {
            ok: true,
            requests: median(r.runs.map((x) => x.requests)),
            byAction: r.runs.at(-1).byAction,
            wallSec: median(r.runs.map((x) => x.wallSec)),
            wallRuns: r.runs.map((x) => x.wallSec),
            startupMs: median(r.runs.map((x) => x.startupMs)),
            startupRuns: r.runs.map((x) => x.startupMs),
          };
    const summary = { ok: true, latencyMs, secrets: count, moto: moto.version, scenarios: {} };
    const lines = [];
    lines.push(
      header([
        `Setup: moto ${moto.version} (\`python3 -m moto.server\` on 127.0.0.1) holds ${count} secrets \`${PREFIX}app-001\` … \`app-${String(
          count,
        ).padStart(
          3,
          '0',
        )}\` (40 random characters each) and 20 of another service. A proxy in the bench script stands in front of it: it waits ${latencyMs} ms before forwarding each request (a stand-in for the round trip to AWS) and counts the requests. Both sides run as the runner runs a JavaScript action, \`node <bundle>\` with every input of action.yml as \`INPUT_*\` (the runner passes defaults too), GITHUB_ENV / GITHUB_OUTPUT / GITHUB_STATE files, RUNNER_TEMP, \`AWS_ENDPOINT_URL\` set to the proxy and static AWS keys in the environment (no role to assume, so no STS call on either side); after every run all ${count} values must be in GITHUB_ENV.`,
        '',
        `- **keyfence**: the committed bundle \`action-fetch/dist/index.js\` ${keyfenceVersion()}, \`destination: env\`.`,
        `- **baseline**: what aws-secretsmanager-get-secrets does today, re-implemented in \`test/bench/fetch-baseline.mjs\` on the same AWS SDK (${requireFromRepo('@aws-sdk/client-secrets-manager/package.json').version}) and ${
          baseline.bundled ? 'bundled with ncc as that action is' : 'run unbundled (ncc failed)'
        }: a prefix is expanded with ListSecrets, then one GetSecretValue per secret, in sequence, each value masked and exported.`,
        '- **requests**: requests the proxy forwarded; **wall s**: spawn to exit; **start-up ms**: spawn to the first request at the proxy (Node start, loading the bundle, reading inputs).',
        '',
      ]),
    );
    lines.push('| secret-ids | approach | requests | requests by operation | wall s | start-up ms |');
    lines.push('| --- | --- | ---: | --- | ---: | ---: |');
    const notes = [];
    const varied = [];
    for (const s of scenarios) {
      const k = summarize(results[`${s.id}:keyfence`]);
      const b = summarize(results[`${s.id}:baseline`]);
      summary.scenarios[s.id] = {
        secretIds: s.id === 'names' ? `${count} names` : `${PREFIX}*`,
        keyfence: k,
        baseline: b,
      };
      for (const [a, r] of [
        [approaches[0], k],
        [approaches[1], b],
      ]) {
        if (!r.ok) {
          lines.push(`| ${s.label} | ${a.label} | - | - | - | - |`);
          notes.push(`- ${a.label} (${s.label}): not measured: ${r.reason}`);
          continue;
        }
        const ops = Object.entries(r.byAction)
          .map(([op, n]) => `${op} ${n}`)
          .join(', ');
        lines.push(
          `| ${s.label} | ${a.label} | ${r.requests} | ${ops} | ${fmt(r.wallSec, 2)} | ${fmt(r.startupMs, 0)} |`,
        );
      }
      if (k.ok && b.ok) {
        const reqRatio = b.requests / k.requests;
        const wallRatio = b.wallSec / k.wallSec;
        summary.scenarios[s.id].requestRatio = reqRatio;
        summary.scenarios[s.id].wallRatio = wallRatio;
        notes.push(
          `- ${s.label}: ${fmt(reqRatio, 1)}x fewer requests (baseline / keyfence; target at least ${REQUEST_RATIO_TARGET}x: ${
            reqRatio >= REQUEST_RATIO_TARGET ? 'met' : 'not met'
          }), wall time ${fmt(wallRatio, 1)}x (baseline / keyfence; target faster: ${wallRatio > 1 ? 'met' : 'not met'}), keyfence start-up ${fmt(
            k.startupMs,
            0,
          )} ms (target under ${STARTUP_TARGET_MS} ms: ${k.startupMs < STARTUP_TARGET_MS ? 'met' : 'not met'}).`,
        );
      }
      for (const [a, r] of [
        [approaches[0], k],
        [approaches[1], b],
      ]) {
        if (!r.ok || r.wallRuns.length < 2) continue;
        const range = (xs, d, unit) => {
          const lo = Math.min(...xs);
          const hi = Math.max(...xs);
          return hi > lo * 1.2 ? `${fmt(lo, d)}–${fmt(hi, d)} ${unit}` : null;
        };
        const parts = [range(r.wallRuns, 2, 's wall'), range(r.startupRuns, 0, 'ms start-up')].filter(
          Boolean,
        );
        if (parts.length) varied.push(`${a.id} (${s.id}) ${parts.join(', ')}`);
      }
    }
    if (varied.length) {
      notes.push(
        `- figures varied between runs (the machine is shared with other jobs, so they are noisy; the median is shown): ${varied.join('; ')}`,
      );
    }
    lines.push('', ...notes, '');
    lines.push('<details><summary>Commands</summary>', '');
    lines.push(
      `- keyfence: \`node action-fetch/dist/index.js\` with \`INPUT_SECRET-IDS\` and \`INPUT_DESTINATION=env\``,
      `- baseline: ${
        baseline.bundled
          ? `\`node <cache>/fetch/${relative(join(ctx.cacheDir, 'fetch'), dirname(baseline.file))}/index.mjs\` (ncc bundle of \`test/bench/fetch-baseline.mjs\`)`
          : '`node test/bench/fetch-baseline.mjs`'
      } with \`INPUT_SECRET-IDS\``,
      `- both: \`AWS_ENDPOINT_URL=<proxy> AWS_REGION=${REGION} AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing\`; \`npm run bench -- --cases fetch --runs ${opts.runs}\``,
      '',
      '</details>',
    );
    return { body: lines.join('\n'), summary };
  } finally {
    await proxy?.stop();
    await moto.stop();
  }
}
