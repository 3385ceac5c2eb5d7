import { readFileSync, writeFileSync } from 'node:fs';
import { ErrorCode, KeyfenceError } from '@keyfence/core';
import type { FingerprintScheme, FingerprintSettings } from './engine/fingerprint.js';
import { type Finding, LEGACY_PREFIX } from './finding.js';

/**
 * A baseline: findings a team has accepted, by fingerprint (rule + secret, so line moves keep
 * it). Version 2 records how the fingerprints were made; version 1 held unsalted sha256 ones.
 */
export interface BaselineFile {
  version: 2;
  fingerprint: FingerprintScheme;
  findings: { fingerprint: string; ruleId: string; path: string; line: number }[];
}

/** The fingerprints a baseline accepts; v1 entries carry LEGACY_PREFIX and are counted. */
export class Baseline extends Set<string> {
  /** How the file's v2 fingerprints were made (undefined for a v1 file). */
  scheme: FingerprintScheme | undefined;
  /** How many entries are v1 fingerprints, matched only until the file is rewritten. */
  legacyEntries = 0;

  constructor(readonly file: string) {
    super();
  }
}

/** Builds the baseline document for a set of findings fingerprinted with `scheme`. */
export function createBaseline(findings: Finding[], scheme: FingerprintScheme): BaselineFile {
  return {
    version: 2,
    fingerprint: scheme,
    findings: findings.map((f) => ({
      fingerprint: f.fingerprint,
      ruleId: f.ruleId,
      path: f.location.path,
      line: f.location.line,
    })),
  };
}

/** Writes a baseline file. */
export function writeBaseline(file: string, findings: Finding[], scheme: FingerprintScheme): void {
  writeFileSync(file, `${JSON.stringify(createBaseline(findings, scheme), null, 2)}\n`);
}

/** Reads a baseline file (version 1 or 2) into the set of fingerprints it accepts. */
export function readBaseline(file: string): Baseline {
  let doc: unknown;
  try {
    doc = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new KeyfenceError(
      code ? ErrorCode.INPUT_UNREADABLE : ErrorCode.BASELINE_INVALID,
      code
        ? `cannot read baseline ${file} (${code})`
        : `baseline ${file} is not valid JSON: ${(e as Error).message}`,
      { hint: 'create one with `keyfence baseline --output FILE`', cause: e },
    );
  }
  const findings = (doc as Partial<BaselineFile>)?.findings;
  if (!Array.isArray(findings) || findings.some((f) => typeof f?.fingerprint !== 'string')) {
    throw new KeyfenceError(
      ErrorCode.BASELINE_INVALID,
      `baseline ${file} has no "findings" list of fingerprints`,
      {
        hint: 'create one with `keyfence baseline --output FILE`',
      },
    );
  }
  const baseline = new Baseline(file);
  const version = (doc as { version?: unknown }).version;
  const scheme = (doc as { fingerprint?: unknown }).fingerprint;
  if (version === 2 && (scheme === 'hmac' || scheme === 'scrypt')) {
    baseline.scheme = scheme;
    for (const f of findings) baseline.add(f.fingerprint);
  } else if (version === 1 || version === undefined) {
    for (const f of findings) baseline.add(`${LEGACY_PREFIX}${f.fingerprint}`);
    baseline.legacyEntries = findings.length;
  } else {
    throw new KeyfenceError(
      ErrorCode.BASELINE_INVALID,
      `baseline ${file} has an unknown version or fingerprint scheme`,
      { hint: 'rewrite it with `keyfence baseline --output FILE`' },
    );
  }
  return baseline;
}

/**
 * The fingerprint settings for a scan (keyed when `key` is set; v1 too only while the baseline
 * holds v1 entries) and the notices to print about the baseline in force.
 */
export function fingerprintSettings(
  key: string | undefined,
  baseline: Baseline | undefined,
): { settings: FingerprintSettings; warnings: string[] } {
  const settings: FingerprintSettings = {};
  if (key !== undefined && key !== '') settings.key = key;
  const scheme: FingerprintScheme = settings.key === undefined ? 'scrypt' : 'hmac';
  const warnings: string[] = [];
  if (baseline && baseline.legacyEntries > 0) {
    settings.legacy = true;
    warnings.push(
      `baseline ${baseline.file} holds ${baseline.legacyEntries} v1 fingerprint(s) (unsalted sha256: anyone ` +
        'can test a guessed secret against them); they still match, but rewrite it with `keyfence baseline`',
    );
  }
  if (baseline?.scheme !== undefined && baseline.scheme !== scheme) {
    warnings.push(
      `baseline ${baseline.file} was written with ${baseline.scheme} fingerprints, but this scan makes ` +
        `${scheme} ones (${scheme === 'hmac' ? 'a key is set' : `no ${'KEYFENCE_FINGERPRINT_KEY'} is set`}), so ` +
        'none of its entries match; set the same key as when it was written, or rewrite it',
    );
  }
  return { settings, warnings };
}
