import type { ScanResult } from '../scan.js';

/** The JSON report: the design's contract (`findings`, `stats`), plus problems and warnings. */
export function findingsToJson(result: ScanResult): string {
  return `${JSON.stringify(
    {
      findings: result.findings,
      stats: result.stats,
      problems: result.problems,
      warnings: result.warnings,
      // Which config and baseline decided what was reported, and where they came from.
      ...(result.config ? { config: result.config } : {}),
    },
    null,
    2,
  )}\n`;
}
