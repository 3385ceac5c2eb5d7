import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { keyfence, tempDir } from '../support/cli.js';
import { sarifValidationErrors } from '../support/sarif.js';
import { fake } from '../support/secrets.js';

interface SarifResult {
  ruleId: string;
  level?: string;
  message: { text: string };
  partialFingerprints?: Record<string, string>;
  locations: { physicalLocation: { artifactLocation: { uri: string }; region: { startLine: number } } }[];
}

describe('SARIF report', () => {
  const dir = tempDir();
  const secrets = [fake.githubPat(), fake.awsAccessKeyId(), fake.slackBot()];
  mkdirSync(join(dir, 'src dir'), { recursive: true });
  writeFileSync(join(dir, 'src dir', 'app.ts'), `const a = '${secrets[0]}';\nconst b = '${secrets[1]}';\n`);
  writeFileSync(join(dir, 'notify.py'), `\nSLACK = "${secrets[2]}"\n`);
  const run = keyfence(['scan', '.', '--format', 'sarif', '--output', 'report.sarif'], dir);
  const file = join(dir, 'report.sarif');

  it('is valid against the SARIF 2.1.0 schema, checked by the SARIF multitool', () => {
    expect(run.code).toBe(1);
    const errors = sarifValidationErrors(file);
    expect(errors, JSON.stringify(errors, null, 1)).toEqual([]);
  });

  it('carries rule metadata, locations and partial fingerprints, and no secret', () => {
    const text = readFileSync(file, 'utf8');
    for (const s of secrets) expect(text).not.toContain(s);
    const sarif = JSON.parse(text);
    const [runLog] = sarif.runs;
    expect(sarif.version).toBe('2.1.0');
    expect(runLog.tool.driver.name).toBe('keyfence');
    const results = runLog.results as SarifResult[];
    expect(results).toHaveLength(3);
    const uris = results.map((r) => r.locations[0]!.physicalLocation.artifactLocation.uri);
    expect(uris).toEqual(['notify.py', 'src%20dir/app.ts', 'src%20dir/app.ts']);
    expect(results[0]!.locations[0]!.physicalLocation.region.startLine).toBe(2);
    for (const r of results) {
      expect(r.partialFingerprints?.['keyfence/v2-scrypt']).toMatch(/^[0-9a-f]{64}$/);
      expect(r.partialFingerprints?.['keyfence/v1']).toBeUndefined();
      const rule = runLog.tool.driver.rules.find((d: { id: string }) => d.id === r.ruleId);
      expect(rule.properties['security-severity']).toMatch(/^\d+\.\d$/);
      expect(rule.help.markdown.length).toBeGreaterThan(20);
      expect(rule.id.length).toBeLessThanOrEqual(255);
    }
  });
});
