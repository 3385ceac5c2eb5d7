import { acceptedByBaseline } from './baseline.js';
import { compareFindings, type Finding } from './finding.js';

/**
 * Gathers a scan's findings: leaves out those a baseline accepts and, for sources that see a
 * secret many times (git history, image layers), repeats of one secret after its first sighting.
 */
export class FindingCollector {
  readonly #findings: Finding[] = [];
  readonly #baseline: ReadonlySet<string> | undefined;
  readonly #seen: Set<string> | undefined;
  baselined = 0;

  constructor(baseline?: ReadonlySet<string>, options: { oncePerSecret?: boolean } = {}) {
    this.#baseline = baseline;
    this.#seen = options.oncePerSecret ? new Set() : undefined;
  }

  add(finding: Finding): void {
    if (this.#seen) {
      const key = `${finding.ruleId}:${finding.fingerprint}`;
      if (this.#seen.has(key)) return;
      this.#seen.add(key);
    }
    if (acceptedByBaseline(this.#baseline, finding)) this.baselined++;
    else this.#findings.push(finding);
  }

  /** The findings in report order (path, line, column, rule). */
  sorted(): Finding[] {
    return this.#findings.sort(compareFindings);
  }
}
