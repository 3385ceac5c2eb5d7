import type { Log, ReportingDescriptor, Result } from 'sarif';
import type { Finding } from '../finding.js';
import type { ScanResult } from '../scan.js';
import { imageWhere } from './text.js';

/** GitHub code scanning accepts at most this many results per run. */
export const SARIF_MAX_RESULTS = 25_000;

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
  for (const f of result.findings.slice(0, SARIF_MAX_RESULTS)) {
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
        originalUriBaseIds: { '%SRCROOT%': { uri: 'file:///' } },
        results,
        properties: {
          files: result.stats.files,
          bytes: result.stats.bytes,
          truncated: result.findings.length > SARIF_MAX_RESULTS,
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
        `**${f.description}**\n\nRevoke and rotate the credential at its provider first (it may already be copied), ` +
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
          artifactLocation: { uri: encodeUriPath(loc.path), uriBaseId: '%SRCROOT%' },
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

function encodeUriPath(path: string): string {
  return path.split('/').map(encodeURIComponent).join('/');
}
