import { type ArchiveLimits, parseBytes } from '@keyfence/scanner';
import { usageError } from '../args.js';

/** The flags that bound archive and image reading. */
export interface LimitValues {
  'archive-max-depth'?: string | undefined;
  'archive-max-total-size'?: string | undefined;
  'archive-max-entry-size'?: string | undefined;
  'archive-max-entries'?: string | undefined;
  'archive-max-ratio'?: string | undefined;
}

/** Parses the limit flags; unset ones keep the scanner's defaults. */
export function limitsFromArgs(values: LimitValues): Partial<ArchiveLimits> {
  const limits: Partial<ArchiveLimits> = {};
  const int = (flag: keyof LimitValues, min: number, max: number): number | undefined => {
    const v = values[flag];
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!Number.isInteger(n) || n < min || n > max) {
      throw usageError(
        `--${flag} must be an integer from ${min} to ${max} (got "${v}")`,
        'see docs/images-and-archives.md',
      );
    }
    return n;
  };
  const size = (flag: keyof LimitValues): number | undefined => {
    const v = values[flag];
    if (v === undefined) return undefined;
    const n = parseBytes(v);
    if (!Number.isFinite(n) || n < 1) {
      throw usageError(
        `--${flag} takes a size such as 512MiB, 2GiB or 1048576 (got "${v}")`,
        'see docs/images-and-archives.md',
      );
    }
    return n;
  };
  const depth = int('archive-max-depth', 0, 100);
  const entries = int('archive-max-entries', 1, Number.MAX_SAFE_INTEGER);
  const ratio = int('archive-max-ratio', 1, 1_000_000);
  const total = size('archive-max-total-size');
  const entry = size('archive-max-entry-size');
  if (depth !== undefined) limits.maxDepth = depth;
  if (entries !== undefined) limits.maxEntries = entries;
  if (ratio !== undefined) limits.maxRatio = ratio;
  if (total !== undefined) limits.maxTotalBytes = total;
  if (entry !== undefined) limits.maxEntryBytes = entry;
  return limits;
}
