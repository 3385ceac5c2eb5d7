import type { Log, ReportingDescriptor, Result } from 'sarif';
import type { Finding } from '../finding.js';
import type { ScanResult } from '../scan.js';
import { markdownText } from './github.js';
import { imageWhere } from './text.js';

/** GitHub code scanning accepts at most this many results per run. */
export const SARIF_MAX_RESULTS = 25_000;

/** How many of `findings` findings a SARIF report holds (the first ones, up to the cap). */
export function sarifResultCount(findings: number): number {
  return Math.min(findings, SARIF_MAX_RESULTS);
}

/**
 * Where result URIs are rooted. Files inside an image or an archive are not repository files:
 * they get their own bases, and URIs no checkout file has (the image reference first; the archive
 * chain with its `!/`), since code scanning reads only the relative URI and would otherwise pin
 * the alert on an unrelated repository file. `file:` because code scanning refuses other schemes.
 */
const URI_BASES = {
  '%SRCROOT%': { uri: 'file:///' },
  IMAGE: {
    uri: 'file:///keyfence-image/',
    description: {
      text: 'Inside a container image: the image reference, then the path in its layer or config',
    },
  },
  ARTIFACT: {
    uri: 'file:///keyfence-artifact/',
    description: { text: 'Inside a build artifact: the archive, then each nested entry, joined by !/' },
  },
} as const;

export interface SarifOptions {
  toolVersion: string;
}

const SEVERITY = { high: '8.0', medium: '6.0', low: '4.0' } as const;
const PRECISION = { high: 'high', medium: 'medium', low: 'low' } as const;

/** SARIF 2.1.0 for code-scanning uploads: rule metadata, redacted messages, stable fingerprints. */
export function findingsToSarif(result: ScanResult, options: SarifOptions): Log {
  const rules: ReportingDescriptor[] = [];
  const ruleIndex = new Map<string, number>();
  const results: Result[] = [];
  const total = result.findings.length;
  const kept = sarifResultCount(total);
  for (const f of result.findings.slice(0, kept)) {
    let index = ruleIndex.get(f.ruleId);
    if (index === undefined) {
      index = rules.length;
      ruleIndex.set(f.ruleId, index);
      rules.push(ruleDescriptor(f));
    }
    results.push(findingToResult(f, index));
  }
  return {
    version: '2.1.0',
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    runs: [
      {
        tool: {
          driver: {
            name: 'keyfence',
            version: options.toolVersion,
            semanticVersion: options.toolVersion,
            informationUri: 'https://github.com/keyfence/keyfence',
            rules,
          },
        },
        originalUriBaseIds: URI_BASES,
        ...(kept < total
          ? {
              invocations: [
                {
                  executionSuccessful: true,
                  toolExecutionNotifications: [
                    {
                      level: 'warning',
                      descriptor: { id: 'keyfence/results-truncated' },
                      message: {
                        text:
                          `${total} findings: this file holds the first ${kept}, the most code scanning ` +
                          'takes in one run; the JSON report holds them all.',
                      },
                    },
                  ],
                },
              ],
            }
          : {}),
        results,
        properties: {
          files: result.stats.files,
          bytes: result.stats.bytes,
          truncated: kept < total,
          findings: total,
        },
      },
    ],
  };
}

function ruleDescriptor(f: Finding): ReportingDescriptor {
  return {
    id: f.ruleId,
    name: f.ruleId.replace(/(^|[-.])([a-z0-9])/g, (_m, _sep, ch: string) => ch.toUpperCase()),
    shortDescription: { text: f.description },
    fullDescription: {
      text: `${f.description}. A leaked credential must be revoked and rotated, then removed.`,
    },
    help: {
      text: `Revoke and rotate this credential at its provider, then remove it from the code and its history. If it is not a secret, add "keyfence:allow" on the line or an allowlist entry in .keyfence.yaml.`,
      markdown:
        // A description can come from a config file: as text, so code scanning renders no link from it.
        `**${markdownText(f.description)}**\n\nRevoke and rotate the credential at its provider first (it may already be copied), ` +
        'then remove it from the code and from git history. If this is not a secret, add `keyfence:allow` on ' +
        'the line, or an `allowlist` entry in `.keyfence.yaml`.',
    },
    defaultConfiguration: { level: f.confidence === 'low' ? 'warning' : 'error' },
    properties: {
      tags: ['security', 'secret', ...f.tags],
      precision: PRECISION[f.confidence],
      'security-severity': SEVERITY[f.confidence],
    },
  };
}

function findingToResult(f: Finding, ruleIndex: number): Result {
  const loc = f.location;
  const where = [
    loc.commit ? `in commit ${loc.commit.slice(0, 12)}` : '',
    loc.image ? `in ${imageWhere(f)}` : '',
    loc.decodedFrom ? `(${loc.decodedFrom.join(', ')} encoded)` : '',
  ]
    .filter(Boolean)
    .join(' ');
  return {
    ruleId: f.ruleId,
    ruleIndex,
    level: f.confidence === 'low' ? 'warning' : 'error',
    message: { text: `${f.description}: ${f.redacted}${where ? ` ${where}` : ''}` },
    locations: [
      {
        physicalLocation: {
          artifactLocation: artifactLocation(loc),
          region: { startLine: loc.line, startColumn: loc.column, endLine: Math.max(loc.endLine, loc.line) },
        },
      },
    ],
    partialFingerprints: { [`keyfence/v2-${f.fingerprintScheme}`]: f.fingerprint },
    properties: {
      confidence: f.confidence,
      entropy: f.entropy,
      ...(loc.commit ? { commit: loc.commit } : {}),
      ...(loc.author ? { author: loc.author } : {}),
      ...(loc.image ? { image: loc.image } : {}),
      ...(loc.layer ? { layer: loc.layer } : {}),
      ...(loc.layerIndex !== undefined ? { layerIndex: loc.layerIndex } : {}),
      ...(loc.deletedInLayer !== undefined ? { deletedInLayer: loc.deletedInLayer } : {}),
      ...(loc.chain ? { chain: loc.chain } : {}),
    },
  };
}

function artifactLocation(loc: Finding['location']): { uri: string; uriBaseId: keyof typeof URI_BASES } {
  // The image reference is one segment: its `/` and `:` are escaped.
  if (loc.image)
    return { uri: `${encodeURIComponent(loc.image)}/${encodeUriPath(loc.path)}`, uriBaseId: 'IMAGE' };
  if (loc.chain) return { uri: encodeUriPath(loc.path), uriBaseId: 'ARTIFACT' };
  return { uri: encodeUriPath(loc.path), uriBaseId: '%SRCROOT%' };
}

function encodeUriPath(path: string): string {
  return path.split('/').map(encodeURIComponent).join('/');
}
