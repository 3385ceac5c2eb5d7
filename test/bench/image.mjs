// Builds the container-image benchmark input outside the repository, without Docker:
//   <cache>/image-<hash>/
//     image.tar       one image as `docker save` (Docker 25 and later) writes it: an OCI image
//                     layout (oci-layout, index.json, blobs/sha256/...) plus the classic
//                     manifest.json, so that tools reading either form read the same file.
//                     Layers are gzip'd tars of real files: a runtime layer (the node binary
//                     running this script), the project's node_modules, the large binaries from
//                     node_modules, and an application with generated secrets in it
//     warm.tar        a small image of the same shape, for the untimed warm-up run
//     manifest.json   planted secrets: format, path inside the image, layer (never the values)
//
// Secrets sit where images leak them: files in several layers, one file deleted again by a
// whiteout (`.wh.<name>`) in an upper layer (still in the image), the config's Env, and the
// `created_by` of a build step in the config's history. The image is reused while the generator
// version, the seed and the source files (names and sizes, and the node binary's size) are
// unchanged.

import { createHash } from 'node:crypto';
import {
  createReadStream,
  createWriteStream,
  existsSync,
  mkdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve, sep } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { createGzip } from 'node:zlib';
import { listSourceFiles, plantedFilesFor, pruneStaleBuilds } from './corpus.mjs';
import { ALNUM, BASE32, BASE64, ByteSource, FORMATS } from './secrets.mjs';

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const { pack: tarPack } = createRequire(join(REPO_ROOT, 'package.json'))('tar-stream');

export const IMAGE_GENERATOR_VERSION = 2;
export const IMAGE_TAG = 'acme/billing:2.3.1';
const MANIFEST_NAME = 'manifest.json';
/** Layer content aimed at; large binaries are added, smallest first, until reached (or 10% past). */
const TARGET_BYTES = 300e6;
const MTIME = new Date('2024-01-15T10:00:00Z');
const DELETED_PATH = 'app/.env.production';

/** Where a planted secret is in the image, for the breakdown table. */
export const IMAGE_GROUPS = {
  file: 'in a layer file still in the final filesystem',
  deleted: 'in a file deleted by a whiteout in an upper layer',
  env: "in the config's Env",
  history: "in a build step's created_by (config history)",
};

// Paths in a finding that stand for the image config rather than a layer file.
export const CONFIG_ENV = 'image-config/Env';
export const CONFIG_HISTORY = 'image-config/history';

// ---------------------------------------------------------------------------
// Tar and blob writing (streamed: layers go through gzip to a file, hashed on the way)

const sha = (b) => createHash('sha256').update(b).digest('hex');

function tap(hash, counter) {
  return new Transform({
    transform(chunk, _enc, cb) {
      hash.update(chunk);
      counter.bytes += chunk.length;
      cb(null, chunk);
    },
  });
}

function addEntry(pack, header, data) {
  return new Promise((res, rej) => {
    pack.entry({ mtime: MTIME, uid: 0, gid: 0, ...header }, data, (err) => (err ? rej(err) : res()));
  });
}

async function addFileEntry(pack, name, file, size) {
  const sink = pack.entry({ name, size, mode: 0o644, mtime: MTIME, uid: 0, gid: 0 });
  await pipeline(createReadStream(file), sink);
}

/**
 * Writes one layer as a gzip'd tar. entries: [{ name, data?: Buffer|string, file?, mode? }];
 * deletes: paths of lower-layer files this layer removes (written as `.wh.` files).
 * Returns { file, digest (gzip'd), diffId (tar), size, tarBytes, files, contentBytes }.
 */
async function writeLayer(file, entries, deletes = []) {
  const pack = tarPack();
  const rawHash = createHash('sha256');
  const gzHash = createHash('sha256');
  const raw = { bytes: 0 };
  const gz = { bytes: 0 };
  const done = pipeline(
    pack,
    tap(rawHash, raw),
    createGzip({ level: 6 }),
    tap(gzHash, gz),
    createWriteStream(file),
  );
  const dirs = new Set();
  const parents = async (path) => {
    const parts = path.split('/').slice(0, -1);
    for (let i = 1; i <= parts.length; i++) {
      const d = parts.slice(0, i).join('/');
      if (dirs.has(d)) continue;
      dirs.add(d);
      await addEntry(pack, { name: `${d}/`, type: 'directory', mode: 0o755 });
    }
  };
  let files = 0;
  let contentBytes = 0;
  for (const e of entries) {
    await parents(e.name);
    const data = e.data ?? readFileSync(e.file);
    await addEntry(pack, { name: e.name, mode: e.mode ?? 0o644 }, Buffer.from(data));
    files++;
    contentBytes += data.length;
  }
  for (const path of deletes) {
    await parents(path);
    const slash = path.lastIndexOf('/');
    await addEntry(
      pack,
      { name: `${path.slice(0, slash + 1)}.wh.${path.slice(slash + 1)}`, mode: 0o644 },
      '',
    );
  }
  pack.finalize();
  await done;
  return {
    file,
    digest: `sha256:${gzHash.digest('hex')}`,
    diffId: `sha256:${rawHash.digest('hex')}`,
    size: gz.bytes,
    tarBytes: raw.bytes,
    files,
    contentBytes,
  };
}

/**
 * Packs layers and config into one tar that is both an OCI image layout and a `docker save`
 * archive (manifest.json naming the same blobs), as `docker save` writes since Docker 25.
 */
async function writeImageTar(out, layers, config, tag) {
  const configBytes = Buffer.from(JSON.stringify(config));
  const configDigest = `sha256:${sha(configBytes)}`;
  const manifestBytes = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: {
        mediaType: 'application/vnd.oci.image.config.v1+json',
        digest: configDigest,
        size: configBytes.length,
      },
      layers: layers.map((l) => ({
        mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip',
        digest: l.digest,
        size: l.size,
      })),
    }),
  );
  const manifestDigest = `sha256:${sha(manifestBytes)}`;
  const [repo, ref] = tag.split(':');
  const index = {
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.index.v1+json',
    manifests: [
      {
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        digest: manifestDigest,
        size: manifestBytes.length,
        annotations: { 'org.opencontainers.image.ref.name': ref },
      },
    ],
  };
  const blobPath = (digest) => `blobs/sha256/${digest.slice(7)}`;
  const dockerManifest = [
    { Config: blobPath(configDigest), RepoTags: [tag], Layers: layers.map((l) => blobPath(l.digest)) },
  ];
  const pack = tarPack();
  const done = pipeline(pack, createWriteStream(out));
  await addEntry(pack, { name: 'blobs/', type: 'directory', mode: 0o755 });
  await addEntry(pack, { name: 'blobs/sha256/', type: 'directory', mode: 0o755 });
  for (const l of layers) await addFileEntry(pack, blobPath(l.digest), l.file, l.size);
  await addEntry(pack, { name: blobPath(configDigest) }, configBytes);
  await addEntry(pack, { name: blobPath(manifestDigest) }, manifestBytes);
  await addEntry(pack, { name: 'index.json' }, JSON.stringify(index));
  await addEntry(pack, { name: 'manifest.json' }, JSON.stringify(dockerManifest));
  await addEntry(pack, { name: 'oci-layout' }, JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  await addEntry(
    pack,
    { name: 'repositories' },
    JSON.stringify({ [repo]: { [ref]: layers.at(-1).diffId.slice(7) } }),
  );
  pack.finalize();
  await done;
  return { bytes: statSync(out).size, configDigest, manifestDigest };
}

// ---------------------------------------------------------------------------
// Image content

const deps = (rel) =>
  rel
    .split(sep)
    .map((s) => (s === 'node_modules' ? 'deps' : s))
    .join('/');

const BASE_FILES = {
  'etc/os-release':
    'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nNAME="Debian GNU/Linux"\nVERSION_ID="12"\nID=debian\n',
  'etc/passwd':
    'root:x:0:0:root:/root:/bin/bash\ndaemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\nnode:x:1000:1000::/home/node:/bin/bash\n',
  'etc/group': 'root:x:0:\ndaemon:x:1:\nnode:x:1000:\n',
  'etc/hosts': '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n',
  'etc/nsswitch.conf': 'passwd: files\ngroup: files\nhosts: files dns\n',
};

const APP_FILES = {
  'app/package.json': `${JSON.stringify(
    {
      name: 'billing',
      version: '2.3.1',
      private: true,
      main: 'src/server.js',
      scripts: { start: 'node src/server.js' },
    },
    null,
    2,
  )}\n`,
  'app/src/server.js': `'use strict';

const http = require('node:http');
const { handleInvoice } = require('./invoices');

const server = http.createServer((req, res) => {
  if (req.url === '/healthz') return res.end('ok');
  return handleInvoice(req, res);
});

server.listen(Number(process.env.PORT ?? 8080));
`,
  'app/src/invoices.js': `'use strict';

function handleInvoice(req, res) {
  res.setHeader('content-type', 'application/json');
  res.end(JSON.stringify({ status: 'queued', at: new Date().toISOString() }));
}

module.exports = { handleInvoice };
`,
};

/** Folder of a planted file by format index: spread over the base, deps, app and config layers. */
const PLANT_SLOTS = [
  { layer: 0, dir: 'opt/ops' },
  { layer: 1, dir: 'app/deps/@acme/internal-fixtures' },
  { layer: 3, dir: 'app/src/integrations' },
  { layer: 4, dir: 'app/config' },
];

function lineOf(text, needle) {
  const idx = text.indexOf(needle);
  if (idx < 0) throw new Error('planted text lost its secret');
  return text.slice(0, idx).split('\n').length;
}

/** The planted secrets and where they go; returns { perLayer: Map(layer -> entries), planted, env, history }. */
function planSecrets(rng, { formats = FORMATS } = {}) {
  const perLayer = new Map();
  const add = (layer, name, data) => {
    if (!perLayer.has(layer)) perLayer.set(layer, []);
    perLayer.get(layer).push({ name, data });
  };
  const planted = [];
  const missing = [];
  formats.forEach((format, index) => {
    const files = plantedFilesFor(format, index, rng);
    if (files.length === 0) {
      missing.push({ format: format.id, reason: 'generator unavailable on this machine' });
      return;
    }
    const f = files[index % files.length];
    const slot = PLANT_SLOTS[index % PLANT_SLOTS.length];
    const path = `${slot.dir}/${format.id}/${f.name}`;
    add(slot.layer, path, f.text);
    planted.push({
      id: `file:${format.id}`,
      where: 'file',
      format: format.id,
      label: format.label,
      file: path,
      layer: slot.layer + 1,
      line: lineOf(f.text, f.needle),
    });
  });

  // A .env file added in the config layer and deleted by a whiteout in the layer above it.
  const stripe = FORMATS.find((x) => x.id === 'stripe-live-secret');
  const stripeValue = stripe.gen(rng);
  const dotenv = `NODE_ENV=production\nPORT=8080\n${stripe.env}=${stripeValue}\nLOG_LEVEL=info\n`;
  add(4, DELETED_PATH, dotenv);
  planted.push({
    id: 'deleted',
    where: 'deleted',
    format: stripe.id,
    label: stripe.label,
    file: DELETED_PATH,
    layer: 5,
    deletedInLayer: 6,
    line: lineOf(dotenv, stripeValue),
  });

  // AWS keys in the config's Env, a GitHub token in a RUN step's created_by.
  const awsId = `AKIA${rng.chars(BASE32, 16)}`;
  const awsSecret = rng.chars(BASE64, 40);
  const env = [
    'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
    'NODE_VERSION=20.19.0',
    `AWS_ACCESS_KEY_ID=${awsId}`,
    `AWS_SECRET_ACCESS_KEY=${awsSecret}`,
    'AWS_REGION=eu-west-1',
    'NODE_ENV=production',
  ];
  planted.push({
    id: 'env',
    where: 'env',
    format: 'aws-access-key',
    label: FORMATS[0].label,
    file: CONFIG_ENV,
    line: 3,
  });
  const ghp = FORMATS.find((x) => x.id === 'github-classic-pat').gen(rng);
  const historySecret = `RUN /bin/sh -c curl -fsSL -H "Authorization: token ${ghp}" https://api.github.com/repos/acme-corp/build-tools/tarball/v3.2.0 | tar -xz -C /opt/tools # buildkit`;
  planted.push({
    id: 'history',
    where: 'history',
    format: 'github-classic-pat',
    label: 'GitHub classic PAT (ghp_)',
    file: CONFIG_HISTORY,
  });
  return { perLayer, planted, missing, env, historySecret, filler: rng.chars(ALNUM, 8) };
}

/**
 * Builds one image. layers: [base, deps, tools, app, config, cleanup] as entry lists; returns the
 * numbers for the manifest.
 */
async function buildImage(dir, name, { baseBinaries, depFiles, toolBinaries, rng, formats }) {
  const plan = planSecrets(rng, { formats });
  const layerSpecs = [
    {
      createdBy: 'ADD file:5c3e2b9f8a0d1e4b7c6a in / ',
      entries: [
        ...Object.entries(BASE_FILES).map(([n, data]) => ({ name: n, data })),
        ...baseBinaries.map((b) => ({ name: b.name, file: b.abs, mode: 0o755 })),
      ],
    },
    {
      createdBy: 'COPY /build/node_modules /app/deps # buildkit',
      entries: depFiles.map((f) => ({ name: `app/deps/${deps(f.rel)}`, file: f.abs })),
    },
    {
      createdBy: plan.historySecret,
      entries: toolBinaries.map((f) => ({ name: `opt/tools/${deps(f.rel)}`, file: f.abs, mode: 0o755 })),
    },
    {
      createdBy: 'COPY . /app # buildkit',
      entries: Object.entries(APP_FILES).map(([n, data]) => ({ name: n, data })),
    },
    {
      createdBy: 'COPY config/ .env.production /app/ # buildkit',
      entries: [
        { name: 'app/config/README.md', data: '# Configuration\n\nValues come from the environment.\n' },
      ],
    },
    {
      createdBy: 'RUN /bin/sh -c rm -f /app/.env.production && chown -R node:node /app # buildkit',
      entries: [{ name: 'app/.build-info', data: `built=2024-01-15T10:00:00Z id=${plan.filler}\n` }],
      deletes: [DELETED_PATH],
    },
  ];
  for (const [layer, entries] of plan.perLayer) layerSpecs[layer].entries.push(...entries);

  const blobDir = join(dir, `${name}.layers`);
  mkdirSync(blobDir, { recursive: true });
  const layers = [];
  for (let i = 0; i < layerSpecs.length; i++) {
    layers.push(
      await writeLayer(join(blobDir, `layer-${i + 1}.tar.gz`), layerSpecs[i].entries, layerSpecs[i].deletes),
    );
  }
  const history = [];
  layerSpecs.forEach((l, i) => {
    history.push({ created: MTIME.toISOString(), created_by: l.createdBy });
    if (i === 0)
      history.push({ created: MTIME.toISOString(), created_by: 'CMD ["bash"]', empty_layer: true });
    if (i === 1) {
      history.push({
        created: MTIME.toISOString(),
        created_by: 'ENV NODE_ENV=production AWS_REGION=eu-west-1',
        empty_layer: true,
      });
    }
  });
  history.push({ created: MTIME.toISOString(), created_by: 'WORKDIR /app', empty_layer: true });
  history.push({
    created: MTIME.toISOString(),
    created_by: 'CMD ["node","src/server.js"]',
    empty_layer: true,
  });
  const config = {
    architecture: 'amd64',
    os: 'linux',
    created: MTIME.toISOString(),
    config: {
      Env: plan.env,
      Cmd: ['node', 'src/server.js'],
      WorkingDir: '/app',
      User: 'node',
      Labels: { 'org.opencontainers.image.source': 'https://github.com/acme-corp/billing' },
    },
    rootfs: { type: 'layers', diff_ids: layers.map((l) => l.diffId) },
    history,
  };
  // The secret in the created_by of layer 3's history entry: line of that entry in the history.
  const historyEntry = plan.planted.find((p) => p.where === 'history');
  historyEntry.historyIndex = history.findIndex((h) => h.created_by === plan.historySecret);
  const tar = join(dir, `${name}.tar`);
  const written = await writeImageTar(tar, layers, config, IMAGE_TAG);
  rmSync(blobDir, { recursive: true, force: true });
  return {
    tar,
    configDigest: written.configDigest,
    archiveBytes: written.bytes,
    layerBytes: layers.reduce((a, l) => a + l.tarBytes, 0),
    contentBytes: layers.reduce((a, l) => a + l.contentBytes, 0),
    files: layers.reduce((a, l) => a + l.files, 0),
    layers: layers.map((l, i) => ({
      index: i + 1,
      digest: l.digest,
      diffId: l.diffId,
      files: l.files,
      tarBytes: l.tarBytes,
      gzipBytes: l.size,
      createdBy: i === 2 ? '(the RUN with the planted token)' : layerSpecs[i].createdBy,
    })),
    planted: plan.planted,
    missingFormats: plan.missing,
  };
}

/**
 * Ensures the benchmark image exists; returns { dir, tar, warmTar, manifest }.
 * options: { cacheDir, sourceDir, seed, log }
 */
export async function ensureImage({ cacheDir, sourceDir, seed = null, log = () => {} }) {
  if (!existsSync(sourceDir)) throw new Error(`image source ${sourceDir} does not exist (run npm ci first)`);
  // Tool caches that change on their own (dot folders and files such as .vite or
  // .package-lock.json, ncc's *.cache files) stay out, so the image is not rebuilt for them.
  const stable = (f) => !/(?:^|[\\/])\./.test(f.rel) && !/\.cache(?:\.js)?$/.test(f.rel);
  const listed = listSourceFiles(sourceDir);
  const files = listed.files.filter(stable);
  const largeBinaries = listed.largeBinaries.filter(stable);
  const node = statSync(process.execPath);
  const depBytes = files.reduce((a, f) => a + f.size, 0);
  // Large binaries from node_modules, smallest first, until the layers reach the target size;
  // one that would take the total more than 10% past it is left out.
  const toolBinaries = [];
  let total = node.size + depBytes;
  for (const b of [...largeBinaries].sort((x, y) => x.size - y.size || (x.rel < y.rel ? -1 : 1))) {
    if (total >= TARGET_BYTES) break;
    if (total + b.size > TARGET_BYTES * 1.1) continue;
    toolBinaries.push(b);
    total += b.size;
  }
  const h = createHash('sha256');
  h.update(`image v${IMAGE_GENERATOR_VERSION}\0${seed ?? 'random'}\0${sourceDir}\0`);
  h.update(`${process.execPath}\0${node.size}\n`);
  for (const f of [...files, ...toolBinaries]) h.update(`${f.rel}\0${f.size}\n`);
  const key = h.digest('hex').slice(0, 12);
  const name = `image-${key}`;
  const dir = join(cacheDir, name);
  const manifestPath = join(dir, MANIFEST_NAME);
  if (existsSync(manifestPath)) {
    const manifest = JSON.parse(readFileSync(manifestPath, 'utf8'));
    if (manifest.complete) {
      log(`image: reusing ${dir}`);
      return { dir, tar: join(dir, 'image.tar'), warmTar: join(dir, 'warm.tar'), manifest };
    }
  }
  mkdirSync(cacheDir, { recursive: true });
  pruneStaleBuilds(cacheDir, 'image-', name, sourceDir, log);
  const started = Date.now();
  log(
    `image: building ${dir} (~${(total / 1e6).toFixed(0)} MB of layer content from ${sourceDir} and ${process.execPath})`,
  );
  const tmp = `${dir}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  const rng = new ByteSource(seed === null ? null : `image:${seed}`);
  const main = await buildImage(tmp, 'image', {
    baseBinaries: [{ name: 'usr/local/bin/node', abs: process.execPath }],
    depFiles: files,
    toolBinaries,
    rng,
  });
  const warm = await buildImage(tmp, 'warm', {
    baseBinaries: [],
    depFiles: files.filter((f) => f.size < 20_000).slice(0, 200),
    toolBinaries: [],
    rng,
    formats: FORMATS.slice(0, 4),
  });
  const manifest = {
    generatorVersion: IMAGE_GENERATOR_VERSION,
    createdAt: new Date().toISOString(),
    source: sourceDir,
    runtimeBinary: { path: process.execPath, bytes: node.size },
    toolBinaries: toolBinaries.map((b) => ({ rel: deps(b.rel), bytes: b.size })),
    seed: seed === null ? 'random (crypto.randomBytes)' : 'deterministic (seeded)',
    tag: IMAGE_TAG,
    ...main,
    tar: undefined,
    formats: [...new Set(main.planted.map((p) => p.format))].length,
    warm: { archiveBytes: warm.archiveBytes, planted: warm.planted.length },
    buildSeconds: Math.round((Date.now() - started) / 100) / 10,
    complete: true,
  };
  writeFileSync(join(tmp, MANIFEST_NAME), `${JSON.stringify(manifest, null, 2)}\n`);
  rmSync(dir, { recursive: true, force: true });
  renameSync(tmp, dir);
  log(
    `image: ${manifest.layers.length} layers, ${(manifest.layerBytes / 1e6).toFixed(1)} MB of layer tars, ${(
      manifest.archiveBytes / 1e6
    ).toFixed(
      1,
    )} MB archive, ${manifest.planted.length} planted secrets, built in ${manifest.buildSeconds} s`,
  );
  return { dir, tar: join(dir, 'image.tar'), warmTar: join(dir, 'warm.tar'), manifest };
}

// ---------------------------------------------------------------------------
// Scoring: a planted secret counts when a tool reports its path inside the image (or the
// config's Env / history for those two).

export function scoreImage(findings, planted) {
  const plantedPaths = new Set(planted.map((p) => p.file));
  const hit = new Set();
  const clean = [];
  for (const f of findings) {
    if (plantedPaths.has(f.file)) hit.add(f.file);
    else clean.push(f);
  }
  const byFormat = {};
  const byGroup = {};
  for (const key of Object.keys(IMAGE_GROUPS)) byGroup[key] = { found: 0, total: 0 };
  let found = 0;
  for (const p of planted) {
    byFormat[p.format] ??= { found: 0, total: 0 };
    byFormat[p.format].total++;
    byGroup[p.where].total++;
    if (hit.has(p.file)) {
      found++;
      byFormat[p.format].found++;
      byGroup[p.where].found++;
    }
  }
  return {
    findings: findings.length,
    plantedFound: found,
    plantedTotal: planted.length,
    cleanFindings: clean.length,
    cleanFiles: new Set(clean.map((f) => f.file)).size,
    byFormat,
    byGroup,
  };
}
