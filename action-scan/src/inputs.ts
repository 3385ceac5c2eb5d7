import { getInput } from '@actions/core';
import { ErrorCode, KeyfenceError, type SettingNames } from '@keyfence/core';
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
  /** `os/arch[/variant]` to pick from a multi-platform image. */
  platform?: string;
  /** Registry hosts (`host[:port]`) reached over plain HTTP, one per line. */
  insecureRegistries: string[];
  /** Globs of build outputs (archives) to scan, one per line. */
  artifacts: string[];
  /** Key for HMAC fingerprints (from a repository or organisation secret). */
  fingerprintKey?: string;
}

/** Each scanner setting the action exposes, by id, with its input and whether it takes a list. */
const INPUT_OF: Record<string, { input: string; list: boolean }> = {
  config: { input: 'config', list: false },
  baseline: { input: 'baseline', list: false },
  archive: { input: 'artifacts', list: true },
  image: { input: 'image', list: false },
  platform: { input: 'platform', list: false },
  'insecure-registry': { input: 'insecure-registry', list: true },
};

/** Settings in the action's words: errors raised under the action name its inputs, not CLI flags. */
export const INPUT_NAMES: SettingNames = {
  name: (setting) => {
    const known = INPUT_OF[setting];
    return known ? `the \`${known.input}\` input` : `the CLI's --${setting} (the action has no such input)`;
  },
  set: (setting, value) => {
    const known = INPUT_OF[setting];
    if (!known) return `run \`keyfence scan\` with --${setting} ${value} (the action has no such input)`;
    return known.list
      ? `add \`${value}\` to the \`${known.input}\` input`
      : `set \`${known.input}: ${value}\` under \`with:\``;
  },
};

/** Reads the inputs from the runner's `INPUT_*` variables; a bad value is an error naming the input. */
export function readInputs(): ScanInputs {
  const inputs: ScanInputs = {
    path: getInput('path') || '.',
    mode: choice('mode', SCAN_MODES, 'auto'),
    failOn: choice('fail-on', ['findings', 'never'] as const, 'findings'),
    maxAnnotations: count('max-annotations', 10),
    insecureRegistries: lines('insecure-registry'),
    artifacts: lines('artifacts'),
  };
  for (const [key, name] of [
    ['config', 'config'],
    ['baseline', 'baseline'],
    ['sarifFile', 'sarif-file'],
    ['reportFile', 'report-file'],
    ['image', 'image'],
    ['platform', 'platform'],
    ['fingerprintKey', 'fingerprint-key'],
  ] as const) {
    const value = getInput(name);
    if (value !== '') inputs[key] = value;
  }
  return inputs;
}

/** A multi-line input: one value per line, blank lines and `#` comments left out. */
function lines(name: string): string[] {
  return getInput(name)
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
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
