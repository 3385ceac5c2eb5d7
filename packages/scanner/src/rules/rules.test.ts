import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
// @ts-expect-error: a plain .mjs build script without types
import { readRuleFiles, renderGenerated, renderRulesDoc } from '../../scripts/gen-rules.mjs';
import { Detector } from '../engine/detector.js';
import { BUILTIN_RULES } from './builtin.js';
import { compileRule, isLinearSafe, validateRuleSpec } from './compile.js';
import type { RuleSpec } from './types.js';

const entries = readRuleFiles() as { file: string; rule: RuleSpec }[];
// These tests are about matching; keyed fingerprints spare them a slow hash per example.
const FAST = { fingerprint: { key: 'rules-test' } };
const all = new Detector(
  BUILTIN_RULES.map((spec) => compileRule(spec)),
  FAST,
);

describe('built-in rules', () => {
  it('number at least 150, with unique ids', () => {
    const ids = entries.map((e) => e.rule.id);
    expect(ids.length).toBeGreaterThanOrEqual(150);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('are compiled into builtin.generated.ts (run `npm run gen:rules` after editing rules/*.yaml)', () => {
    const generated = readFileSync(join(import.meta.dirname, 'builtin.generated.ts'), 'utf8');
    expect(generated).toBe(renderGenerated());
    expect(readFileSync(join(import.meta.dirname, '../../../../docs/rules.md'), 'utf8')).toBe(
      renderRulesDoc(),
    );
  });

  describe.each(entries.map((e) => [e.rule.id, e] as const))('%s', (_id, { file, rule }) => {
    it('is a valid, linear-time rule', () => {
      expect(validateRuleSpec(rule, file)).toEqual([]);
      expect(isLinearSafe(rule.regex, rule.flags)).toBe(true);
      expect(rule.examples?.positive?.length ?? 0).toBeGreaterThanOrEqual(1);
      expect(rule.examples?.negative?.length ?? 0).toBeGreaterThanOrEqual(1);
    });

    it('reports each positive example exactly once and no negative example', () => {
      const alone = new Detector([compileRule(rule)], FAST);
      for (const text of rule.examples?.positive ?? []) {
        expect(alone.detect({ text, path: 'example.txt' }), `positive: ${text}`).toHaveLength(1);
        // With every rule loaded, the text is still reported (by this or a more specific rule).
        expect(
          all.detect({ text, path: 'example.txt' }).length,
          `positive with all rules: ${text}`,
        ).toBeGreaterThan(0);
      }
      for (const text of rule.examples?.negative ?? []) {
        expect(alone.detect({ text, path: 'example.txt' }), `negative: ${text}`).toEqual([]);
      }
    });
  });
});
