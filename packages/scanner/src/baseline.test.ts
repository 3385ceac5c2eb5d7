import { describe, expect, it } from 'vitest';
import { fake } from '../../../test/support/secrets.js';
import { Baseline, fingerprintSettings } from './baseline.js';
import { defaultConfig } from './config.js';
import { findingsToText } from './report/text.js';
import { createDetector } from './rules/builtin.js';

describe('fingerprintSettings', () => {
  it('uses a random key for the run when no output shows fingerprints and no baseline is read', () => {
    const a = fingerprintSettings(undefined, undefined, false).settings;
    const b = fingerprintSettings(undefined, undefined, false).settings;
    expect(a.ephemeral).toBe(true);
    expect(a.key).toMatch(/^[0-9a-f]{64}$/);
    expect(b.key).not.toBe(a.key);
  });

  it('keeps stable fingerprints when a report shows them, a baseline is read, or a key is given', () => {
    expect(fingerprintSettings(undefined, undefined).settings).toEqual({});
    expect(fingerprintSettings(undefined, new Baseline('b.json'), false).settings).toEqual({});
    expect(fingerprintSettings('k3y', undefined, false).settings).toEqual({ key: 'k3y' });
  });

  it('marks run-only fingerprints as ephemeral, and the text report shows none of them', () => {
    const { settings } = fingerprintSettings(undefined, undefined, false);
    const detector = createDetector({ ...defaultConfig(), fingerprint: settings });
    const findings = detector.detect({ text: `T=${fake.githubPat()}\n`, path: 'a.env' });
    expect(findings.map((f) => f.fingerprintScheme)).toEqual(['ephemeral']);
    const text = findingsToText(
      {
        findings,
        problems: [],
        warnings: [],
        stats: { files: 1, bytes: 1, durationMs: 1, skippedFiles: 0, rules: 1, baselined: 0 },
      },
      { color: false },
    );
    expect(text).not.toContain(findings[0]!.fingerprint.slice(0, 8));
  });
});
