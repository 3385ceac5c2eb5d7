import type { Fragment } from '../engine/detector.js';
import { displayName, tarEntries, tarEntryFragments, type WalkContext } from './archive.js';
import { InputLimitReached } from './limits.js';
import type { ImageConfig, ResolvedImage } from './oci.js';
import { archiveKind, decompress, RatioExceededError, sniff } from './streams.js';

/** Paths of the config fields that are scanned, as findings show them. */
export const CONFIG_PATHS = {
  env: 'image-config/Env',
  labels: 'image-config/Labels',
  history: 'image-config/history',
  historyComment: 'image-config/history-comment',
  cmd: 'image-config/Cmd',
  entrypoint: 'image-config/Entrypoint',
} as const;

const WHITEOUT_PREFIX = '.wh.';
const OPAQUE = '.wh..wh..opq';

/**
 * The deletions each layer makes (whiteout files, opaque folders), so a finding in a lower layer
 * can say which later layer hid it. Hidden is not gone: the lower layer still ships the file.
 */
export class Whiteouts {
  readonly #deleted = new Map<number, Set<string>>();
  readonly #opaque = new Map<number, Set<string>>();

  /** Records a tar entry if it is a whiteout; returns whether it was. */
  record(layer: number, path: string): boolean {
    const slash = path.lastIndexOf('/');
    const dir = slash < 0 ? '' : path.slice(0, slash);
    const base = path.slice(slash + 1);
    if (!base.startsWith(WHITEOUT_PREFIX)) return false;
    if (base === OPAQUE) add(this.#opaque, layer, dir);
    else add(this.#deleted, layer, (dir ? `${dir}/` : '') + base.slice(WHITEOUT_PREFIX.length));
    return true;
  }

  /** The first layer above `layer` that deleted `path` (or a folder holding it), if any. */
  deletedIn(layer: number, path: string): number | undefined {
    const layers = [...new Set([...this.#deleted.keys(), ...this.#opaque.keys()])]
      .filter((l) => l > layer)
      .sort((a, b) => a - b);
    const parts = path.split('/');
    for (const l of layers) {
      const deleted = this.#deleted.get(l);
      const opaque = this.#opaque.get(l);
      for (let i = 1; i <= parts.length; i++) {
        const prefix = parts.slice(0, i).join('/');
        if (deleted?.has(prefix)) return l;
        // An opaque folder hides everything below it in lower layers (not the folder itself).
        if (i < parts.length && opaque?.has(prefix)) return l;
      }
      if (opaque?.has('')) return l;
    }
    return undefined;
  }
}

function add(map: Map<number, Set<string>>, layer: number, path: string): void {
  let set = map.get(layer);
  if (!set) {
    set = new Set();
    map.set(layer, set);
  }
  set.add(path);
}

/** A layer entry's path as the image's file system sees it (`./app/.env` and `/app/.env` are `app/.env`). */
export function layerPath(name: string): string {
  return name
    .replace(/^(\.\/)+/, '')
    .replace(/^\/+/, '')
    .replace(/\/+$/, '');
}

/** The config's leaky fields as fragments: Env, Labels, Entrypoint, Cmd, each history `created_by` and `comment`. */
export function configFragments(config: ImageConfig, location: Fragment['location']): Fragment[] {
  const out: Fragment[] = [];
  const lines = (path: string, values: string[]): void => {
    // One value per numbered line; a value with newlines (a heredoc RUN) keeps its entry's number.
    const text: string[] = [];
    const lineNumbers: number[] = [];
    values.forEach((v, i) => {
      for (const l of v.split('\n')) {
        text.push(l);
        lineNumbers.push(i + 1);
      }
    });
    if (text.length > 0)
      out.push({ text: text.join('\n'), path, lineNumbers, ...(location ? { location } : {}) });
  };
  lines(CONFIG_PATHS.env, config.config?.Env ?? []);
  lines(
    CONFIG_PATHS.labels,
    Object.entries(config.config?.Labels ?? {}).map(([k, v]) => `${k}=${v}`),
  );
  lines(
    CONFIG_PATHS.history,
    (config.history ?? []).map((h) => h.created_by ?? ''),
  );
  // Comments are numbered by history entry too, so line N is the comment of `history` line N.
  const comments = (config.history ?? []).map((h) => h.comment ?? '');
  lines(CONFIG_PATHS.historyComment, comments.some((c) => c !== '') ? comments : []);
  // An exec-form command is one line: `--token VALUE` keeps the context the rules look for.
  lines(CONFIG_PATHS.entrypoint, commandLine(config.config?.Entrypoint));
  lines(CONFIG_PATHS.cmd, commandLine(config.config?.Cmd));
  return out;
}

function commandLine(command: string[] | string | null | undefined): string[] {
  if (typeof command === 'string') return command === '' ? [] : [command];
  return command && command.length > 0 ? [command.join(' ')] : [];
}

/**
 * The fragments of an image: its config, then every layer's files, base layer first, including
 * files a later layer deleted. Layers are streamed (decompressed on the fly, gzip or zstd) and
 * never written to disk; whiteouts are recorded in `whiteouts` as they are read.
 */
export async function* imageFragments(
  image: ResolvedImage,
  ctx: WalkContext,
  whiteouts: Whiteouts,
): AsyncGenerator<Fragment> {
  yield* configFragments(image.config, { image: image.name });
  for (const [i, layer] of image.layers.entries()) {
    const index = i + 1;
    const layerCtx: WalkContext = {
      ...ctx,
      location: { ...ctx.location, image: image.name, layer: layer.digest, layerIndex: index },
    };
    const where = `${image.name} layer ${index} (${layer.digest})`;
    ctx.budget.where = where;
    try {
      const raw = await sniff(await layer.open());
      const kind = archiveKind('', raw.head);
      const tar =
        kind === 'gzip' || kind === 'zstd'
          ? (await sniff(decompress(raw.stream, kind, ctx.budget.limits.maxRatio))).stream
          : raw.stream;
      for await (const entry of tarEntries(tar)) {
        const h = entry.header;
        const path = layerPath(displayName(h.name));
        if (whiteouts.record(index, path) || (h.type !== 'file' && h.type !== 'contiguous-file')) {
          entry.resume();
          continue;
        }
        yield* tarEntryFragments(layerCtx, [path], entry, h.size ?? 0, 0);
      }
    } catch (e) {
      if (e instanceof InputLimitReached) throw e;
      if (e instanceof RatioExceededError) {
        ctx.budget.limit(
          where,
          `${e.message}; the rest of the layer was not read (raise --archive-max-ratio)`,
        );
      } else {
        ctx.budget.problem({
          kind: 'unreadable',
          path: where,
          message: `cannot read the layer: ${(e as Error).message}`,
        });
      }
    }
  }
}
