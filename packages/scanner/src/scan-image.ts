import { compareFindings } from './finding.js';
import { createDetector } from './rules/builtin.js';
import type { ScanResult } from './scan.js';
import { InputScan, type InputScanSettings } from './scan-inputs.js';
import { dockerCredentials } from './sources/docker-config.js';
import { configFragments, imageFragments, Whiteouts } from './sources/image.js';
import { openImageArchive } from './sources/image-archive.js';
import { type Platform, parsePlatform, type ResolvedImage } from './sources/oci.js';
import { openRegistryImage } from './sources/registry.js';

/** The platform picked from multi-platform images unless asked otherwise. */
export const DEFAULT_PLATFORM = 'linux/amd64';

export interface ImageScanOptions extends InputScanSettings {
  /** Registry references, `HOST[:PORT]/REPO[:TAG][@DIGEST]`. */
  images?: string[];
  /** Image archives on disk: OCI layout folders or tars, `docker save` tars. */
  imageArchives?: { file: string; name: string }[];
  /** `os/arch[/variant]` (default linux/amd64). */
  platform?: string;
  /** Registry hosts (`host[:port]`) reached over plain HTTP. */
  insecureRegistries?: string[];
  /** Where DOCKER_CONFIG and HOME are read from (default: process.env). */
  env?: NodeJS.ProcessEnv;
  fetch?: typeof fetch;
  userAgent?: string;
}

/**
 * Scans container images without a Docker engine: the config (Env, Labels, Entrypoint, Cmd, build history and its comments) and
 * every layer's files, including files a later layer deleted, which are still in the image.
 */
export async function scanImages(options: ImageScanOptions): Promise<ScanResult> {
  const platform: Platform = parsePlatform(options.platform ?? DEFAULT_PLATFORM);
  const scan = new InputScan(options, createDetector(options.config));
  let configCount = 0;
  const scanOne = async (image: ResolvedImage): Promise<void> => {
    const whiteouts = new Whiteouts();
    const ctx = scan.context(image.name, { image: image.name }, false);
    configCount += configFragments(image.config, undefined).length;
    const found = await scan.run(ctx, imageFragments(image, ctx, whiteouts));
    for (const f of found) {
      const { layerIndex } = f.location;
      if (layerIndex === undefined) continue;
      const deleted = whiteouts.deletedIn(layerIndex, f.location.chain?.[0] ?? f.location.path);
      if (deleted !== undefined) f.location.deletedInLayer = deleted;
    }
  };
  for (const ref of options.images ?? []) {
    const images = await openRegistryImage(ref, platform, {
      insecureRegistries: options.insecureRegistries ?? [],
      credentials: dockerCredentials(options.env),
      ...(options.fetch ? { fetch: options.fetch } : {}),
      ...(options.userAgent ? { userAgent: options.userAgent } : {}),
    });
    for (const image of images) await scanOne(image);
  }
  for (const archive of options.imageArchives ?? []) {
    const opened = await openImageArchive(archive.file, archive.name, platform);
    try {
      for (const image of opened.images) await scanOne(image);
    } finally {
      opened.close();
    }
  }
  const result = scan.result(configCount);
  result.findings.sort(
    (a, b) =>
      (a.location.image ?? '').localeCompare(b.location.image ?? '') ||
      (a.location.layerIndex ?? 0) - (b.location.layerIndex ?? 0) ||
      compareFindings(a, b),
  );
  return result;
}
