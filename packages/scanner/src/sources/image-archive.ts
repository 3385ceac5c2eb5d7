import {
  closeSync,
  createReadStream,
  existsSync,
  fstatSync,
  openSync,
  readFileSync,
  readSync,
  statSync,
} from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { ErrorCode, KeyfenceError } from '@keyfence/core';
import {
  type BlobSource,
  checkDigest,
  type Descriptor,
  type ImageConfig,
  inputError,
  type Platform,
  parseJson,
  type ResolvedImage,
  resolveImages,
  verified,
} from './oci.js';
import { indexTar, type TarSpan } from './tar-index.js';

/** An open image archive: the images in it, and `close()` for the file it holds open. */
export interface OpenedImageArchive {
  images: ResolvedImage[];
  close(): void;
}

/**
 * Opens an image saved to disk: an OCI image layout folder, an OCI layout in a tar
 * (`skopeo copy ... oci-archive:`), or a `docker save` tar. Multi-platform indexes are narrowed
 * to `platform`.
 */
export async function openImageArchive(
  path: string,
  label: string,
  platform: Platform,
): Promise<OpenedImageArchive> {
  let isDir: boolean;
  try {
    isDir = statSync(path).isDirectory();
  } catch {
    throw new KeyfenceError(ErrorCode.INPUT_NOT_FOUND, `no such image archive: ${label}`, {
      hint: 'pass an OCI layout folder, an OCI layout tar or a `docker save` tar',
    });
  }
  if (isDir) {
    if (!existsSync(join(path, 'index.json'))) {
      throw inputError(
        `${label} is a folder without index.json`,
        'pass an OCI image layout folder (index.json, blobs/)',
      );
    }
    const source = layoutDirSource(path);
    const body = readFileSync(join(path, 'index.json'));
    return { images: await resolveImages(source, { body, name: `oci:${label}` }, platform), close: () => {} };
  }
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    const magic = Buffer.alloc(2);
    readSync(fd, magic, 0, 2, 0);
    if (magic[0] === 0x1f && magic[1] === 0x8b) {
      throw inputError(
        `${label} is gzip-compressed`,
        (names) =>
          `decompress it first (gunzip), or scan it with ${names.name('archive')} to read it as a plain archive`,
      );
    }
    let files: Map<string, TarSpan>;
    try {
      files = indexTar(fd, size);
    } catch (e) {
      throw inputError(`${label} is not a readable tar: ${(e as Error).message}`);
    }
    const read = (name: string): Buffer => {
      const span = files.get(name);
      if (!span) throw inputError(`${label} has no ${name}`);
      const buf = Buffer.alloc(span.size);
      readSync(fd, buf, 0, span.size, span.offset);
      return buf;
    };
    const open = (name: string): Readable => {
      const span = files.get(name);
      if (!span) throw inputError(`${label} has no ${name}`);
      if (span.size === 0) return Readable.from([]);
      return createReadStream(path, { start: span.offset, end: span.offset + span.size - 1 });
    };
    const images = files.has('manifest.json')
      ? dockerSaveImages(read, open, label)
      : files.has('index.json')
        ? await resolveImages(
            tarLayoutSource(read, open),
            { body: read('index.json'), name: `oci-archive:${label}` },
            platform,
          )
        : undefined;
    if (!images) {
      throw inputError(
        `${label} is neither an OCI layout tar (index.json) nor a docker save tar (manifest.json)`,
        'pass an OCI layout folder or tar, or the output of `docker save`',
      );
    }
    return { images, close: () => closeSync(fd) };
  } catch (e) {
    closeSync(fd);
    throw e;
  }
}

function blobPath(digest: string): string {
  const m = /^([a-z0-9]+(?:[+._-][a-z0-9]+)*):([a-zA-Z0-9=_-]+)$/.exec(digest);
  if (!m) throw inputError(`invalid digest "${digest}"`);
  return `blobs/${m[1]}/${m[2]}`;
}

function layoutDirSource(dir: string): BlobSource {
  const file = (d: Descriptor): string => {
    const p = join(dir, blobPath(d.digest));
    if (!existsSync(p)) throw inputError(`the layout ${dir} has no blob ${d.digest}`);
    return p;
  };
  return {
    read: async (d) => {
      const bytes = readFileSync(file(d));
      checkDigest(bytes, d.digest, `blob ${d.digest}`);
      return bytes;
    },
    open: async (d) => verified(createReadStream(file(d)), d.digest),
  };
}

function tarLayoutSource(read: (name: string) => Buffer, open: (name: string) => Readable): BlobSource {
  return {
    read: async (d) => {
      const bytes = read(blobPath(d.digest));
      checkDigest(bytes, d.digest, `blob ${d.digest}`);
      return bytes;
    },
    open: async (d) => verified(open(blobPath(d.digest)), d.digest),
  };
}

interface DockerSaveEntry {
  Config: string;
  RepoTags?: string[] | null;
  Layers: string[];
}

/** `docker save`'s manifest.json: one entry per image, with its config file and layer files. */
function dockerSaveImages(
  read: (name: string) => Buffer,
  open: (name: string) => Readable,
  label: string,
): ResolvedImage[] {
  const entries = parseJson<DockerSaveEntry[]>(read('manifest.json'), `manifest.json in ${label}`);
  if (!Array.isArray(entries)) throw inputError(`manifest.json in ${label} is not a list of images`);
  return entries.map((e, i) => {
    if (typeof e.Config !== 'string' || !Array.isArray(e.Layers)) {
      throw inputError(`manifest.json in ${label}: image ${i + 1} has no Config or Layers`);
    }
    const config = parseJson<ImageConfig>(read(e.Config), `${e.Config} in ${label}`);
    const tag = e.RepoTags?.[0];
    const diffIds = config.rootfs?.diff_ids ?? [];
    return {
      name: `docker-archive:${label}${tag ? `:${tag}` : entries.length > 1 ? `#${i + 1}` : ''}`,
      config,
      // A layer's identity is its diff id (the digest of the uncompressed tar), when the config has it.
      layers: e.Layers.map((file, j) => ({ digest: diffIds[j] ?? file, open: async () => open(file) })),
    };
  });
}
