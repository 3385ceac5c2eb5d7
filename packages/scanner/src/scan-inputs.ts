import { acceptedByBaseline } from './baseline.js';
import { excludedPaths, type ScanConfig } from './config.js';
import type { Detector, Fragment } from './engine/detector.js';
import type { Finding, ScanProblem } from './finding.js';
import type { ScanResult } from './scan.js';
import type { WalkContext, WalkCounts } from './sources/archive.js';
import { type ArchiveLimits, DEFAULT_LIMITS, InputBudget, InputLimitReached } from './sources/limits.js';

/** Settings shared by the archive and image scans. */
export interface InputScanSettings {
  config: ScanConfig;
  baseline?: ReadonlySet<string>;
  /** Overrides of the default limits. */
  limits?: Partial<ArchiveLimits>;
  scanBinaries?: boolean;
}

/** The running state of a scan over several inputs (archives, images). */
export class InputScan {
  readonly findings: Finding[] = [];
  readonly problems: ScanProblem[] = [];
  readonly counts: WalkCounts = { files: 0, bytes: 0, skipped: 0 };
  readonly limits: ArchiveLimits;
  baselined = 0;
  readonly #settings: InputScanSettings;
  readonly #detector: Detector;
  readonly #exclude: ((path: string) => boolean) | undefined;
  readonly #started = performance.now();

  constructor(settings: InputScanSettings, detector: Detector) {
    this.#settings = settings;
    this.#detector = detector;
    this.limits = { ...DEFAULT_LIMITS, ...settings.limits };
    this.#exclude = excludedPaths(settings.config);
  }

  /** A walk context for one input, with its own budget. */
  context(input: string, location: WalkContext['location'], chainAlways: boolean): WalkContext {
    const ctx: WalkContext = {
      budget: new InputBudget(input, this.limits, this.problems),
      skipLockfiles: this.#settings.config.skipLockfiles,
      scanBinaries: this.#settings.scanBinaries ?? !this.#settings.config.skipBinaries,
      location,
      chainAlways,
      counts: this.counts,
    };
    if (this.#exclude) ctx.exclude = this.#exclude;
    return ctx;
  }

  /**
   * Runs the engine over one input's fragments. A limit that stops the input was already reported
   * by its budget; the scan goes on with the next input. Returns the input's new findings.
   */
  async run(ctx: WalkContext, fragments: AsyncIterable<Fragment>): Promise<Finding[]> {
    const found: Finding[] = [];
    // Overlapping pieces of one large entry can report a match twice: keep one.
    const seen = new Set<string>();
    try {
      for await (const fragment of fragments) {
        for (const f of this.#detector.detect(fragment)) {
          const key = `${f.ruleId}:${f.fingerprint}:${f.location.layer ?? ''}:${f.location.path}:${f.location.line}:${f.location.column}`;
          if (seen.has(key)) continue;
          seen.add(key);
          if (acceptedByBaseline(this.#settings.baseline, f)) this.baselined++;
          else found.push(f);
        }
      }
    } catch (e) {
      if (!(e instanceof InputLimitReached)) throw e;
    } finally {
      ctx.budget.finish();
    }
    this.findings.push(...found);
    return found;
  }

  result(configFragments = 0): ScanResult {
    return {
      findings: this.findings,
      problems: this.problems,
      warnings: this.#settings.config.warnings,
      stats: {
        files: this.counts.files + configFragments,
        bytes: this.counts.bytes,
        durationMs: Math.round(performance.now() - this.#started),
        skippedFiles: this.counts.skipped,
        rules: this.#detector.rules.length,
        baselined: this.baselined,
      },
    };
  }
}
