import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Log } from 'sarif';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../../../../test/support/cli.js';
import { htmlElements, renderGfm } from '../../../../test/support/markdown.js';
import { sarifValidationErrors } from '../../../../test/support/sarif.js';
import type { Finding, Location } from '../finding.js';
import type { ScanResult } from '../scan.js';
import { findingsToSarif, SARIF_MAX_RESULTS } from './sarif.js';

function finding(location: Partial<Location> & { path: string }): Finding {
  return {
    ruleId: 'github-pat',
    description: 'GitHub personal access token',
    location: { line: 1, column: 1, endLine: 1, ...location },
    redacted: 'ghp_…',
    fingerprint: 'e'.repeat(64),
    fingerprintScheme: 'hmac',
    entropy: 4.5,
    confidence: 'high',
    tags: [],
  };
}

function result(findings: Finding[]): ScanResult {
  return {
    findings,
    problems: [],
    warnings: [],
    stats: { files: 1, bytes: 1, durationMs: 1, skippedFiles: 0, rules: 1, baselined: 0 },
  };
}

function validated(log: Log): Log {
  const file = join(tempDir('keyfence-sarif-unit-'), 'report.sarif');
  writeFileSync(file, JSON.stringify(log));
  expect(sarifValidationErrors(file)).toEqual([]);
  return log;
}

describe('findingsToSarif', () => {
  it('roots image and archive findings apart from the repository, under URIs no checkout file has', () => {
    const log = validated(
      findingsToSarif(
        result([
          finding({ path: 'app/.env' }),
          finding({
            path: 'app/.env',
            image: 'registry.example.org/team/app:1.2',
            layer: 'sha256:ab',
            layerIndex: 1,
          }),
          finding({ path: 'image-config/Env', image: 'app:v1' }),
          finding({
            path: 'dist/app.zip!/lib/app.jar!/app.properties',
            chain: ['dist/app.zip', 'lib/app.jar', 'app.properties'],
          }),
        ]),
        { toolVersion: '1.0.0' },
      ),
    );
    const run = log.runs[0]!;
    const where = run.results!.map((r) => r.locations![0]!.physicalLocation!.artifactLocation);
    expect(where).toEqual([
      { uri: 'app/.env', uriBaseId: '%SRCROOT%' },
      { uri: 'registry.example.org%2Fteam%2Fapp%3A1.2/app/.env', uriBaseId: 'IMAGE' },
      { uri: 'app%3Av1/image-config/Env', uriBaseId: 'IMAGE' },
      { uri: 'dist/app.zip!/lib/app.jar!/app.properties', uriBaseId: 'ARTIFACT' },
    ]);
    const bases = run.originalUriBaseIds!;
    for (const id of ['IMAGE', 'ARTIFACT']) {
      expect(bases[id]!.uri).not.toBe(bases['%SRCROOT%']!.uri);
      expect(bases[id]!.uri).toMatch(/^file:\/\/\/keyfence-[a-z]+\/$/);
    }
  });

  it('writes a rule description from a config as text in the help markdown, never as a link or HTML', () => {
    const f = {
      ...finding({ path: 'a.env' }),
      ruleId: 'acme-key',
      description: 'Acme key [rotate here](https://evil.example/x) <img src=x> www.evil.example',
    };
    const log = findingsToSarif(result([f]), { toolVersion: '1.0.0' });
    const md = log.runs[0]!.tool.driver.rules![0]!.help!.markdown!;
    expect(
      htmlElements(renderGfm(md))
        .map((e) => e.name)
        .filter((n) => !['p', 'strong', 'code'].includes(n)),
    ).toEqual([]);
  });

  it('holds the first 25,000 results past the cap and says so in the run', () => {
    const total = SARIF_MAX_RESULTS + 7;
    const findings = Array.from({ length: total }, (_, i) => finding({ path: `f${i}.env` }));
    const log = findingsToSarif(result(findings), { toolVersion: '1.0.0' });
    const run = log.runs[0]!;
    expect(run.results).toHaveLength(SARIF_MAX_RESULTS);
    // The validator skips files over its size limit (25,000 results are more): check the run's shape.
    validated({ ...log, runs: [{ ...run, results: run.results!.slice(0, 3) }] });
    expect(run.properties).toMatchObject({ truncated: true, findings: total });
    const note = run.invocations![0]!.toolExecutionNotifications![0]!;
    expect(note.message.text).toContain(`${total} findings: this file holds the first ${SARIF_MAX_RESULTS}`);
  });

  it('marks a run under the cap as whole, with no notification', () => {
    const run = findingsToSarif(result([finding({ path: 'a.env' })]), { toolVersion: '1.0.0' }).runs[0]!;
    expect(run.properties).toMatchObject({ truncated: false, findings: 1 });
    expect(run.invocations).toBeUndefined();
  });
});
