// Builds the benchmark corpus outside the repository:
//   <cache>/corpus-<hash>/
//     code/copy-<n>/...   real code copied from the project's node_modules (symlinks and
//                         binary files > 1 MB skipped; `node_modules` segments renamed to
//                         `deps` so that no tool's default node_modules exclusion applies)
//     __planted__/<format>/<file>   one generated secret per file inside realistic code
//     manifest.json       planted files, their format and line (never the secret values)
//
// The corpus is reused while its inputs (source file list, generator version, seed) are
// unchanged, so repeated runs scan identical bytes.

import { createHash } from 'node:crypto';
import {
  closeSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import { ByteSource, FORMATS } from './secrets.mjs';

export const GENERATOR_VERSION = 3;
export const PLANTED_DIR = '__planted__';
export const MANIFEST_NAME = 'manifest.json';
const MIN_SINGLE_COPY_BYTES = 40 * 1024 * 1024;
const TARGET_BYTES = 60 * 1024 * 1024;
const MAX_BINARY_BYTES = 1024 * 1024;
const MAX_COPIES = 50;

// Files that would change how a peer behaves when found inside the corpus.
const SKIP_NAMES = new Set([
  '.gitleaks.toml',
  '.gitleaksignore',
  '.secretlintrc',
  '.secretlintrc.json',
  '.secretlintrc.yaml',
  '.secretlintrc.yml',
  '.secretlintrc.js',
  '.secretlintignore',
  '.secrets.baseline',
  '.trufflehogignore',
  '.gitignore',
  '.keyfenceignore',
  'kingfisher.yaml',
]);

function isBinaryHead(file) {
  const fd = openSync(file, 'r');
  try {
    const buf = Buffer.alloc(8192);
    const n = readSync(fd, buf, 0, buf.length, 0);
    return buf.subarray(0, n).includes(0);
  } finally {
    closeSync(fd);
  }
}

/**
 * Walks the source tree: regular files only, symlinks skipped, large binaries skipped (and
 * listed apart in largeBinaries, for the image case).
 */
export function listSourceFiles(sourceDir) {
  const files = [];
  const skipped = { symlinks: 0, largeBinaries: 0, largeBinaryBytes: 0, toolConfigs: 0 };
  const largeBinaries = [];
  const walk = (dir) => {
    const entries = readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1));
    for (const e of entries) {
      const abs = join(dir, e.name);
      if (e.isSymbolicLink()) {
        skipped.symlinks++;
        continue;
      }
      if (e.isDirectory()) {
        if (e.name === '.git' || e.name === '.bin') continue;
        walk(abs);
        continue;
      }
      if (!e.isFile()) continue;
      if (SKIP_NAMES.has(e.name)) {
        skipped.toolConfigs++;
        continue;
      }
      const { size, mtimeMs } = statSafe(abs);
      if (size > MAX_BINARY_BYTES && isBinaryHead(abs)) {
        skipped.largeBinaries++;
        skipped.largeBinaryBytes += size;
        largeBinaries.push({ abs, rel: relative(sourceDir, abs), size, mtimeMs });
        continue;
      }
      files.push({ abs, rel: relative(sourceDir, abs), size, mtimeMs });
    }
  };
  walk(sourceDir);
  return { files, skipped, largeBinaries };
}

function statSafe(p) {
  try {
    return statSync(p);
  } catch {
    return { size: 0, mtimeMs: 0 };
  }
}

function renameSegments(rel) {
  return rel
    .split(sep)
    .map((s) => (s === 'node_modules' ? 'deps' : s))
    .join('/');
}

// ---------------------------------------------------------------------------
// Templates: realistic surroundings for one secret per file.

function lineOf(text, needle) {
  const idx = text.indexOf(needle);
  if (idx < 0) throw new Error('template lost its secret');
  return text.slice(0, idx).split('\n').length;
}

function snake(name) {
  return name.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase();
}

function pascal(name) {
  return name[0].toUpperCase() + name.slice(1);
}

const codeTemplates = [
  {
    ext: 'js',
    file: 'client.js',
    render: (f, s) => `'use strict';

const https = require('node:https');

// Service credentials (rotated quarterly by the platform team).
const ${f.name} = "${s}";

function create${pascal(f.name)}Client(baseUrl) {
  return {
    baseUrl,
    headers: { Authorization: \`Bearer \${${f.name}}\`, 'User-Agent': 'orders-service/2.3.1' },
    request(path) {
      return new Promise((resolve, reject) => {
        https.get(new URL(path, baseUrl), { headers: this.headers }, resolve).on('error', reject);
      });
    },
  };
}

module.exports = { create${pascal(f.name)}Client };
`,
  },
  {
    ext: 'ts',
    file: 'settings.ts',
    render: (f, s) => `import { z } from 'zod';

export const SettingsSchema = z.object({
  region: z.string(),
  retries: z.number().int().min(0),
});

export const settings = {
  region: 'eu-west-1',
  retries: 3,
  ${f.name}: '${s}',
} as const;

export type Settings = typeof settings;
`,
  },
  {
    ext: 'py',
    file: 'config.py',
    render: (f, s) => `"""Runtime configuration for the billing worker."""

import os

DEBUG = os.environ.get("DEBUG", "0") == "1"
TIMEOUT_SECONDS = 30
${snake(f.name)} = "${s}"


def auth_headers():
    return {"Authorization": f"Bearer {${snake(f.name)}}"}
`,
  },
];

const configTemplates = [
  {
    file: '.env',
    render: (f, s) => `# billing-service production settings
NODE_ENV=production
PORT=8080
LOG_LEVEL=info
${f.env}=${s}
FEATURE_FLAGS=checkout-v2,async-invoices
`,
  },
  {
    file: 'config.yaml',
    render: (f, s) => `service:
  name: billing
  region: eu-west-1
  replicas: 3
integrations:
  ${f.name}:
    enabled: true
    ${f.env.toLowerCase()}: "${s}"
    timeout_seconds: 15
`,
  },
  {
    file: 'application.properties',
    render: (f, s) => `spring.application.name=billing
server.port=8080
management.endpoints.web.exposure.include=health,info
${f.env.toLowerCase().replace(/_/g, '.')}=${s}
logging.level.root=INFO
`,
  },
];

// Each planted file gets its own freshly generated value, so tools that deduplicate
// identical secrets across files still have to report every planted file.
export function plantedFilesFor(format, index, rng) {
  const first = format.gen(rng);
  if (first === null || first === undefined) return [];
  const second = format.gen(rng);
  if (format.kind === 'aws') {
    const value = first;
    const other = second;
    const env = `# deploy credentials for the artifacts bucket
AWS_REGION=eu-west-1
AWS_ACCESS_KEY_ID=${value.id}
aws_secret_access_key=${value.secret}
S3_BUCKET=billing-artifacts-prod
`;
    const js = `import { S3Client } from '@aws-sdk/client-s3';

export const s3 = new S3Client({
  region: 'eu-west-1',
  credentials: {
    accessKeyId: '${other.id}',
    secretAccessKey: '${other.secret}',
  },
});
`;
    return [
      { name: '.env', text: env, needle: value.id },
      { name: 'storage.js', text: js, needle: other.id },
    ];
  }
  if (format.kind === 'pem') {
    const value = first;
    const other = second ?? first;
    const raw = `${value}\n`;
    const rawName = format.id === 'openssh-private-key' ? 'id_ed25519' : 'server.key';
    const js = `import { createSign } from 'node:crypto';

const signingKey = \`${other}
\`;

export function sign(payload) {
  return createSign('sha256').update(payload).sign(signingKey, 'base64');
}
`;
    return [
      { name: rawName, text: raw, needle: value.split('\n')[0] },
      { name: 'signer.js', text: js, needle: other.split('\n')[0] },
    ];
  }
  const code = codeTemplates[index % codeTemplates.length];
  const conf = configTemplates[index % configTemplates.length];
  return [
    { name: code.file, text: code.render(format, first), needle: first },
    { name: conf.file, text: conf.render(format, second), needle: second },
  ];
}

/** Writes the planted secrets under <root>/__planted__ and returns manifest entries. */
export function plantSecrets(root, rng) {
  const planted = [];
  const missing = [];
  FORMATS.forEach((format, index) => {
    const files = plantedFilesFor(format, index, rng);
    if (files.length === 0) {
      missing.push({ format: format.id, reason: 'generator unavailable on this machine' });
      return;
    }
    for (const f of files) {
      const rel = `${PLANTED_DIR}/${format.id}/${f.name}`;
      const abs = join(root, rel);
      mkdirSync(dirname(abs), { recursive: true });
      writeFileSync(abs, f.text);
      planted.push({ file: rel, format: format.id, label: format.label, line: lineOf(f.text, f.needle) });
    }
  });
  return { planted, missing };
}

function corpusKey(sourceDir, files, copies, seed) {
  const h = createHash('sha256');
  h.update(`v${GENERATOR_VERSION}\0${sourceDir}\0${copies}\0${seed ?? 'random'}\0`);
  for (const f of files) h.update(`${f.rel}\0${f.size}\0${Math.floor(f.mtimeMs)}\n`);
  return h.digest('hex').slice(0, 12);
}

/** Total size and count of the regular files under dir. */
export function sumBytes(dir) {
  let bytes = 0;
  let files = 0;
  const walk = (d) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile()) {
        bytes += statSync(p).size;
        files++;
      }
    }
  };
  walk(dir);
  return { bytes, files };
}

function pidAlive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return err.code === 'EPERM';
  }
}

/**
 * Removes a case's cached builds (`<prefix><hash>` folders) made from the same source with older
 * inputs, and temp folders whose builder process is gone; `keep` is the current build.
 */
export function pruneStaleBuilds(cacheDir, prefix, keep, sourceDir, log) {
  if (!existsSync(cacheDir)) return;
  for (const name of readdirSync(cacheDir)) {
    if (!name.startsWith(prefix) || name === keep) continue;
    const abs = join(cacheDir, name);
    const tmp = /\.tmp-(\d+)$/.exec(name);
    if (tmp) {
      if (!pidAlive(Number(tmp[1]))) rmSync(abs, { recursive: true, force: true });
      continue;
    }
    try {
      const m = JSON.parse(readFileSync(join(abs, MANIFEST_NAME), 'utf8'));
      if (m.source === sourceDir) {
        log(`${prefix.replace(/-$/, '')}: removing stale ${abs}`);
        rmSync(abs, { recursive: true, force: true });
      }
    } catch {
      // not ours or unreadable: leave it
    }
  }
}

/**
 * Ensures the corpus exists and returns { dir, manifest }.
 * options: { cacheDir, sourceDir, seed, log }
 */
export function ensureCorpus({ cacheDir, sourceDir, seed = null, log = () => {} }) {
  if (!existsSync(sourceDir)) throw new Error(`corpus source ${sourceDir} does not exist (run npm ci first)`);
  const { files, skipped } = listSourceFiles(sourceDir);
  const sourceBytes = files.reduce((a, f) => a + f.size, 0);
  if (sourceBytes === 0) throw new Error(`corpus source ${sourceDir} has no files`);
  const copies =
    sourceBytes >= MIN_SINGLE_COPY_BYTES ? 1 : Math.min(MAX_COPIES, Math.ceil(TARGET_BYTES / sourceBytes));
  const key = corpusKey(sourceDir, files, copies, seed);
  const dir = join(cacheDir, `corpus-${key}`);
  const manifestPath = join(dir, MANIFEST_NAME);
  if (existsSync(manifestPath)) {
    const manifest = JSON.parse(readFileSync(manifestPath, 'utf8'));
    if (manifest.complete) {
      log(`corpus: reusing ${dir}`);
      return { dir, manifest };
    }
  }
  log(
    `corpus: building ${dir} from ${sourceDir} (${(sourceBytes / 1e6).toFixed(1)} MB x ${copies} cop${
      copies === 1 ? 'y' : 'ies'
    })`,
  );
  pruneStaleBuilds(cacheDir, 'corpus-', undefined, sourceDir, log);
  const tmp = `${dir}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  for (let c = 0; c < copies; c++) {
    const base = join(tmp, 'code', `copy-${c}`);
    for (const f of files) {
      const dest = join(base, renameSegments(f.rel));
      mkdirSync(dirname(dest), { recursive: true });
      copyFileSync(f.abs, dest);
    }
  }
  const rng = new ByteSource(seed);
  const { planted, missing } = plantSecrets(tmp, rng);
  const manifest = {
    generatorVersion: GENERATOR_VERSION,
    createdAt: new Date().toISOString(),
    source: sourceDir,
    copies,
    seed: seed === null ? 'random (crypto.randomBytes)' : 'deterministic (seeded)',
    sourceFiles: files.length,
    sourceBytes,
    skipped,
    plantedDir: PLANTED_DIR,
    formats: [...new Set(planted.map((p) => p.format))].length,
    missingFormats: missing,
    planted,
    complete: false,
  };
  manifest.plantedBytes = sumBytes(join(tmp, PLANTED_DIR)).bytes;
  manifest.complete = true;
  writeFileSync(join(tmp, MANIFEST_NAME), `${JSON.stringify(manifest, null, 2)}\n`);
  rmSync(dir, { recursive: true, force: true });
  renameSync(tmp, dir);
  const totals = sumBytes(dir);
  log(
    `corpus: ${totals.files} files, ${(totals.bytes / 1e6).toFixed(1)} MB, ${planted.length} planted files`,
  );
  return { dir, manifest };
}

/** Reads every file once (or the one file) so that the first timed tool does not pay for a cold page cache. */
export function warmCorpus(dir) {
  if (statSync(dir).isFile()) return readFileSync(dir).length;
  let bytes = 0;
  const walk = (d) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile()) bytes += readFileSync(p).length;
    }
  };
  walk(dir);
  return bytes;
}
