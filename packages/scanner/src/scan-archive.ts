import { existsSync } from 'node:fs';
import { ErrorCode, KeyfenceError } from '@keyfence/core';
import { compareFindings } from './finding.js';
import { createDetector } from './rules/builtin.js';
import type { ScanResult } from './scan.js';
import { InputScan, type InputScanSettings } from './scan-inputs.js';
import { archiveFileFragments } from './sources/archive.js';

/** One archive to scan: its file, and the name reports show (the first link of every chain). */
export interface ArchiveInput {
  file: string;
  name: string;
}

export interface ArchiveScanOptions extends InputScanSettings {
  archives: ArchiveInput[];
}

/**
 * Scans build artifacts (zip, jar, war, ear, whl, nupkg, tar, tar.gz, tar.zst) and the archives
 * nested in them, in memory, within the limits. A corrupt archive or a limit becomes a problem and
 * the scan goes on with the next input.
 */
export async function scanArchives(options: ArchiveScanOptions): Promise<ScanResult> {
  const scan = new InputScan(options, createDetector(options.config));
  for (const input of options.archives) {
    if (!existsSync(input.file)) {
      throw new KeyfenceError(ErrorCode.INPUT_NOT_FOUND, `no such archive: ${input.name}`, {
        hint: (names) => `check the path given to ${names.name('archive')}`,
      });
    }
    const ctx = scan.context(input.name, {}, true);
    try {
      await scan.run(ctx, archiveFileFragments(ctx, input.file, input.name));
    } catch (e) {
      if (e instanceof KeyfenceError) throw e;
      const code = (e as NodeJS.ErrnoException).code;
      ctx.budget.problem({
        kind: 'unreadable',
        path: input.name,
        message: `cannot read the archive (${code ?? (e as Error).message})`,
      });
    }
  }
  const result = scan.result();
  result.findings.sort(compareFindings);
  return result;
}
