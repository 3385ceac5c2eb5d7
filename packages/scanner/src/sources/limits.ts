import type { ScanProblem } from '../finding.js';

/**
 * Bounds on what one input (an archive file or an image) may make the scanner read, so a hostile
 * archive (a zip bomb, a nesting bomb, millions of entries) costs a warning, not the machine.
 */
export interface ArchiveLimits {
  /** Archives nested inside the input that are opened, counting the input itself as depth 0. */
  maxDepth: number;
  /** Uncompressed bytes read from one input, over all its entries and nested archives. */
  maxTotalBytes: number;
  /** Uncompressed size of one entry; larger text entries and nested archives are skipped. */
  maxEntryBytes: number;
  /** Entries in one input, over all its nested archives. */
  maxEntries: number;
  /** Uncompressed size over compressed size, checked once an entry or stream passes 1 MiB. */
  maxRatio: number;
}

const MiB = 1024 * 1024;

/** The defaults (documented in docs/images-and-archives.md). */
export const DEFAULT_LIMITS: Readonly<ArchiveLimits> = Object.freeze({
  maxDepth: 5,
  maxTotalBytes: 4096 * MiB,
  maxEntryBytes: 256 * MiB,
  maxEntries: 1_000_000,
  maxRatio: 100,
});

/** Compression ratios are only judged past this size: small files of repeated text compress well. */
export const RATIO_MIN_BYTES = MiB;

/** Problems kept per input; past that they are counted, so a hostile input cannot flood the report. */
const MAX_PROBLEMS_PER_INPUT = 100;

/** Thrown to stop reading one input (total bytes or entry count exceeded); the scan goes on. */
export class InputLimitReached extends Error {
  override name = 'InputLimitReached';
}

/** The running totals of one input against its limits, and the problems it produced. */
export class InputBudget {
  readonly limits: ArchiveLimits;
  readonly input: string;
  #bytes = 0;
  #entries = 0;
  #listed = 0;
  #dropped = 0;
  readonly #problems: ScanProblem[];

  constructor(input: string, limits: ArchiveLimits, problems: ScanProblem[]) {
    this.input = input;
    this.limits = limits;
    this.#problems = problems;
  }

  get bytes(): number {
    return this.#bytes;
  }

  /** Counts one entry; throws InputLimitReached past the entry limit. */
  countEntry(path: string): void {
    this.#entries++;
    if (this.#entries > this.limits.maxEntries) {
      this.limit(
        path,
        `more than ${this.limits.maxEntries} entries; the rest of ${this.input} was not read (raise --archive-max-entries)`,
      );
      throw new InputLimitReached();
    }
  }

  /** Counts uncompressed bytes; throws InputLimitReached past the total. */
  countBytes(path: string, n: number): void {
    this.#bytes += n;
    if (this.#bytes > this.limits.maxTotalBytes) {
      this.limit(
        path,
        `more than ${formatBytes(this.limits.maxTotalBytes)} uncompressed; the rest of ${this.input} was not read (raise --archive-max-total-size)`,
      );
      throw new InputLimitReached();
    }
  }

  /** A limit was hit: reported as a problem of kind `limit`. */
  limit(path: string, message: string): void {
    this.problem({ kind: 'limit', path, message });
  }

  /** Where in the input the walk is (an image's layer), put before the paths of problems. */
  where: string | undefined;

  problem(p: ScanProblem): void {
    if (this.where !== undefined && p.path !== undefined && p.path !== this.where) {
      p = { ...p, path: `${this.where}: ${p.path}` };
    }
    if (this.#listed >= MAX_PROBLEMS_PER_INPUT) {
      this.#dropped++;
      return;
    }
    this.#listed++;
    this.#problems.push(p);
  }

  /** Adds a line for the problems left out, if any. */
  finish(): void {
    if (this.#dropped > 0) {
      this.#problems.push({
        kind: 'limit',
        path: this.input,
        message: `${this.#dropped} more problem(s) in this input were not listed`,
      });
    }
  }
}

/** `1.5 GiB`, `256 MiB`, `12 KiB`, `900 B`. */
export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${Number.isInteger(v) ? v : v.toFixed(1)} ${units[u]}`;
}

/** Parses `512MiB`, `2GB`, `100k`, `1048576` into bytes (binary multiples either way); NaN if invalid. */
export function parseBytes(text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)(i?b)?\s*$/i.exec(text);
  if (!m) return Number.NaN;
  const exp = ' kmgt'.indexOf((m[2] ?? '').toLowerCase() || ' ');
  return Math.floor(Number(m[1]) * 1024 ** exp);
}
