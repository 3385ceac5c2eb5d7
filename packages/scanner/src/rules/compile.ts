import { safeRegex } from 'safe-regex2';
import { compileLinearGlobs, compileLinearRegex } from './linear.js';
import { publicPrefixes } from './prefix.js';
import type { CompiledRule, RuleSpec } from './types.js';

/** A problem with one rule: where it came from, which field, what to do. */
export interface RuleProblem {
  source: string;
  ruleId: string;
  field: string;
  message: string;
}

/** Default characters around a keyword hit that a rule's regex may look at. */
export const WINDOW_BEFORE = 256;
export const WINDOW_AFTER = 2048;
export const MULTILINE_AFTER = 32 * 1024;

const ID_PATTERN = /^[a-z0-9]+(?:[-.][a-z0-9]+)*$/;
const ALLOWED_FLAGS = /^[imsu]*$/;

/** Checks one rule's shape; returns every problem at once rather than the first. */
export function validateRuleSpec(spec: unknown, source: string): RuleProblem[] {
  const problems: RuleProblem[] = [];
  if (typeof spec !== 'object' || spec === null || Array.isArray(spec)) {
    return [
      {
        source,
        ruleId: '?',
        field: '',
        message: 'a rule must be a mapping with id, description, keywords and regex',
      },
    ];
  }
  const r = spec as Record<string, unknown>;
  const ruleId = typeof r.id === 'string' ? r.id : '?';
  const add = (field: string, message: string) => problems.push({ source, ruleId, field, message });
  if (typeof r.id !== 'string' || !ID_PATTERN.test(r.id))
    add('id', 'id must be lower-case kebab-case, e.g. "acme-api-token"');
  if (typeof r.description !== 'string' || r.description.trim() === '')
    add('description', 'description is required');
  if (!Array.isArray(r.keywords) || r.keywords.length === 0) {
    add('keywords', 'at least one keyword is required: the prefilter runs the regex only near a keyword');
  } else if (r.keywords.some((k) => typeof k !== 'string' || k.length < 3)) {
    add('keywords', 'keywords must be strings of at least 3 characters');
  }
  if (typeof r.regex !== 'string' || r.regex === '') {
    add('regex', 'regex is required');
  } else {
    const flags = typeof r.flags === 'string' ? r.flags : '';
    if (!ALLOWED_FLAGS.test(flags)) add('flags', `flags may only contain i, m, s, u (got "${flags}")`);
    else {
      try {
        new RegExp(r.regex, flags);
      } catch (e) {
        add('regex', `not a valid regular expression: ${(e as Error).message}`);
      }
    }
  }
  if (r.entropy !== undefined && (typeof r.entropy !== 'number' || r.entropy < 0 || r.entropy > 8)) {
    add('entropy', 'entropy must be a number of bits per character between 0 and 8');
  }
  if (r.window !== undefined) {
    const w = r.window as Record<string, unknown>;
    const ok = (v: unknown) =>
      v === undefined || (Number.isInteger(v) && (v as number) >= 0 && (v as number) <= 65536);
    if (typeof w !== 'object' || w === null || !ok(w.before) || !ok(w.after)) {
      add('window', 'window must be { before, after } with character counts from 0 to 65536');
    }
  }
  if (r.secretGroup !== undefined && (!Number.isInteger(r.secretGroup) || (r.secretGroup as number) < 0)) {
    add('secretGroup', 'secretGroup must be a capture group number');
  }
  if (r.confidence !== undefined && !['high', 'medium', 'low'].includes(r.confidence as string)) {
    add('confidence', 'confidence must be high, medium or low');
  }
  const allow = r.allowlist as Record<string, unknown> | undefined;
  if (allow !== undefined) {
    if (typeof allow !== 'object' || allow === null) add('allowlist', 'allowlist must be a mapping');
    else {
      for (const re of asStrings(allow.regexes)) {
        try {
          new RegExp(re);
        } catch (e) {
          add('allowlist.regexes', `not a valid regular expression: ${(e as Error).message}`);
        }
      }
    }
  }
  return problems;
}

/**
 * Whether a regex can be trusted not to backtrack catastrophically. Built-in rules are held to
 * this in CI; user rules that fail it are reported and skipped, so a bad rule never hangs a scan.
 */
export function isLinearSafe(source: string, flags = ''): boolean {
  try {
    return safeRegex(new RegExp(source, flags), { limit: 25 });
  } catch {
    return false;
  }
}

function asStrings(v: unknown): string[] {
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
}

/**
 * Turns a validated spec into a runnable rule. A user's rule (`userSupplied`) runs on the
 * linear-time engine, its allowlist regexes too; built-in rules, reviewed and tested, stay on
 * the faster built-in engine.
 */
export function compileRule(spec: RuleSpec, userSupplied = false): CompiledRule {
  const regex = new RegExp(spec.regex, `${spec.flags ?? ''}g`);
  const linear = userSupplied ? compileLinearRegex(spec.regex, spec.flags) : undefined;
  const groups = linear ? linear.groupCount() : new RegExp(`${spec.regex}|`).exec('')!.length - 1;
  const allowRegex = (r: string) => (userSupplied ? compileLinearRegex(r) : new RegExp(r));
  const paths = spec.allowlist?.paths ?? [];
  const secretGroup = spec.secretGroup ?? (groups > 0 ? 1 : undefined);
  return {
    id: spec.id,
    description: spec.description,
    keywords: spec.keywords.map((k) => k.toLowerCase()),
    regex,
    secretGroup,
    entropy: spec.entropy,
    multiline: spec.multiline ?? false,
    windowBefore: spec.window?.before ?? WINDOW_BEFORE,
    windowAfter: spec.window?.after ?? (spec.multiline ? MULTILINE_AFTER : WINDOW_AFTER),
    confidence: spec.confidence ?? 'high',
    tags: spec.tags ?? [],
    allowRegexes: (spec.allowlist?.regexes ?? []).map(allowRegex),
    publicPrefixes: publicPrefixes(spec.regex, secretGroup),
    ignoreCase: (spec.flags ?? '').includes('i') || spec.regex.startsWith('(?i)'),
    allowTarget: spec.allowlist?.regexTarget ?? 'secret',
    stopwords: (spec.allowlist?.stopwords ?? []).map((s) => s.toLowerCase()),
    allowPaths: paths.length > 0 ? compileLinearGlobs(paths) : undefined,
    generic: spec.id.startsWith('generic-') || (spec.confidence ?? 'high') !== 'high',
    linear,
  };
}
