import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { ErrorCode, KeyfenceError } from '@keyfence/core';
import { type FingerprintScheme, type FingerprintSettings, LEGACY_PREFIX } from './engine/fingerprint.js';
import type { Finding } from './finding.js';
import { BASELINE_MAX_BYTES, readFailure, readTextFile } from './sources/files.js';

type BaselineEntry = BaselineFile['findings'][number];

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
  /** The findings this baseline accepted in a scan, by v2 fingerprint: what a rewrite keeps. */
  readonly accepted = new Map<string, BaselineEntry>();

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
  writeBaselineFile(file, createBaseline(findings, scheme));
}

/**
 * Rewrites an old baseline in the current format: exactly the entries it accepted in this scan,
 * fingerprinted anew (a migration must not accept anything the old file did not).
 */
export function rewriteBaseline(file: string, old: Baseline, scheme: FingerprintScheme): number {
  const findings = [...old.accepted.values()].sort(
    (a, b) => a.path.localeCompare(b.path) || a.line - b.line || a.ruleId.localeCompare(b.ruleId),
  );
  writeBaselineFile(file, { version: 2, fingerprint: scheme, findings });
  return findings.length;
}

function writeBaselineFile(file: string, doc: BaselineFile): void {
  writeFileSync(file, `${JSON.stringify(doc, null, 2)}\n`);
}

/** Reads a baseline file (version 1 or 2) into the set of fingerprints it accepts. */
export function readBaseline(file: string): Baseline {
  let text: string;
  try {
    text = readTextFile(file, BASELINE_MAX_BYTES);
  } catch (e) {
    const code = readFailure(e);
    throw new KeyfenceError(ErrorCode.INPUT_UNREADABLE, `cannot read baseline ${file} (${code})`, {
      hint: 'create one with `keyfence baseline --output FILE`',
      cause: e,
    });
  }
  return parseBaseline(text, file);
}

/** Parses baseline text (from a file, or from a commit) into the fingerprints it accepts. */
export function parseBaseline(text: string, file: string): Baseline {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new KeyfenceError(
      ErrorCode.BASELINE_INVALID,
      `baseline ${file} is not valid JSON: ${(e as Error).message}`,
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

/** Fingerprint keys shorter than this get a warning: a reader could guess them. */
const MIN_KEY_CHARS = 16;

/**
 * The fingerprint settings for a scan (keyed when `key` is set; v1 too only while the baseline
 * holds v1 entries) and the notices to print about the baseline in force.
 */
export function fingerprintSettings(
  key: string | undefined,
  baseline: Baseline | undefined,
  /** False when no output of the run shows a fingerprint and no baseline is read. */
  reported = true,
): { settings: FingerprintSettings; warnings: string[] } {
  const settings: FingerprintSettings = {};
  if (key !== undefined && key !== '') settings.key = key;
  else if (!reported && baseline === undefined) {
    return { settings: { key: randomBytes(32).toString('hex'), ephemeral: true }, warnings: [] };
  }
  const scheme: FingerprintScheme = settings.key === undefined ? 'scrypt' : 'hmac';
  const warnings: string[] = [];
  if (settings.key !== undefined && settings.key.length < MIN_KEY_CHARS) {
    // A key short enough to guess lets a reader guess key and secret together.
    warnings.push(
      `the fingerprint key is only ${settings.key.length} characters long: a reader could guess it along with ` +
        `a secret; use at least ${MIN_KEY_CHARS} random characters (e.g. \`openssl rand -hex 32\`)`,
    );
  }
  const rewrite = `rewrite it with \`keyfence baseline --baseline ${baseline?.file} --output ${baseline?.file}\``;
  if (baseline && baseline.legacyEntries > 0) {
    settings.legacy = 'v1';
    warnings.push(
      `baseline ${baseline.file} holds ${baseline.legacyEntries} v1 fingerprint(s) (unsalted sha256: anyone ` +
        `can test a guessed secret against them); they still match, but ${rewrite}`,
    );
  } else if (baseline?.scheme === 'scrypt' && scheme === 'hmac') {
    settings.legacy = 'scrypt';
    warnings.push(
      `baseline ${baseline.file} was written without a fingerprint key; its entries still match, but ${rewrite}`,
    );
  } else if (baseline?.scheme === 'hmac' && scheme === 'scrypt') {
    warnings.push(
      `baseline ${baseline.file} was written with hmac fingerprints, but this scan makes scrypt ones ` +
        '(no KEYFENCE_FINGERPRINT_KEY is set), so none of its entries match; set the key it was written with',
    );
  }
  return { settings, warnings };
}

/**
 * Whether a baseline accepts a finding (by its fingerprint, or by the older one its entries were
 * written with); either way, the older fingerprint is dropped from the finding here.
 */
export function acceptedByBaseline(baseline: ReadonlySet<string> | undefined, finding: Finding): boolean {
  const legacy = finding.legacyFingerprint;
  delete finding.legacyFingerprint;
  if (!baseline) return false;
  const accepted = baseline.has(finding.fingerprint) || (legacy !== undefined && baseline.has(legacy));
  if (accepted && baseline instanceof Baseline && !baseline.accepted.has(finding.fingerprint)) {
    const { fingerprint, ruleId, location } = finding;
    baseline.accepted.set(fingerprint, { fingerprint, ruleId, path: location.path, line: location.line });
  }
  return accepted;
}
