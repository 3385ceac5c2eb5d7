// Builds the git-history benchmark repository outside the repository:
//   <cache>/history-<hash>/
//     repo/           a non-bare repository with no checkout (only .git): several thousand
//                     commits of real code (text files from the corpus source, under lib/),
//                     a small application (config files, clients) that secrets are committed
//                     into, three branches, two of them merged
//     warm/           the same generator at 80 commits, for the untimed warm-up run
//     manifest.json   planted secrets: format, commit, file, line (never the values)
//
// The history is written with one `git fast-import` process (no per-commit git call) and
// repacked once, like a fresh clone. Commits, branches, edits and where secrets go are drawn
// from a PRNG seeded with the generator version and --seed, so the shape is the same on every
// machine with the same source files; the secret values are random unless --seed is given.
// The repository is reused while generator version, seed, commit count and source file list
// are unchanged.

import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  writeSync,
} from 'node:fs';
import { join, sep } from 'node:path';
import { listSourceFiles, pruneStaleBuilds } from './corpus.mjs';
import { ByteSource, FORMATS } from './secrets.mjs';

export const HISTORY_GENERATOR_VERSION = 3;
export const HISTORY_COMMITS = 5000;
const WARM_COMMITS = 80;
const MANIFEST_NAME = 'manifest.json';
const VENDOR_DIR = 'lib';
const START_TIME = 1_609_750_800; // 2021-01-04T09:00:00Z

// Source files taken as repository content: text code and docs, not minified, not huge.
const SOURCE_EXT = /\.(?:[cm]?js|[cm]?ts|jsx|tsx|md|json|ya?ml|css)$/;
const SOURCE_SKIP =
  /(?:^|\/)(?:package-lock\.json|npm-shrinkwrap\.json|yarn\.lock|pnpm-lock\.yaml)$|\.min\.|\.map$/;
const SAFE_PATH = /^[A-Za-z0-9._@+/-]+$/;
const MIN_SOURCE_BYTES = 1500;
const MAX_SOURCE_BYTES = 24_000;
const MAX_LINE = 200;

// ---------------------------------------------------------------------------
// Deterministic PRNG (sfc32) for everything except secret values.

export class Prng {
  constructor(text) {
    const h = createHash('sha256').update(text).digest();
    this.s = [h.readUInt32LE(0), h.readUInt32LE(4), h.readUInt32LE(8), h.readUInt32LE(12)];
    for (let i = 0; i < 16; i++) this.next();
  }

  next() {
    let [a, b, c, d] = this.s;
    const t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) | 0;
    this.s = [a, b, c, d];
    return (t >>> 0) / 4294967296;
  }

  int(n) {
    return Math.floor(this.next() * n);
  }

  /** Integer in [lo, hi]. */
  range(lo, hi) {
    return lo + this.int(hi - lo + 1);
  }

  chance(p) {
    return this.next() < p;
  }

  pick(list) {
    return list[this.int(list.length)];
  }

  shuffle(list) {
    for (let i = list.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      [list[i], list[j]] = [list[j], list[i]];
    }
    return list;
  }
}

// ---------------------------------------------------------------------------
// Source files

function sourceCandidates(sourceDir) {
  const { files } = listSourceFiles(sourceDir);
  return files
    .map((f) => ({ ...f, rel: f.rel.split(sep).join('/') }))
    .filter(
      (f) =>
        SOURCE_EXT.test(f.rel) &&
        !SOURCE_SKIP.test(f.rel) &&
        !/(?:^|\/)\./.test(f.rel) && // tool caches (.vite, .cache) and .package-lock.json change often
        SAFE_PATH.test(f.rel) &&
        f.size >= MIN_SOURCE_BYTES &&
        f.size <= MAX_SOURCE_BYTES,
    );
}

/** Reads candidates in PRNG order until `want` usable text files are found. */
function pickSources(candidates, rng, want) {
  const order = rng.shuffle(candidates.slice());
  const picked = [];
  for (const f of order) {
    if (picked.length >= want) break;
    let text;
    try {
      text = readFileSync(f.abs, 'utf8');
    } catch {
      continue;
    }
    if (text.includes('\0')) continue;
    const lines = text.replace(/\r\n/g, '\n').split('\n');
    if (lines[lines.length - 1] === '') lines.pop();
    if (lines.length < 30 || lines.some((l) => l.length > MAX_LINE)) continue;
    picked.push({ rel: f.rel, lines });
  }
  return picked;
}

const vendorPath = (rel) =>
  `${VENDOR_DIR}/${rel
    .split('/')
    .map((s) => (s === 'node_modules' ? 'deps' : s))
    .join('/')}`;

// ---------------------------------------------------------------------------
// The application files secrets are committed into. Each has a dialect that renders
// entries (key = value lines) between a fixed head and tail.

const WORDS = ['checkout', 'invoices', 'search', 'exports', 'webhooks', 'audit', 'reports', 'cache', 'queue'];

const camel = (env) => env.toLowerCase().replace(/_([a-z0-9])/g, (_, c) => c.toUpperCase());

const DIALECTS = {
  env: {
    head: ['# billing-service production settings', 'NODE_ENV=production', 'PORT=8080', 'LOG_LEVEL=info'],
    tail: ['FEATURE_FLAGS=checkout-v2,async-invoices'],
    secret: ({ env: e, value: v }) => `${e}=${v}`,
    fromEnv: () => null,
    plain: (e, v) => `${e}=${v}`,
  },
  yaml: {
    head: ['service:', '  name: billing', '  region: eu-west-1', '  replicas: 3', 'settings:'],
    tail: ['logging:', '  level: info', '  format: json'],
    secret: ({ env: e, value: v }) => `  ${e.toLowerCase()}: "${v}"`,
    fromEnv: ({ env: e }) => `  ${e.toLowerCase()}: "\${${e.toUpperCase()}}"`,
    plain: (e, v) => `  ${e.toLowerCase()}: ${v}`,
  },
  ts: {
    head: [
      "import { z } from 'zod';",
      '',
      'export const SettingsSchema = z.object({',
      '  region: z.string(),',
      '  retries: z.number().int().min(0),',
      '});',
      '',
      'export const settings = {',
      "  region: 'eu-west-1',",
    ],
    tail: ['} as const;', '', 'export type Settings = typeof settings;'],
    secret: ({ name, value: v }) => `  ${name}: '${v}',`,
    fromEnv: ({ env: e, name }) => `  ${name}: process.env.${e.toUpperCase()} ?? '',`,
    plain: (e, v) => `  ${camel(e)}: ${v},`,
  },
  js: {
    head: ["'use strict';", '', "const https = require('node:https');", '', '// Service credentials.'],
    tail: [
      '',
      'function createClient(baseUrl, token) {',
      '  return {',
      '    baseUrl,',
      "    headers: { Authorization: 'Bearer ' + token, 'User-Agent': 'orders-service/2.3.1' },",
      '    request(path) {',
      '      return new Promise((resolve, reject) => {',
      "        https.get(new URL(path, baseUrl), { headers: this.headers }, resolve).on('error', reject);",
      '      });',
      '    },',
      '  };',
      '}',
      '',
      'module.exports = { createClient };',
    ],
    secret: ({ name, value: v }) => `const ${name} = "${v}";`,
    fromEnv: ({ env: e, name }) => `const ${name} = process.env.${e.toUpperCase()};`,
    plain: (e, v) => `const ${camel(e)} = ${v};`,
  },
  py: {
    head: [
      '"""Runtime configuration for the billing worker."""',
      '',
      'import os',
      '',
      'DEBUG = os.environ.get("DEBUG", "0") == "1"',
    ],
    tail: ['', '', 'def auth_headers(token):', '    return {"Authorization": f"Bearer {token}"}'],
    secret: ({ env: e, value: v }) => `${e.toUpperCase()} = "${v}"`,
    fromEnv: ({ env: e }) => `${e.toUpperCase()} = os.environ["${e.toUpperCase()}"]`,
    plain: (e, v) => `${e.toUpperCase()} = ${v === 'true' ? 'True' : v === 'false' ? 'False' : v}`,
  },
  properties: {
    head: [
      'spring.application.name=billing',
      'server.port=8080',
      'management.endpoints.web.exposure.include=health,info',
    ],
    tail: ['logging.level.root=INFO'],
    secret: ({ env: e, value: v }) => `${e.toLowerCase().replace(/_/g, '.')}=${v}`,
    fromEnv: ({ env: e }) => `${e.toLowerCase().replace(/_/g, '.')}=\${${e.toUpperCase()}}`,
    plain: (e, v) => `${e.toLowerCase().replace(/_/g, '.')}=${v}`,
  },
  compose: {
    head: [
      'services:',
      '  api:',
      '    image: registry.example-corp.io/billing/api:2.3.1',
      '    environment:',
    ],
    tail: [
      '    ports:',
      '      - "8080:8080"',
      '  worker:',
      '    image: registry.example-corp.io/billing/worker:2.3.1',
    ],
    secret: ({ env: e, value: v }) => `      ${e.toUpperCase()}: "${v}"`,
    fromEnv: ({ env: e }) => `      ${e.toUpperCase()}: "\${${e.toUpperCase()}}"`,
    plain: (e, v) => `      ${e.toUpperCase()}: "${v}"`,
  },
  sh: {
    head: ['#!/usr/bin/env bash', 'set -euo pipefail', '', 'cd "$(dirname "$0")/.."'],
    tail: ['', 'npm ci', 'npm run build', 'npm publish --access public'],
    secret: ({ env: e, value: v }) => `export ${e.toUpperCase()}="${v}"`,
    fromEnv: () => null,
    plain: (e, v) => `export ${e.toUpperCase()}="${v}"`,
  },
};

// Application files on main (created in the first commits) and on the branches.
const MAIN_APP_FILES = [
  { path: '.env.production', dialect: 'env' },
  { path: 'config/production.yaml', dialect: 'yaml' },
  { path: 'app/settings.ts', dialect: 'ts' },
  { path: 'app/clients.js', dialect: 'js' },
  { path: 'worker/settings.py', dialect: 'py' },
  { path: 'config/application.properties', dialect: 'properties' },
  { path: 'deploy/docker-compose.yml', dialect: 'compose' },
  { path: 'scripts/release.sh', dialect: 'sh' },
];

// Branches: a window of the history (fractions of the commit count), the share of the
// commits in that window that go to the branch, whether it is merged back at the end of the
// window, the application file it adds, and the formats planted on it.
const BRANCHES = [
  {
    name: 'feature/billing-v2',
    start: 0.28,
    end: 0.42,
    share: 0.3,
    merge: true,
    app: { path: 'services/billing-v2/config.py', dialect: 'py' },
    formats: ['postgres-uri', 'sendgrid-api-key'],
  },
  {
    name: 'feature/search-index',
    start: 0.6,
    end: 0.7,
    share: 0.35,
    merge: true,
    app: { path: 'services/search/.env', dialect: 'env' },
    formats: ['slack-webhook'],
  },
  {
    name: 'experiment/legacy-auth',
    start: 0.86,
    end: 1,
    share: 0.12,
    merge: false,
    app: { path: 'legacy/auth/keys.js', dialect: 'js' },
    formats: ['jwt', 'github-fine-grained-pat'],
  },
];

// Formats planted a second time (with a new value) on main, so that ~30 secrets exist.
const EXTRA_FORMATS = [
  'github-classic-pat',
  'stripe-live-secret',
  'aws-access-key',
  'google-api-key',
  'npm-token',
];
// The secret committed twice (same value, a later commit, another file).
const TWICE_FORMAT = 'github-classic-pat';
const PEM_PATHS = {
  'rsa-private-key': 'deploy/certs/api-server.key',
  'openssh-private-key': 'deploy/ssh/deploy_ed25519',
};

const AUTHORS = [
  'Maria Lopez <maria.lopez@example-corp.io>',
  'Kenji Watanabe <kenji.watanabe@example-corp.io>',
  'Aisha Bello <aisha.bello@example-corp.io>',
  'Tom Becker <tom.becker@example-corp.io>',
  'Priya Raman <priya.raman@example-corp.io>',
  'Lars Nilsson <lars.nilsson@example-corp.io>',
];
const CC_TYPES = ['fix', 'feat', 'refactor', 'chore', 'perf', 'docs', 'test'];
const VERBS = [
  'handle',
  'simplify',
  'update',
  'clean up',
  'speed up',
  'rework',
  'tidy',
  'guard against',
  'document',
];
const OBJECTS = [
  'empty input',
  'error paths',
  'option parsing',
  'edge cases',
  'the cache',
  'type exports',
  'retries',
  'unicode names',
  'the public API',
  'stream handling',
];

/** Entries of a secret: one per line it takes (AWS: key id + secret key). */
function secretItems(format, value) {
  if (format.kind === 'aws') {
    return [
      { env: 'AWS_ACCESS_KEY_ID', name: 'awsAccessKeyId', value: value.id },
      { env: 'AWS_SECRET_ACCESS_KEY', name: 'awsSecretAccessKey', value: value.secret },
    ];
  }
  return [{ env: format.env, name: format.name, value }];
}

// ---------------------------------------------------------------------------
// Line edits of real code

function donorBlock(rng, donors, max = 30) {
  const d = rng.pick(donors);
  const n = rng.range(1, max);
  const s = rng.int(Math.max(1, d.length - n));
  return d.slice(s, s + n);
}

function editLines(lines, rng, donors, maxLines) {
  const out = lines.slice();
  let k = rng.next();
  if (out.length > maxLines) k = 0.7 + 0.3 * k;
  if (k < 0.25) {
    out.push(...donorBlock(rng, donors));
  } else if (k < 0.45) {
    out.splice(rng.int(out.length + 1), 0, ...donorBlock(rng, donors));
  } else if (k < 0.6) {
    // change a number somewhere (a constant, a limit, a version)
    const start = rng.int(out.length);
    for (let i = 0; i < Math.min(60, out.length); i++) {
      const j = (start + i) % out.length;
      if (/\d/.test(out[j])) {
        out[j] = out[j].replace(/\d+/, (m) => String((Number(m.slice(0, 6)) + rng.range(1, 9)) % 1000));
        return out;
      }
    }
    out.splice(rng.int(out.length + 1), 0, ...donorBlock(rng, donors));
  } else if (k < 0.85 || out.length < 20) {
    out.splice(rng.int(out.length), rng.range(1, 10), ...donorBlock(rng, donors, 16));
  } else {
    const n = rng.range(1, 8);
    out.splice(rng.int(out.length - n), n);
  }
  return out;
}

// ---------------------------------------------------------------------------
// History generation

class Stream {
  constructor(file) {
    this.fd = openSync(file, 'w');
    this.chunks = [];
    this.size = 0;
  }

  write(s) {
    const b = typeof s === 'string' ? Buffer.from(s, 'utf8') : s;
    this.chunks.push(b);
    this.size += b.length;
    if (this.size > 8 * 1024 * 1024) this.flush();
  }

  data(text) {
    const b = Buffer.from(text, 'utf8');
    this.write(`data ${b.length}\n`);
    this.write(b);
    this.write('\n');
  }

  flush() {
    if (this.chunks.length) writeSync(this.fd, Buffer.concat(this.chunks));
    this.chunks = [];
    this.size = 0;
  }

  close() {
    this.flush();
    closeSync(this.fd);
  }
}

const render = (lines) => `${lines.join('\n')}\n`;

/**
 * Plans and writes the fast-import stream. Returns the plan: secrets (with values, kept in
 * memory only), branch tips and statistics.
 */
function generate({ streamFile, sources, donorFiles, commits: T, rng, secretRng }) {
  const out = new Stream(streamFile);
  const donors = donorFiles.map((d) => d.lines);

  // --- schedule: which branch each commit goes to
  const branches = BRANCHES.map((b) => ({
    ...b,
    startSlot: Math.round(b.start * T),
    endSlot: b.merge ? Math.round(b.end * T) : T,
    slots: [],
  }));
  const slots = [{ branch: 'main', kind: 'initial', ops: [] }];
  for (let i = 1; i < T; i++) {
    const merging = branches.find((b) => b.merge && b.endSlot === i);
    if (merging) {
      slots.push({ branch: 'main', kind: 'merge', merges: merging.name, ops: [] });
      continue;
    }
    const active = branches.find((b) => i > b.startSlot && i < b.endSlot);
    const onBranch = active && (i === active.startSlot + 1 || rng.chance(active.share));
    slots.push({ branch: onBranch ? active.name : 'main', kind: 'normal', ops: [] });
    if (onBranch) active.slots.push(i);
  }
  // Small histories (the warm-up repository) still need room for each branch's plants.
  for (const b of branches) {
    for (let i = b.startSlot + 2; b.slots.length < b.formats.length + 2 && i < b.endSlot; i++) {
      if (slots[i].branch === 'main' && slots[i].kind === 'normal') {
        slots[i].branch = b.name;
        b.slots.push(i);
      }
    }
    b.slots.sort((x, y) => x - y);
  }
  const mainSlots = slots
    .map((s, i) => (s.branch === 'main' && s.kind === 'normal' ? i : -1))
    .filter((i) => i > 0);

  // --- application files on main, created in the first main commits
  const firstMain = mainSlots.slice(0, MAIN_APP_FILES.length);
  MAIN_APP_FILES.forEach((f, i) => {
    slots[firstMain[i]].ops.push({ type: 'createApp', app: f });
  });
  for (const b of branches) slots[b.slots[0]].ops.push({ type: 'createApp', app: b.app });

  // --- secrets
  const missingFormats = [];
  const secrets = [];
  const byId = new Map(FORMATS.map((f) => [f.id, f]));
  const newSecret = (format, branch) => {
    const value = format.gen(secretRng);
    if (value === null || value === undefined) {
      if (!missingFormats.some((m) => m.format === format.id))
        missingFormats.push({ format: format.id, reason: 'generator unavailable on this machine' });
      return null;
    }
    const s = {
      id: `s${String(secrets.length + 1).padStart(2, '0')}`,
      format: format.id,
      label: format.label,
      branch,
      items: format.kind === 'pem' ? null : secretItems(format, value),
      pem: format.kind === 'pem' ? value : null,
      occurrences: [],
      removed: null,
    };
    secrets.push(s);
    return s;
  };
  const branchFormats = new Set(branches.flatMap((b) => b.formats));
  const mainSecrets = [];
  for (const f of FORMATS) {
    if (branchFormats.has(f.id)) continue;
    const s = newSecret(f, 'main');
    if (s) mainSecrets.push(s);
  }
  for (const id of EXTRA_FORMATS) {
    const s = newSecret(byId.get(id), 'main');
    if (s) mainSecrets.push(s);
  }
  // main plants: one per stratum of the main commits after the app files exist
  const plantable = mainSlots.filter((i) => i > firstMain[firstMain.length - 1]);
  const used = new Set();
  const takeSlot = (list, lo, hi) => {
    const inRange = list.filter((i) => i >= lo && i < hi && !used.has(i));
    const pool = inRange.length ? inRange : list.filter((i) => i >= lo && !used.has(i));
    if (!pool.length) throw new Error('history generator: no free commit for a planted secret');
    const slot = rng.pick(pool);
    used.add(slot);
    return slot;
  };
  const stratum = plantable.length / (mainSecrets.length + 1);
  let appIndex = 0;
  mainSecrets.forEach((s, i) => {
    const lo = plantable[Math.floor(i * stratum)];
    const hi = plantable[Math.min(plantable.length - 1, Math.floor((i + 1) * stratum))];
    const slot = takeSlot(plantable, lo, hi);
    const app = s.pem ? null : MAIN_APP_FILES[appIndex++ % MAIN_APP_FILES.length];
    slots[slot].ops.push({ type: 'plant', secret: s, app, file: s.pem ? PEM_PATHS[s.format] : app.path });
  });
  for (const b of branches) {
    const free = b.slots.slice(1);
    for (const id of b.formats) {
      const s = newSecret(byId.get(id), b.name);
      if (!s) continue;
      const slot = takeSlot(free, free[0], free[free.length - 1] + 1);
      slots[slot].ops.push({ type: 'plant', secret: s, app: b.app, file: b.app.path });
    }
  }
  // every third main secret is removed again later on main (it stays in history)
  const plantSlot = new Map();
  slots.forEach((sl, i) => {
    for (const op of sl.ops) if (op.type === 'plant') plantSlot.set(op.secret, i);
  });
  const twice = mainSecrets.find((s) => s.format === TWICE_FORMAT);
  mainSecrets.forEach((s, i) => {
    if (i % 3 !== 1 || s === twice) return;
    const from = plantSlot.get(s);
    const target = from + rng.range(Math.ceil(T / 250), Math.ceil(T / 8));
    const slot = takeSlot(mainSlots, Math.min(target, mainSlots[mainSlots.length - 1]), T);
    slots[slot].ops.push({ type: 'remove', secret: s });
  });
  // the secret committed twice: copied into release.sh (or another file) much later
  if (twice) {
    const from = plantSlot.get(twice);
    const firstOp = slots[from].ops.find((o) => o.secret === twice);
    const others = MAIN_APP_FILES.filter((a) => a.path !== firstOp.file);
    const app = others.find((a) => a.dialect === 'sh') ?? others[0];
    const slot = takeSlot(mainSlots, Math.min(from + Math.ceil(T / 4), mainSlots[mainSlots.length - 1]), T);
    slots[slot].ops.push({ type: 'plant', secret: twice, app, file: app.path, again: true });
  }
  // harmless configuration edits to the application files now and then
  for (const i of mainSlots) {
    if (i > firstMain[firstMain.length - 1] && rng.chance(0.02))
      slots[i].ops.push({ type: 'harmless', app: rng.pick(MAIN_APP_FILES) });
  }

  // --- state
  const apps = new Map(); // path -> { dialect, entries: [{ key, lines }] }
  const appLines = (path) => {
    const a = apps.get(path);
    const d = DIALECTS[a.dialect];
    return [...d.head, ...a.entries.flatMap((e) => e.lines), ...d.tail];
  };
  const main = { name: 'main', files: new Map(), tip: 0, touched: null };
  const heads = new Map([['main', main]]);
  const reserved = new Set(); // vendor paths owned by a branch that will be merged
  let donorIndex = 0;
  let time = START_TIME;
  const stats = { edits: 0, added: 0, deleted: 0, renamed: 0 };

  const vendorOf = (state) => [...state.files.keys()].filter((p) => p.startsWith(`${VENDOR_DIR}/`));
  const nextDonorFile = () => (donorIndex < donorFiles.length ? donorFiles[donorIndex++] : null);
  const maxLinesOf = new Map();

  for (let i = 0; i < T; i++) {
    const slot = slots[i];
    const rngMsg = [];
    let state = heads.get(slot.branch);
    if (!state) {
      // first commit of a branch: fork main's state
      const b = branches.find((x) => x.name === slot.branch);
      state = { name: b.name, files: new Map(main.files), tip: main.tip, touched: new Set(), def: b };
      if (b.merge) {
        const pool = rng.shuffle(vendorOf(main).filter((p) => !reserved.has(p)));
        state.own = pool.slice(0, Math.max(8, Math.min(30, Math.floor(pool.length / 10))));
        for (const p of state.own) reserved.add(p);
      } else {
        state.own = rng.shuffle(vendorOf(main)).slice(0, 20);
      }
      heads.set(b.name, state);
    }
    const changes = new Map(); // path -> content | null
    const set = (path, lines) => {
      state.files.set(path, lines);
      changes.set(path, lines);
      state.touched?.add(path);
    };
    const del = (path) => {
      state.files.delete(path);
      changes.set(path, null);
      state.touched?.add(path);
    };
    let merge = null;

    if (slot.kind === 'initial') {
      for (const s of sources) {
        const path = vendorPath(s.rel);
        set(path, s.lines);
        maxLinesOf.set(path, Math.max(100, s.lines.length * 2));
      }
      rngMsg.push('Initial import');
    } else if (slot.kind === 'merge') {
      const b = heads.get(slot.merges);
      for (const p of b.touched) {
        if (b.files.has(p)) set(p, b.files.get(p));
        else if (main.files.has(p)) del(p);
      }
      for (const p of b.own) reserved.delete(p);
      merge = b.tip;
      rngMsg.push(`Merge branch '${slot.merges}'`);
    } else {
      const ops = slot.ops;
      for (const op of ops) {
        if (op.type === 'createApp') {
          const d = DIALECTS[op.app.dialect];
          const entries = [];
          for (let n = 0; n < 3; n++) {
            const key = `${rng.pick(WORDS).toUpperCase()}_${rng.pick(['TIMEOUT_MS', 'RETRIES', 'BATCH_SIZE'])}`;
            if (entries.some((e) => e.key === key)) continue;
            entries.push({ key, lines: [d.plain(key, String(rng.range(1, 50) * 10))] });
          }
          apps.set(op.app.path, { dialect: op.app.dialect, entries });
          set(op.app.path, appLines(op.app.path));
          rngMsg.push(`chore: add ${op.app.path}`);
        } else if (op.type === 'harmless') {
          const a = apps.get(op.app.path);
          const d = DIALECTS[a.dialect];
          const key = `${rng.pick(WORDS).toUpperCase()}_${rng.pick(['TIMEOUT_MS', 'RETRIES', 'BATCH_SIZE', 'ENABLED'])}`;
          const value = key.endsWith('ENABLED') ? rng.pick(['true', 'false']) : String(rng.range(1, 50) * 10);
          const entry = { key, lines: [d.plain(key, value)] };
          const at = a.entries.findIndex((e) => e.key === key);
          if (at >= 0) a.entries[at] = entry;
          else a.entries.splice(rng.int(a.entries.length + 1), 0, entry);
          set(op.app.path, appLines(op.app.path));
          rngMsg.push(`config: tune ${key.toLowerCase()}`);
        } else if (op.type === 'plant') {
          const s = op.secret;
          let line;
          if (s.pem) {
            set(op.file, s.pem.split('\n'));
            line = 1;
          } else {
            const a = apps.get(op.app.path);
            const d = DIALECTS[a.dialect];
            const entry = {
              key: `secret:${s.id}:${op.again ? 2 : 1}`,
              lines: s.items.map((it) => d.secret(it)),
            };
            const at = rng.int(a.entries.length + 1);
            a.entries.splice(at, 0, entry);
            const lines = appLines(op.app.path);
            set(op.app.path, lines);
            line =
              DIALECTS[a.dialect].head.length +
              a.entries.slice(0, at).reduce((n, e) => n + e.lines.length, 0) +
              1;
          }
          s.occurrences.push({ file: op.file, slot: i, branch: slot.branch, line, again: !!op.again });
          rngMsg.push(
            op.again
              ? `ci: use the release token in ${op.file.split('/').pop()}`
              : `chore(config): add ${s.items ? s.items[0].env.toLowerCase() : 'key'} for ${rng.pick(['staging', 'production', 'the nightly job'])}`,
          );
        } else if (op.type === 'remove') {
          const s = op.secret;
          const occ = s.occurrences[0];
          if (s.pem) {
            del(occ.file);
          } else {
            const path = occ.file;
            const a = apps.get(path);
            const d = DIALECTS[a.dialect];
            const at = a.entries.findIndex((e) => e.key === `secret:${s.id}:1`);
            const replaced = s.items.map((it) => d.fromEnv(it)).filter((l) => l !== null);
            if (replaced.length) a.entries[at] = { key: `env:${s.id}`, lines: replaced };
            else a.entries.splice(at, 1);
            set(path, appLines(path));
          }
          s.removed = { file: occ.file, slot: i };
          rngMsg.push(
            `security: move ${s.items ? s.items[0].env.toLowerCase() : 'the key'} to the secret store`,
          );
        }
      }
      // ordinary work on real code: 1-3 hunks in each of 1-5 files
      const editFile = (lines, path) => {
        let out = lines;
        for (let h = rng.range(1, 3); h > 0; h--)
          out = editLines(out, rng, donors, maxLinesOf.get(path) ?? 400);
        return out;
      };
      const own = state.own ?? vendorOf(state).filter((p) => !reserved.has(p));
      const edits = ops.length ? rng.range(0, 2) : rng.range(1, 5);
      for (let e = 0; e < edits; e++) {
        const path = rng.pick(own);
        if (!state.files.has(path)) continue;
        set(path, editFile(state.files.get(path), path));
        stats.edits++;
      }
      if (!ops.length && rng.chance(0.012)) {
        const d = nextDonorFile();
        if (d) {
          const path = vendorPath(`${d.rel.replace(/\.(\w+)$/, '')}.v2.${d.rel.split('.').pop()}`);
          if (!state.files.has(path)) {
            set(path, d.lines);
            maxLinesOf.set(path, Math.max(100, d.lines.length * 2));
            state.own?.push(path);
            stats.added++;
          }
        }
      }
      if (slot.branch === 'main' && !ops.length && rng.chance(0.004)) {
        const path = rng.pick(own);
        if (state.files.has(path) && own.length > 20) {
          if (rng.chance(0.5)) {
            const to = path.replace(/\/([^/]+)$/, '/legacy/$1');
            if (!state.files.has(to)) {
              set(to, state.files.get(path));
              maxLinesOf.set(to, maxLinesOf.get(path));
              del(path);
              stats.renamed++;
            }
          } else {
            del(path);
            stats.deleted++;
          }
        }
      }
      if (changes.size === 0) {
        const path = rng.pick(own);
        set(path, editFile(state.files.get(path), path));
        stats.edits++;
      }
      if (!rngMsg.length) {
        const first = [...changes.keys()][0].split('/');
        const area = first[0] === VENDOR_DIR ? first[1].replace(/^@/, '') : first[0];
        rngMsg.push(`${rng.pick(CC_TYPES)}(${area}): ${rng.pick(VERBS)} ${rng.pick(OBJECTS)}`);
      }
    }

    // --- emit the commit
    time += rng.range(300, 36_000);
    const who = rng.pick(AUTHORS);
    const mark = i + 1;
    out.write(`commit refs/heads/${slot.branch}\nmark :${mark}\n`);
    out.write(`author ${who} ${time} +0000\ncommitter ${who} ${time} +0000\n`);
    out.data(`${rngMsg.join('\n\n')}\n`);
    if (state.tip) out.write(`from :${state.tip}\n`);
    if (merge) out.write(`merge :${merge}\n`);
    for (const [path, lines] of changes) {
      if (lines === null) out.write(`D ${path}\n`);
      else {
        out.write(`M 100644 inline ${path}\n`);
        out.data(render(lines));
      }
    }
    out.write('\n');
    state.tip = mark;
    slot.mark = mark;
  }
  out.write('done\n');
  out.close();
  return { secrets, missingFormats, slots, heads, branches, stats, headFiles: main.files.size };
}

// ---------------------------------------------------------------------------

function git(repo, args, opts = {}) {
  const r = spawnSync('git', ['-C', repo, ...args], {
    encoding: opts.encoding ?? 'utf8',
    maxBuffer: 1024 * 1024 * 1024,
    ...opts,
  });
  if (r.error || r.status !== 0) {
    throw new Error(
      `git ${args.join(' ')} failed: ${r.error?.message ?? String(r.stderr).trim().split('\n').pop()}`,
    );
  }
  return r.stdout;
}

function readMarks(file) {
  const marks = new Map();
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const m = /^:(\d+) ([0-9a-f]{40})$/.exec(line);
    if (m) marks.set(Number(m[1]), m[2]);
  }
  return marks;
}

/** Builds one repository in `dir`; returns the manifest part describing it. */
function buildRepo({ dir, sources, donorFiles, commits, structureSeed, secretRng }) {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  git(dir, ['init', '-q']);
  git(dir, ['symbolic-ref', 'HEAD', 'refs/heads/main']);
  git(dir, ['config', 'gc.auto', '0']);
  const streamFile = join(dir, '.git', 'bench-import.stream');
  const marksFile = join(dir, '.git', 'bench-import.marks');
  const plan = generate({
    streamFile,
    sources,
    donorFiles,
    commits,
    rng: new Prng(structureSeed),
    secretRng,
  });
  const fd = openSync(streamFile, 'r');
  try {
    const r = spawnSync(
      'git',
      ['-C', dir, 'fast-import', '--quiet', '--done', `--export-marks=${marksFile}`],
      {
        stdio: [fd, 'ignore', 'pipe'],
        encoding: 'utf8',
      },
    );
    if (r.error || r.status !== 0)
      throw new Error(`git fast-import failed: ${r.error?.message ?? r.stderr.trim().split('\n').pop()}`);
  } finally {
    closeSync(fd);
  }
  const marks = readMarks(marksFile);
  rmSync(streamFile, { force: true });
  rmSync(marksFile, { force: true });
  // fast-import's own deltas are poor; recompute them, as a server does for a clone
  git(dir, ['repack', '-a', '-d', '-f', '-q']);

  const sha = (slot) => marks.get(slot + 1);
  // Check every occurrence is where the manifest says, and removed secrets are gone at the tip.
  for (const s of plan.secrets) {
    const needle = s.pem ? s.pem.split('\n')[0] : s.items[0].value;
    for (const o of s.occurrences) {
      o.commit = sha(o.slot);
      const text = git(dir, ['show', `${o.commit}:${o.file}`]);
      if (text.split('\n')[o.line - 1]?.includes(needle) !== true)
        throw new Error(`history generator: ${s.id} is not at ${o.file}:${o.line} in ${o.commit}`);
    }
    if (s.removed) {
      s.removed.commit = sha(s.removed.slot);
      const tip = git(dir, ['ls-tree', '-r', '--name-only', 'main']).split('\n');
      const still =
        tip.includes(s.removed.file) && git(dir, ['show', `main:${s.removed.file}`]).includes(needle);
      if (still) throw new Error(`history generator: ${s.id} was not removed`);
    }
  }
  const count = Number(git(dir, ['rev-list', '--all', '--count']).trim());
  const logBytes = git(dir, ['log', '-p', '--all', '--no-color'], { encoding: 'buffer' }).length;
  const packKb = Number(/^size-pack: (\d+)/m.exec(git(dir, ['count-objects', '-v']))?.[1] ?? 0);
  const branches = plan.branches.map((b) => ({
    name: b.name,
    commits: b.slots.length,
    merged: b.merge,
  }));
  return {
    commits: count,
    mergeCommits: plan.slots.filter((s) => s.kind === 'merge').length,
    branches,
    headFiles: plan.headFiles,
    logBytes,
    packBytes: packKb * 1024,
    edits: plan.stats,
    missingFormats: plan.missingFormats,
    secrets: plan.secrets.map((s) => ({
      id: s.id,
      format: s.format,
      label: s.label,
      branch: s.branch,
      twice: s.occurrences.length > 1,
      removed: s.removed ? { file: s.removed.file, commit: s.removed.commit } : null,
      occurrences: s.occurrences.map((o) => ({
        file: o.file,
        commit: o.commit,
        line: o.line,
        branch: o.branch,
      })),
    })),
  };
}

/**
 * Ensures the history repositories exist; returns { dir, repo, warmRepo, manifest }.
 * options: { cacheDir, sourceDir, seed, commits, log }
 */
export function ensureHistoryRepo({
  cacheDir,
  sourceDir,
  seed = null,
  commits = HISTORY_COMMITS,
  log = () => {},
}) {
  if (!existsSync(sourceDir))
    throw new Error(`history source ${sourceDir} does not exist (run npm ci first)`);
  const candidates = sourceCandidates(sourceDir);
  if (candidates.length < 100) throw new Error(`history source ${sourceDir} has too few text files`);
  const h = createHash('sha256');
  h.update(`history v${HISTORY_GENERATOR_VERSION}\0${seed ?? 'random'}\0${commits}\0${sourceDir}\0`);
  for (const f of candidates) h.update(`${f.rel}\0${f.size}\n`);
  const key = h.digest('hex').slice(0, 12);
  const name = `history-${key}`;
  const dir = join(cacheDir, name);
  const manifestPath = join(dir, MANIFEST_NAME);
  if (existsSync(manifestPath)) {
    const manifest = JSON.parse(readFileSync(manifestPath, 'utf8'));
    if (manifest.complete) {
      log(`history: reusing ${dir}`);
      return { dir, repo: join(dir, 'repo'), warmRepo: join(dir, 'warm'), manifest };
    }
  }
  mkdirSync(cacheDir, { recursive: true });
  pruneStaleBuilds(cacheDir, 'history-', name, sourceDir, log);
  const started = Date.now();
  log(`history: building ${dir} (${commits} commits from ${sourceDir})`);
  const structureSeed = `keyfence-history v${HISTORY_GENERATOR_VERSION}:${seed ?? 'default'}`;
  const pickRng = new Prng(`${structureSeed}:sources`);
  const nFiles = Math.min(320, Math.floor(candidates.length / 3));
  const picked = pickSources(candidates, pickRng, nFiles + 200);
  if (picked.length < 60) throw new Error(`history source ${sourceDir}: too few usable text files`);
  const sources = picked.slice(0, Math.min(nFiles, picked.length - 40));
  const donorFiles = picked.slice(sources.length);
  const secretRng = new ByteSource(seed === null ? null : `history:${seed}`);

  const tmp = `${dir}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  const main = buildRepo({
    dir: join(tmp, 'repo'),
    sources,
    donorFiles,
    commits,
    structureSeed,
    secretRng,
  });
  const warm = buildRepo({
    dir: join(tmp, 'warm'),
    sources: sources.slice(0, 20),
    donorFiles,
    commits: WARM_COMMITS,
    structureSeed: `${structureSeed}:warm`,
    secretRng,
  });
  const manifest = {
    generatorVersion: HISTORY_GENERATOR_VERSION,
    createdAt: new Date().toISOString(),
    source: sourceDir,
    seed: seed === null ? 'random (crypto.randomBytes)' : 'deterministic (seeded)',
    sourceFiles: sources.length,
    buildSeconds: 0,
    ...main,
    formats: [...new Set(main.secrets.map((s) => s.format))].length,
    warm: { commits: warm.commits, secrets: warm.secrets.length },
    complete: true,
  };
  manifest.buildSeconds = Math.round((Date.now() - started) / 100) / 10;
  const fd = openSync(join(tmp, MANIFEST_NAME), 'w');
  writeSync(fd, `${JSON.stringify(manifest, null, 2)}\n`);
  closeSync(fd);
  rmSync(dir, { recursive: true, force: true });
  renameSync(tmp, dir);
  log(
    `history: ${manifest.commits} commits, ${(manifest.logBytes / 1e6).toFixed(1)} MB of patches, ${(
      manifest.packBytes / 1e6
    ).toFixed(1)} MB pack, ${manifest.secrets.length} planted secrets, built in ${manifest.buildSeconds} s`,
  );
  return { dir, repo: join(dir, 'repo'), warmRepo: join(dir, 'warm'), manifest };
}

// ---------------------------------------------------------------------------
// Scoring

/** Where a planted secret sits in history, for the breakdown table. */
export const HISTORY_GROUPS = {
  tip: 'on main, still in the tip',
  removed: 'on main, removed in a later commit',
  twice: 'committed twice (same value, later commit, other file)',
  merged: 'on a branch merged into main',
  unmerged: 'only on an unmerged branch',
};

function groupOf(secret, branchMerged) {
  if (secret.twice) return 'twice';
  if (secret.branch !== 'main') return branchMerged.get(secret.branch) ? 'merged' : 'unmerged';
  return secret.removed ? 'removed' : 'tip';
}

/**
 * Scores findings ({ file, commit? }) against the planted secrets. A secret is found when the
 * tool reports its file at a commit that added it (either copy of the secret committed twice
 * counts); a finding without a commit counts for the secrets planted in that file.
 * Findings in files where nothing was planted are clean-code findings; findings in planted
 * files at other commits are counted apart (plantedOther).
 */
export function scoreHistory(
  findings,
  secrets,
  branches = BRANCHES.map((b) => ({ name: b.name, merged: b.merge })),
) {
  const branchMerged = new Map(branches.map((b) => [b.name, b.merged]));
  const plantedFiles = new Set(secrets.flatMap((s) => s.occurrences.map((o) => o.file)));
  const at = new Map();
  for (const s of secrets) {
    for (const o of s.occurrences) {
      const k = `${o.file}\0${o.commit}`;
      if (!at.has(k)) at.set(k, []);
      at.get(k).push(s);
    }
  }
  const found = new Set();
  let plantedOther = 0;
  const clean = [];
  for (const f of findings) {
    if (!plantedFiles.has(f.file)) {
      clean.push(f);
      continue;
    }
    const hits = f.commit
      ? (at.get(`${f.file}\0${f.commit}`) ?? [])
      : secrets.filter((s) => s.occurrences.some((o) => o.file === f.file));
    if (hits.length === 0) plantedOther++;
    for (const s of hits) found.add(s.id);
  }
  const byFormat = {};
  const byGroup = {};
  for (const key of Object.keys(HISTORY_GROUPS)) byGroup[key] = { found: 0, total: 0 };
  for (const s of secrets) {
    byFormat[s.format] ??= { found: 0, total: 0 };
    byFormat[s.format].total++;
    const g = byGroup[groupOf(s, branchMerged)];
    g.total++;
    if (found.has(s.id)) {
      byFormat[s.format].found++;
      g.found++;
    }
  }
  return {
    findings: findings.length,
    plantedFound: found.size,
    plantedTotal: secrets.length,
    cleanFindings: clean.length,
    cleanFiles: new Set(clean.map((f) => f.file)).size,
    plantedOther,
    byFormat,
    byGroup,
  };
}
