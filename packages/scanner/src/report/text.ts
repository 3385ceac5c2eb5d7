import { renderUntrusted } from '@keyfence/core';
import type { Finding } from '../finding.js';
import type { ScanResult } from '../scan.js';

export interface TextOptions {
  color: boolean;
}

/** A report for people: findings grouped by file, redacted, colour only when asked (a TTY). */
export function findingsToText(result: ScanResult, options: TextOptions): string {
  const c = options.color
    ? { red: '\x1b[31m', dim: '\x1b[2m', bold: '\x1b[1m', yellow: '\x1b[33m', reset: '\x1b[0m' }
    : { red: '', dim: '', bold: '', yellow: '', reset: '' };
  const out: string[] = [];
  const byFile = new Map<string, Finding[]>();
  for (const raw of result.findings) {
    // What a pull request chose (file names, rule ids from its config, secret text) is rendered as one safe line.
    const f = renderedFinding(raw);
    const key = f.location.commit
      ? `${f.location.path} @ ${f.location.commit.slice(0, 12)}`
      : f.location.image
        ? `${f.location.path}  (${imageWhere(raw)})`
        : f.location.path;
    const list = byFile.get(key);
    if (list) list.push(f);
    else byFile.set(key, [f]);
  }
  for (const [file, findings] of byFile) {
    out.push(`${c.bold}${file}${c.reset}`);
    for (const f of findings) {
      const where = `${f.location.line}:${f.location.column}`;
      const decoded = f.location.decodedFrom
        ? ` ${c.dim}(${f.location.decodedFrom.join(' > ')}-encoded)${c.reset}`
        : '';
      out.push(
        `  ${where.padEnd(9)} ${c.red}${f.ruleId}${c.reset}  ${f.redacted}${decoded}${f.fingerprintScheme === 'hmac' ? `  ${c.dim}${f.fingerprint.slice(0, 12)}${c.reset}` : ''}`,
      );
    }
    out.push('');
  }
  for (const w of result.warnings) out.push(`${c.yellow}warning:${c.reset} ${renderUntrusted(w)}`);
  for (const p of result.problems)
    out.push(
      `${c.yellow}warning:${c.reset} ${p.path ? `${renderUntrusted(p.path)}: ` : ''}${renderUntrusted(p.message)}`,
    );
  const s = result.stats;
  const mb = (s.bytes / 1024 / 1024).toFixed(1);
  const n = result.findings.length;
  const summary =
    n === 0
      ? 'no leaks found'
      : `${n} leak${n === 1 ? '' : 's'} found in ${byFile.size} file${byFile.size === 1 ? '' : 's'}`;
  out.push(
    `${n === 0 ? '' : c.red}${summary}${c.reset} ${c.dim}(${s.files} files, ${mb} MB, ${s.rules} rules, ${s.durationMs} ms` +
      `${s.baselined > 0 ? `, ${s.baselined} in baseline` : ''})${c.reset}`,
  );
  return `${out.join('\n')}\n`;
}

/** A finding with every field a scanned input controls rendered for a log line (see core's renderUntrusted). */
function renderedFinding(f: Finding): Finding {
  const loc = f.location;
  return {
    ...f,
    ruleId: renderUntrusted(f.ruleId),
    redacted: renderUntrusted(f.redacted),
    location: {
      ...loc,
      path: renderUntrusted(loc.path),
      ...(loc.commit !== undefined ? { commit: renderUntrusted(loc.commit) } : {}),
      ...(loc.decodedFrom !== undefined ? { decodedFrom: loc.decodedFrom.map(renderUntrusted) } : {}),
    },
  };
}

/** `image REF, layer 2 sha256:0123456789ab; deleted in layer 3, still in the image`, rendered for a log line. */
export function imageWhere(f: Finding): string {
  const loc = f.location;
  const layer = loc.layer
    ? `, layer ${loc.layerIndex ?? '?'} ${renderUntrusted(loc.layer.slice(0, 19))}`
    : '';
  const deleted =
    loc.deletedInLayer !== undefined ? `; deleted in layer ${loc.deletedInLayer}, still in the image` : '';
  return `image ${renderUntrusted(loc.image ?? '')}${layer}${deleted}`;
}
