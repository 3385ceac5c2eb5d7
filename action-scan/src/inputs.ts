import { getInput } from '@actions/core';
import { ErrorCode, KeyfenceError } from '@keyfence/core';
import { SCAN_MODES, type ScanMode } from '@keyfence/scanner';

/** The action's inputs, parsed once and checked (see action.yml for each one's meaning). */
export interface ScanInputs {
  path: string;
  mode: ScanMode;
  config?: string;
  baseline?: string;
  failOn: 'findings' | 'never';
  sarifFile?: string;
  reportFile?: string;
  maxAnnotations: number;
  /** A registry reference, or a path to an image archive (OCI layout or `docker save` tar). */
  image?: string;
  /** Globs of build outputs (archives) to scan, one per line. */
  artifacts: string[];
  /** Key for HMAC fingerprints (from a repository or organisation secret). */
  fingerprintKey?: string;
}

/** Reads the inputs from the runner's `INPUT_*` variables; a bad value is an error naming the input. */
export function readInputs(): ScanInputs {
  const inputs: ScanInputs = {
    path: getInput('path') || '.',
    mode: choice('mode', SCAN_MODES, 'auto'),
    failOn: choice('fail-on', ['findings', 'never'] as const, 'findings'),
    maxAnnotations: count('max-annotations', 10),
    artifacts: getInput('artifacts')
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => line !== '' && !line.startsWith('#')),
  };
  for (const [key, name] of [
    ['config', 'config'],
    ['baseline', 'baseline'],
    ['sarifFile', 'sarif-file'],
    ['reportFile', 'report-file'],
    ['image', 'image'],
    ['fingerprintKey', 'fingerprint-key'],
  ] as const) {
    const value = getInput(name);
    if (value !== '') inputs[key] = value;
  }
  return inputs;
}

function choice<T extends string>(name: string, allowed: readonly T[], fallback: T): T {
  const value = getInput(name);
  if (value === '') return fallback;
  if ((allowed as readonly string[]).includes(value)) return value as T;
  throw inputError(name, value, `one of ${allowed.join(', ')}`);
}

function count(name: string, fallback: number): number {
  const value = getInput(name);
  if (value === '') return fallback;
  if (!/^\d{1,6}$/.test(value)) throw inputError(name, value, 'a whole number, 0 or more');
  return Number(value);
}

function inputError(name: string, value: string, expected: string): KeyfenceError {
  return new KeyfenceError(ErrorCode.USAGE, `input "${name}" must be ${expected} (got "${value}")`, {
    hint: `fix \`${name}:\` under \`with:\` in the workflow; the inputs are listed in keyfence's docs/action-scan.md`,
  });
}
