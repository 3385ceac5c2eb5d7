/** Where a finding sits. Sources fill in what applies to them (commit, layer, archive chain). */
export interface Location {
  path: string;
  line: number;
  column: number;
  endLine: number;
  commit?: string;
  author?: string;
  /** The image reference, for findings in a container image (its layers or its config). */
  image?: string;
  /** The layer's digest, for findings inside an image layer. */
  layer?: string;
  /** The layer's position in the image, 1 = the base layer. */
  layerIndex?: number;
  /**
   * The later layer (1-based) whose whiteout deleted this file: the file is invisible in a
   * container but still in the image, and anyone who pulls it can read it.
   */
  deletedInLayer?: number;
  /** Archives and entries from the outermost input down (`dist.zip`, `lib/app.jar`, `app.properties`). */
  chain?: string[];
  /** How the secret was encoded where it was found (`base64`, `percent`), outermost first. */
  decodedFrom?: string[];
}

export type Confidence = 'high' | 'medium' | 'low';

/**
 * One leaked secret. By construction it carries no secret: only a preview (the format's public
 * prefix, if any, and a length class) and a fingerprint over rule id and secret, so a baseline
 * survives line moves. The fingerprint is keyed (HMAC) or slow and salted (scrypt): a reader of
 * a report cannot test a guessed secret against it cheaply.
 */
export interface Finding {
  ruleId: string;
  description: string;
  location: Location;
  redacted: string;
  fingerprint: string;
  /** `hmac` (keyed), `scrypt` (no key: reports for the log show none of it) or `ephemeral` (this run only, never shown). */
  fingerprintScheme: 'hmac' | 'scrypt' | 'ephemeral';
  /**
   * The unsalted v1 fingerprint, present only while a v1 baseline is matched; taken off before
   * the finding is kept (see `acceptedByBaseline` in baseline.ts), so no report carries it.
   */
  legacyFingerprint?: string;
  entropy: number;
  confidence: Confidence;
  tags: string[];
}

/** Something the scan could not do (unreadable file, skipped rule); reported, never fatal. */
export interface ScanProblem {
  kind: 'unreadable' | 'skipped' | 'rule' | 'limit' | 'timeout';
  path?: string;
  ruleId?: string;
  message: string;
}

export function compareFindings(a: Finding, b: Finding): number {
  return (
    a.location.path.localeCompare(b.location.path) ||
    a.location.line - b.location.line ||
    a.location.column - b.location.column ||
    a.ruleId.localeCompare(b.ruleId)
  );
}
