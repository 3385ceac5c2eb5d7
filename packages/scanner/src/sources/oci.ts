import { createHash } from 'node:crypto';
import { type Readable, Transform } from 'node:stream';
import { ErrorCode, KeyfenceError, type KeyfenceErrorOptions } from '@keyfence/core';

/** A content descriptor: what the OCI image spec and Docker's manifests point with. */
export interface Descriptor {
  mediaType?: string;
  digest: string;
  size?: number;
  platform?: Platform;
  annotations?: Record<string, string>;
  urls?: string[];
}

export interface Platform {
  os: string;
  architecture: string;
  variant?: string;
}

export interface ImageManifest {
  mediaType?: string;
  config: Descriptor;
  layers: Descriptor[];
}

export interface ImageIndex {
  mediaType?: string;
  manifests: Descriptor[];
}

/** The fields of an image config that leak: environment, labels, command, and the build history. */
export interface ImageConfig {
  architecture?: string;
  os?: string;
  config?: {
    Env?: string[] | null;
    Labels?: Record<string, string> | null;
    Cmd?: string[] | string | null;
    Entrypoint?: string[] | string | null;
  };
  history?: { created_by?: string; comment?: string; empty_layer?: boolean }[];
  rootfs?: { diff_ids?: string[] };
}

export const MEDIA = {
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  dockerList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
} as const;

/** The Accept header for manifests: every kind this reader understands. */
export const MANIFEST_ACCEPT = [
  MEDIA.ociIndex,
  MEDIA.dockerList,
  MEDIA.ociManifest,
  MEDIA.dockerManifest,
].join(', ');

/** One layer to read, with how to open its blob. */
export interface ImageLayer {
  digest: string;
  mediaType?: string;
  open(): Promise<Readable>;
}

/** An image ready to scan: its name in reports, its config, and its layers, base first. */
export interface ResolvedImage {
  name: string;
  config: ImageConfig;
  layers: ImageLayer[];
}

/** Where manifests and blobs come from: a layout folder, a tar, or a registry. */
export interface BlobSource {
  /** Bytes of a small blob (a manifest, a config), checked against its digest. */
  read(desc: Descriptor): Promise<Buffer>;
  /** A stream of a large blob (a layer). */
  open(desc: Descriptor): Promise<Readable>;
}

/** Parses `os/arch[/variant]`. */
export function parsePlatform(text: string): Platform {
  const [os, architecture, variant, extra] = text.split('/');
  if (!os || !architecture || extra !== undefined || variant === '') {
    throw new KeyfenceError(ErrorCode.USAGE, `a platform is OS/ARCH[/VARIANT] (got "${text}")`, {
      hint: (names) => `e.g. ${names.set('platform', 'linux/arm64')} (or linux/arm64/v8)`,
    });
  }
  return variant ? { os, architecture, variant } : { os, architecture };
}

export function formatPlatform(p: Platform): string {
  return [p.os, p.architecture, p.variant].filter(Boolean).join('/');
}

/** Whether a manifest's platform is the one wanted; a variant only matters when one was asked for. */
export function platformMatches(have: Platform, want: Platform): boolean {
  if (have.os !== want.os || have.architecture !== want.architecture) return false;
  return want.variant === undefined || have.variant === want.variant;
}

export function isIndex(mediaType: string | undefined, body: unknown): boolean {
  if (mediaType === MEDIA.ociIndex || mediaType === MEDIA.dockerList) return true;
  if (mediaType === MEDIA.ociManifest || mediaType === MEDIA.dockerManifest) return false;
  return Array.isArray((body as { manifests?: unknown } | null)?.manifests);
}

/** Parses JSON, or throws an input error naming what it was. */
export function parseJson<T>(bytes: Buffer | string, what: string): T {
  try {
    return JSON.parse(bytes.toString()) as T;
  } catch (e) {
    throw new KeyfenceError(ErrorCode.INPUT_UNREADABLE, `${what} is not valid JSON`, {
      hint: 'the image is damaged or not an OCI/Docker image',
      cause: e,
    });
  }
}

/** sha256 of bytes, as a digest string. */
export function sha256Digest(bytes: Buffer): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

/** Throws when bytes do not match their sha256 digest (other algorithms are not checked). */
export function checkDigest(bytes: Buffer, digest: string, what: string): void {
  if (digest.startsWith('sha256:') && sha256Digest(bytes) !== digest) {
    throw new KeyfenceError(ErrorCode.INPUT_UNREADABLE, `${what} does not match its digest ${digest}`, {
      hint: 'the image is damaged or was changed; pull or save it again',
    });
  }
}

/** The stream, failing at its end if its bytes do not match the sha256 digest. */
export function verified(stream: Readable, digest: string): Readable {
  const v = verifyingStream(digest);
  stream.once('error', (e) => v.destroy(e));
  v.once('close', () => {
    if (!stream.destroyed) stream.destroy();
  });
  return stream.pipe(v);
}

function verifyingStream(digest: string): Transform {
  const hash = digest.startsWith('sha256:') ? createHash('sha256') : undefined;
  return new Transform({
    transform(chunk: Buffer, _enc, cb) {
      hash?.update(chunk);
      cb(null, chunk);
    },
    flush(cb) {
      const got = hash ? `sha256:${hash.digest('hex')}` : digest;
      cb(got === digest ? null : new Error(`blob does not match its digest ${digest} (got ${got})`));
    },
  });
}

/**
 * Resolves a manifest or index to the images to scan: an index is narrowed to the wanted platform
 * (nested indexes followed, attestation manifests left out by their platform), and each
 * manifest's config is read.
 */
export async function resolveImages(
  source: BlobSource,
  root: { mediaType?: string; body: Buffer; name: string },
  platform: Platform,
): Promise<ResolvedImage[]> {
  const images: ResolvedImage[] = [];
  const seen = new Set<string>();
  const visit = async (
    mediaType: string | undefined,
    body: Buffer,
    name: string,
    depth: number,
  ): Promise<void> => {
    const doc = parseJson<ImageIndex | ImageManifest>(body, `the manifest of ${name}`);
    const type = mediaType ?? doc.mediaType;
    if (isIndex(type, doc)) {
      if (depth > 4) throw inputError(`${name}: indexes nested too deeply`);
      const entries = (doc as ImageIndex).manifests ?? [];
      const withPlatform = entries.filter((d) => d.platform && !isIndex(d.mediaType, undefined));
      const picked = entries.filter(
        (d) => isIndex(d.mediaType, undefined) || !d.platform || platformMatches(d.platform, platform),
      );
      if (
        withPlatform.length > 0 &&
        !picked.some((d) => d.platform && platformMatches(d.platform, platform))
      ) {
        const have = [...new Set(withPlatform.map((d) => formatPlatform(d.platform!)))].join(', ');
        throw new KeyfenceError(
          ErrorCode.INPUT_NOT_FOUND,
          `${name} has no image for ${formatPlatform(platform)} (it has: ${have})`,
          {
            hint: (names) =>
              `to scan one of those, ${names.set('platform', formatPlatform(withPlatform[0]!.platform!))}`,
          },
        );
      }
      for (const d of picked) {
        if (seen.has(d.digest)) continue;
        seen.add(d.digest);
        const tag = d.annotations?.['org.opencontainers.image.ref.name'];
        await visit(
          d.mediaType,
          await source.read(d),
          tag && depth === 0 ? `${name}:${tag}` : name,
          depth + 1,
        );
      }
      return;
    }
    const manifest = doc as ImageManifest;
    if (!manifest.config?.digest || !Array.isArray(manifest.layers)) {
      throw inputError(
        `${name}: the manifest has no config or layers (schema 1 manifests are not supported)`,
      );
    }
    const config = parseJson<ImageConfig>(await source.read(manifest.config), `the config of ${name}`);
    images.push({
      name,
      config,
      layers: manifest.layers.map((l) => {
        const layer: ImageLayer = { digest: l.digest, open: () => source.open(l) };
        if (l.mediaType !== undefined) layer.mediaType = l.mediaType;
        return layer;
      }),
    });
  };
  await visit(root.mediaType, root.body, root.name, 0);
  return images;
}

export function inputError(
  message: string,
  hint: KeyfenceErrorOptions['hint'] = 'the image is damaged or not an OCI/Docker image',
): KeyfenceError {
  return new KeyfenceError(ErrorCode.INPUT_UNREADABLE, message, { hint });
}
