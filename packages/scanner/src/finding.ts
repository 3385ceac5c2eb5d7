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
 * One leaked secret. By construction it carries no secret: only a short preview and a
 * fingerprint (sha256 over rule id and secret, so a baseline survives line moves).
 */
export interface Finding {
  ruleId: string;
  description: string;
  location: Location;
  redacted: string;
  fingerprint: string;
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
