import { statSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { ErrorCode, KeyfenceError } from '@keyfence/core';

/**
 * Checks, before a scan starts, that `--output FILE` can be written: its folder must exist (the
 * CLI does not create folders, so that a typo in a path fails at once instead of after the scan).
 */
export function checkOutputFile(file: string, given: string): void {
  const dir = dirname(file);
  let isDir = false;
  try {
    isDir = statSync(dir).isDirectory();
  } catch {
    // Missing or unreadable: reported below as one usage error.
  }
  if (!isDir) {
    throw new KeyfenceError(ErrorCode.USAGE, `--output ${given}: the folder ${dir} does not exist`, {
      hint: 'create the folder first, or give a path in an existing folder',
    });
  }
  if (statSync(file, { throwIfNoEntry: false })?.isDirectory()) {
    throw new KeyfenceError(ErrorCode.USAGE, `--output ${given} is a folder`, {
      hint: 'give a file name, e.g. --output report.sarif',
    });
  }
}

/** Runs `write` for the `--output` file; a failure (permissions, a full disk) is a user error. */
export function writeOutputFile(file: string, given: string, write: () => void): void {
  try {
    write();
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? (e as Error).message;
    throw new KeyfenceError(ErrorCode.USAGE, `cannot write --output ${given} (${code})`, {
      hint: `check that ${file} can be written (its folder's permissions, free space)`,
      cause: e,
    });
  }
}

/** Writes a report to the `--output` file. */
export function writeReportFile(file: string, given: string, text: string): void {
  writeOutputFile(file, given, () => writeFileSync(file, text));
}
