import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { gzipSync } from 'node:zlib';
import { pack } from 'tar-stream';

/** One tar entry to write: a file (string or bytes), or a folder when content is omitted. */
export interface TarFile {
  name: string;
  content?: string | Buffer;
}

/** A tar built in memory with tar-stream (a real tar, as GNU tar reads it). */
export async function tarBytes(files: TarFile[]): Promise<Buffer> {
  const p = pack();
  const chunks: Buffer[] = [];
  const done = new Promise<void>((resolve, reject) => {
    p.on('data', (c: unknown) => chunks.push(c as Buffer));
    p.on('end', () => resolve());
    p.on('error', reject);
  });
  for (const f of files) {
    if (f.content === undefined) {
      p.entry({ name: f.name, type: 'directory', mode: 0o755 });
    } else {
      p.entry({ name: f.name, mode: 0o644 }, Buffer.from(f.content));
    }
  }
  p.finalize();
  await done;
  return Buffer.concat(chunks);
}

/** zstd with the zstd tool when present; otherwise a valid frame of raw (stored) blocks. */
export function zstdBytes(data: Buffer): Buffer {
  const r = spawnSync('zstd', ['-q', '-c', '-3'], { input: data, maxBuffer: 1 << 30 });
  if (!r.error && r.status === 0) return r.stdout;
  const parts: Buffer[] = [Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0x00, 0x38])];
  const max = 128 * 1024;
  for (let i = 0; i === 0 || i < data.length; i += max) {
    const block = data.subarray(i, i + max);
    const last = i + max >= data.length ? 1 : 0;
    const h = (block.length << 3) | last; // block type 0: raw
    parts.push(Buffer.from([h & 0xff, (h >> 8) & 0xff, (h >> 16) & 0xff]), block);
  }
  return Buffer.concat(parts);
}

export interface LayerSpec {
  files: Record<string, string | Buffer>;
  /** Paths this layer deletes from lower layers (written as `.wh.` files). */
  delete?: string[];
  /** Folders this layer makes opaque (`.wh..wh..opq`): lower layers' contents hidden. */
  opaque?: string[];
  compression?: 'gzip' | 'zstd' | 'none';
}

export interface ImageSpec {
  layers: LayerSpec[];
  env?: string[];
  labels?: Record<string, string>;
  /** Each history entry: its `created_by`, or the entry's fields. */
  history?: (string | { created_by?: string; comment?: string })[];
  cmd?: string[];
  entrypoint?: string[];
  platform?: { os: string; architecture: string; variant?: string };
}

interface Blob {
  digest: string;
  size: number;
  bytes: Buffer;
}

function blob(bytes: Buffer): Blob {
  return { digest: `sha256:${createHash('sha256').update(bytes).digest('hex')}`, size: bytes.length, bytes };
}

async function layerTar(spec: LayerSpec): Promise<Buffer> {
  const files: TarFile[] = [];
  const dirs = new Set<string>();
  const addDirs = (path: string): void => {
    const parts = path.split('/').slice(0, -1);
    for (let i = 1; i <= parts.length; i++) {
      const d = parts.slice(0, i).join('/');
      if (!dirs.has(d)) {
        dirs.add(d);
        files.push({ name: `${d}/` });
      }
    }
  };
  for (const [name, content] of Object.entries(spec.files)) {
    addDirs(name);
    files.push({ name, content });
  }
  for (const path of spec.delete ?? []) {
    addDirs(path);
    const slash = path.lastIndexOf('/');
    files.push({ name: `${path.slice(0, slash + 1)}.wh.${path.slice(slash + 1)}`, content: '' });
  }
  for (const dir of spec.opaque ?? []) {
    addDirs(`${dir}/x`);
    files.push({ name: `${dir}/.wh..wh..opq`, content: '' });
  }
  return tarBytes(files);
}

/** Blobs and the manifest of one image, as an OCI image layout holds them. */
async function buildImage(
  spec: ImageSpec,
): Promise<{ blobs: Blob[]; manifest: Blob; config: Blob; diffIds: string[]; tars: Buffer[] }> {
  const blobs: Blob[] = [];
  const layerDescs: { mediaType: string; digest: string; size: number }[] = [];
  const diffIds: string[] = [];
  const tars: Buffer[] = [];
  for (const l of spec.layers) {
    const tar = await layerTar(l);
    tars.push(tar);
    diffIds.push(blob(tar).digest);
    const compression = l.compression ?? 'gzip';
    const bytes = compression === 'gzip' ? gzipSync(tar) : compression === 'zstd' ? zstdBytes(tar) : tar;
    const b = blob(bytes);
    blobs.push(b);
    layerDescs.push({
      mediaType: `application/vnd.oci.image.layer.v1.tar${compression === 'none' ? '' : `+${compression}`}`,
      digest: b.digest,
      size: b.size,
    });
  }
  const platform = spec.platform ?? { os: 'linux', architecture: 'amd64' };
  const config = blob(
    Buffer.from(
      JSON.stringify({
        architecture: platform.architecture,
        os: platform.os,
        ...(platform.variant ? { variant: platform.variant } : {}),
        config: {
          Env: spec.env ?? ['PATH=/usr/local/bin:/usr/bin:/bin'],
          Labels: spec.labels ?? {},
          ...(spec.cmd ? { Cmd: spec.cmd } : {}),
          ...(spec.entrypoint ? { Entrypoint: spec.entrypoint } : {}),
        },
        rootfs: { type: 'layers', diff_ids: diffIds },
        history: (spec.history ?? []).map((h) => ({
          ...(typeof h === 'string' ? { created_by: h } : h),
          created: '2024-01-01T00:00:00Z',
        })),
      }),
    ),
  );
  blobs.push(config);
  const manifest = blob(
    Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        config: {
          mediaType: 'application/vnd.oci.image.config.v1+json',
          digest: config.digest,
          size: config.size,
        },
        layers: layerDescs,
      }),
    ),
  );
  blobs.push(manifest);
  return { blobs, manifest, config, diffIds, tars };
}

function writeBlobs(dir: string, blobs: Blob[]): void {
  mkdirSync(join(dir, 'blobs', 'sha256'), { recursive: true });
  for (const b of blobs) writeFileSync(join(dir, 'blobs', 'sha256', b.digest.slice(7)), b.bytes);
}

/**
 * Writes an OCI image layout folder: one tagged image, or (with several specs) a multi-platform
 * index under the tag. Returns the folder.
 */
export async function writeOciLayout(dir: string, tag: string, specs: ImageSpec[]): Promise<string> {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  const annotations = { 'org.opencontainers.image.ref.name': tag };
  let top: { mediaType: string; digest: string; size: number; annotations: Record<string, string> };
  if (specs.length === 1) {
    const img = await buildImage(specs[0]!);
    writeBlobs(dir, img.blobs);
    top = {
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      digest: img.manifest.digest,
      size: img.manifest.size,
      annotations,
    };
  } else {
    const entries = [];
    for (const spec of specs) {
      const img = await buildImage(spec);
      writeBlobs(dir, img.blobs);
      entries.push({
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        digest: img.manifest.digest,
        size: img.manifest.size,
        platform: spec.platform ?? { os: 'linux', architecture: 'amd64' },
      });
    }
    const index = blob(
      Buffer.from(
        JSON.stringify({
          schemaVersion: 2,
          mediaType: 'application/vnd.oci.image.index.v1+json',
          manifests: entries,
        }),
      ),
    );
    writeBlobs(dir, [index]);
    top = {
      mediaType: 'application/vnd.oci.image.index.v1+json',
      digest: index.digest,
      size: index.size,
      annotations,
    };
  }
  writeFileSync(
    join(dir, 'index.json'),
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.index.v1+json',
      manifests: [top],
    }),
  );
  return dir;
}

/** A folder packed as a tar (an OCI layout tar, as `skopeo copy ... oci-archive:` writes one). */
export async function tarOfFolder(dir: string): Promise<Buffer> {
  const files: TarFile[] = [];
  const walk = (d: string): void => {
    for (const name of readdirSync(d).sort()) {
      const abs = join(d, name);
      const rel = relative(dir, abs);
      if (statSync(abs).isDirectory()) {
        files.push({ name: `${rel}/` });
        walk(abs);
      } else files.push({ name: rel, content: readFileSync(abs) });
    }
  };
  walk(dir);
  return tarBytes(files);
}

/** A `docker save` tar (the classic layout: manifest.json, <id>.json, <id>/layer.tar). */
export async function dockerSaveTar(spec: ImageSpec, repoTag: string): Promise<Buffer> {
  const img = await buildImage({
    ...spec,
    layers: spec.layers.map((l) => ({ ...l, compression: 'none' as const })),
  });
  const configName = `${img.config.digest.slice(7)}.json`;
  const files: TarFile[] = [{ name: configName, content: img.config.bytes }];
  const layerNames: string[] = [];
  img.tars.forEach((tar, i) => {
    const id = createHash('sha256').update(`layer-${i}-${img.diffIds[i]}`).digest('hex');
    files.push(
      { name: `${id}/` },
      { name: `${id}/VERSION`, content: '1.0' },
      { name: `${id}/layer.tar`, content: tar },
    );
    layerNames.push(`${id}/layer.tar`);
  });
  files.push({
    name: 'manifest.json',
    content: JSON.stringify([{ Config: configName, RepoTags: [repoTag], Layers: layerNames }]),
  });
  files.push({ name: 'repositories', content: '{}' });
  return tarBytes(files);
}
