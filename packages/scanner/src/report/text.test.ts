import { describe, expect, it } from 'vitest';
import { runnerCommands } from '../../../../test/support/runner-log.js';
import type { Finding } from '../finding.js';
import type { ScanResult } from '../scan.js';
import { findingsToText } from './text.js';

function finding(path: string, extra: Partial<Finding['location']> = {}, ruleId = 'github-pat'): Finding {
  return {
    ruleId,
    description: 'GitHub personal access token',
    location: { path, line: 2, column: 7, endLine: 2, ...extra },
    redacted: 'ghp_…',
    fingerprint: 'e'.repeat(64),
    fingerprintScheme: 'hmac',
    entropy: 4.5,
    confidence: 'high',
    tags: [],
  };
}

function result(findings: Finding[], extra: Partial<ScanResult> = {}): ScanResult {
  return {
    findings,
    problems: [],
    warnings: [],
    stats: { files: 3, bytes: 10, durationMs: 5, skippedFiles: 0, rules: 348, baselined: 0 },
    ...extra,
  };
}

describe('findingsToText', () => {
  it('renders hostile paths, image refs, rule ids, warnings and problems so the runner reads no command', () => {
    const report = findingsToText(
      result(
        [
          finding('  ::stop-commands::tok.env'),
          finding('::error file=README.md,line=1::forged.env'),
          finding('##[error]x.env'),
          finding('a\n::warning::b.env'),
          finding('app/.env', { image: 'reg.example/app\r::notice::x', layer: 'sha256:##[error]' }),
          finding('z.env', {}, '::error::rule'),
        ],
        {
          warnings: ['rule x\n::error::from config'],
          problems: [{ kind: 'unreadable', path: '\n##[error]p.env', message: 'cannot read ::x' }],
        },
      ),
      { color: false },
    );
    expect(runnerCommands(report)).toEqual([]);
    expect(report).not.toContain('##[');
    const lines = report.split('\n');
    expect(lines).toContain('  \\::stop-commands::tok.env');
    expect(lines).toContain('\\::error file=README.md,line=1::forged.env');
    expect(lines).toContain('#\\#[error]x.env');
    expect(lines).toContain('a\\n::warning::b.env');
    expect(lines).toContain('app/.env  (image reg.example/app\\r::notice::x, layer ? sha256:#\\#[error])');
    expect(lines).toContain('warning: rule x\\n::error::from config');
    expect(lines).toContain('warning: \\n#\\#[error]p.env: cannot read ::x');
  });
});
