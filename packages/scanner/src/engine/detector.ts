import { SecretValue } from '@keyfence/core';
import type { Finding, Location, ScanProblem } from '../finding.js';
import type { TextPattern } from '../rules/linear.js';
import type { CompiledRule } from '../rules/types.js';
import { findEncodedSegments } from './decode.js';
import { shannonEntropy } from './entropy.js';
import { Fingerprinter, type FingerprintSettings } from './fingerprint.js';
import { hasStopword, INLINE_ALLOW, isGenericNoise, isPlaceholder } from './noise.js';
import { KeywordMatcher } from './prefilter.js';

/** A piece of content with where it came from: what every source yields to the engine. */
export interface Fragment {
  text: string;
  path: string;
  /** Line number of the text's first line (sources that chunk large inputs set it). */
  startLine?: number;
  /** Characters before the text's first character on its line (a chunk that starts mid-line). */
  startColumn?: number;
  /**
   * Real line numbers of the text's lines, for texts stitched from non-adjacent lines (the added
   * lines of a diff): entry i is the line number of the text's line i + 1.
   */
  lineNumbers?: number[];
  /** Extra location fields (commit, layer, archive chain) copied onto every finding. */
  location?: Partial<Location>;
}

/** One allowlist entry from a config file: regexes and stopwords, optionally limited to paths. */
export interface AllowEntry {
  description?: string;
  paths?: (path: string) => boolean;
  regexes: TextPattern[];
  regexTarget: 'secret' | 'match' | 'line';
  stopwords: string[];
}

export interface DetectorOptions {
  /** How many times encoded segments are decoded and scanned again. */
  maxDecodeDepth?: number;
  allowlist?: AllowEntry[];
  fingerprint?: FingerprintSettings;
}

/** Longest value the generic noise checks apply to. */
const GENERIC_NOISE_MAX = 100;
const CONFIDENCE_RANK = { high: 3, medium: 2, low: 1 } as const;

interface Match {
  rule: CompiledRule;
  secret: string;
  /** Offsets in the top-level text that locate the match (the encoded segment for decoded ones). */
  start: number;
  end: number;
  secretStart: number;
  decodedFrom: string[];
}

/** The engine: finds rule matches in fragments. It knows no source and no report. */
export class Detector {
  readonly rules: CompiledRule[];
  readonly #matcher: KeywordMatcher;
  readonly #rulesByKeyword: CompiledRule[][];
  readonly #maxDepth: number;
  readonly #allow: AllowEntry[];
  readonly #fingerprints: Fingerprinter;
  /** Problems met while detecting; callers drain and report them. */
  readonly problems: ScanProblem[] = [];

  constructor(rules: CompiledRule[], options: DetectorOptions = {}) {
    this.rules = rules;
    this.#maxDepth = options.maxDecodeDepth ?? 2;
    this.#allow = options.allowlist ?? [];
    this.#fingerprints = new Fingerprinter(options.fingerprint);
    const keywordIds = new Map<string, number>();
    this.#rulesByKeyword = [];
    for (const rule of rules) {
      for (const kw of new Set(rule.keywords)) {
        let id = keywordIds.get(kw);
        if (id === undefined) {
          id = keywordIds.size;
          keywordIds.set(kw, id);
          this.#rulesByKeyword.push([]);
        }
        this.#rulesByKeyword[id]!.push(rule);
      }
    }
    this.#matcher = new KeywordMatcher([...keywordIds.keys()]);
  }

  /** Findings in one fragment, after every noise filter and allowlist. */
  detect(fragment: Fragment): Finding[] {
    const { text, path } = fragment;
    const allow = this.#allow.filter((a) => !a.paths || a.paths(path));
    if (allow.some((a) => a.regexes.length === 0 && a.stopwords.length === 0)) return [];
    const matches = this.#collect(text, path, 0);
    if (matches.length === 0) return [];
    const lines = new LineIndex(text);
    const startLine = fragment.startLine ?? 1;
    const realLine = (n: number): number => fragment.lineNumbers?.[n - 1] ?? startLine + n - 1;
    const hasInline = INLINE_ALLOW.test(text);
    const findings: Finding[] = [];
    for (const m of matches) {
      const lineText = lines.lineAt(m.start);
      if (hasInline && INLINE_ALLOW.test(text.slice(lines.startOf(m.start), lines.endOf(m.end)))) continue;
      if (allow.length > 0 && isAllowed(allow, m.secret, text.slice(m.start, m.end), lineText)) continue;
      const { line, column } = lines.position(m.secretStart);
      const secret = SecretValue.of(m.secret);
      const location: Location = {
        ...fragment.location,
        path,
        line: realLine(line),
        column: line === 1 ? column + (fragment.startColumn ?? 0) : column,
        endLine: realLine(lines.position(m.end).line),
      };
      if (m.decodedFrom.length > 0) location.decodedFrom = m.decodedFrom;
      const { fingerprint, legacy } = this.#fingerprints.of(m.rule.id, secret);
      findings.push({
        ruleId: m.rule.id,
        description: m.rule.description,
        location,
        redacted: secret.redactedTo(m.rule.publicPrefixes, m.rule.ignoreCase),
        fingerprint,
        fingerprintScheme: this.#fingerprints.scheme,
        ...(legacy === undefined ? {} : { legacyFingerprint: legacy }),
        // Whole bits only: with two decimals, anyone could compute it for a list of guessed
        // passwords and keep the few that agree.
        entropy: Math.floor(shannonEntropy(m.secret)),
        confidence: m.rule.confidence,
        tags: m.rule.tags,
      });
    }
    return findings;
  }

  #collect(text: string, path: string, depth: number): Match[] {
    const candidates: Match[] = [];
    for (const [rule, windows] of this.#windows(text)) {
      if (rule.allowPaths?.(path)) continue;
      for (let w = 0; w < windows.length; w += 2) {
        const wStart = windows[w]!;
        const slice = text.slice(wStart, windows[w + 1]!);
        if (rule.linear) {
          for (const m of rule.linear.matchAll(slice))
            if (m[0].length > 0) this.#consider(rule, m, wStart, text, candidates);
          continue;
        }
        // exec in a loop, not matchAll: matchAll clones the regex on every call, in the hot path.
        const re = rule.regex;
        re.lastIndex = 0;
        for (let m = re.exec(slice); m !== null; m = re.exec(slice)) {
          if (m[0].length === 0) re.lastIndex++;
          else this.#consider(rule, m, wStart, text, candidates);
        }
      }
    }
    if (depth < this.#maxDepth) {
      for (const seg of findEncodedSegments(text)) {
        for (const inner of this.#collect(seg.text, path, depth + 1)) {
          candidates.push({
            ...inner,
            start: seg.start,
            end: seg.end,
            secretStart: seg.start,
            decodedFrom: [seg.encoding, ...inner.decodedFrom],
          });
        }
      }
    }
    return dropOverlaps(candidates);
  }

  /** Turns a regex match into a candidate finding if it passes the noise filters. */
  #consider(rule: CompiledRule, m: RegExpMatchArray, wStart: number, text: string, out: Match[]): void {
    const secret = rule.secretGroup === undefined ? m[0] : m[rule.secretGroup];
    if (!secret) return;
    const start = wStart + m.index!;
    const match: Match = {
      rule,
      secret,
      start,
      end: start + m[0].length,
      secretStart: start + Math.max(m[0].indexOf(secret), 0),
      decodedFrom: [],
    };
    if (this.#keep(match, m[0], text)) out.push(match);
  }

  /** Per rule, the merged [start, end) windows around its keywords' hits. */
  #windows(text: string): Map<CompiledRule, number[]> {
    const byRule = new Map<CompiledRule, number[]>();
    // Hits arrive in ascending order, so the current line's bounds are found once per line, not
    // once per hit: a minified file is one long line with thousands of hits on it.
    let lineStart = 0;
    let lineEnd = -1;
    this.#matcher.scan(text, (kwId, end) => {
      if (end > lineEnd) {
        lineStart = text.lastIndexOf('\n', end - 1) + 1;
        const nl = text.indexOf('\n', end);
        lineEnd = nl < 0 ? text.length : nl;
      }
      for (const rule of this.#rulesByKeyword[kwId]!) {
        const start = rule.multiline
          ? Math.max(0, end - rule.windowBefore)
          : Math.max(lineStart, end - rule.windowBefore);
        const stop = Math.min(rule.multiline ? text.length : lineEnd, end + rule.windowAfter);
        const ws = byRule.get(rule);
        if (ws === undefined) byRule.set(rule, [start, stop]);
        else if (start <= ws[ws.length - 1]!) ws[ws.length - 1] = Math.max(ws[ws.length - 1]!, stop);
        else ws.push(start, stop);
      }
    });
    return byRule;
  }

  #keep(m: Match, matchText: string, text: string): boolean {
    const { rule, secret } = m;
    if (rule.entropy !== undefined && shannonEntropy(secret) < rule.entropy) return false;
    if (isPlaceholder(secret)) return false;
    if (hasStopword(secret, rule.stopwords)) return false;
    if (rule.allowRegexes.length > 0 || rule.generic) {
      const line = lineAround(text, m.start, m.end);
      const target = rule.allowTarget === 'secret' ? secret : rule.allowTarget === 'match' ? matchText : line;
      if (rule.allowRegexes.some((re) => re.test(target))) return false;
      // Long values (PEM bodies, JWTs) hold stopwords by chance in their base64; the word checks are
      // for short assignment values only.
      if (rule.generic && secret.length <= GENERIC_NOISE_MAX && isGenericNoise(secret, line)) return false;
    }
    return true;
  }
}

function lineAround(text: string, start: number, end: number): string {
  // Bounded both ways: on a minified single-line file the whole line could be megabytes.
  let s = start;
  while (s > 0 && start - s < 512 && text.charCodeAt(s - 1) !== 10) s--;
  let e = end;
  while (e < text.length && e - end < 512 && text.charCodeAt(e) !== 10) e++;
  return text.slice(s, e);
}

function isAllowed(entries: AllowEntry[], secret: string, match: string, line: string): boolean {
  const lower = secret.toLowerCase();
  return entries.some(
    (a) =>
      a.stopwords.some((w) => lower.includes(w)) ||
      a.regexes.some((re) =>
        re.test(a.regexTarget === 'secret' ? secret : a.regexTarget === 'match' ? match : line),
      ),
  );
}

/**
 * One finding per secret span: where rules overlap (a provider rule and a generic assignment rule
 * on the same token), the more specific, higher-confidence rule wins.
 */
function dropOverlaps(matches: Match[]): Match[] {
  if (matches.length < 2) return matches;
  const ranked = [...matches].sort(
    (a, b) =>
      CONFIDENCE_RANK[b.rule.confidence] - CONFIDENCE_RANK[a.rule.confidence] ||
      a.decodedFrom.length - b.decodedFrom.length ||
      b.secret.length - a.secret.length ||
      a.start - b.start,
  );
  const kept: Match[] = [];
  for (const m of ranked) {
    const mEnd = m.secretStart + m.secret.length;
    const clash = kept.some((k) =>
      m.decodedFrom.length > 0 || k.decodedFrom.length > 0
        ? k.secret === m.secret && k.start < m.end && m.start < k.end
        : m.secretStart < k.secretStart + k.secret.length && k.secretStart < mEnd,
    );
    if (!clash) kept.push(m);
  }
  return kept.sort((a, b) => a.start - b.start);
}

/** Offsets to line/column, built lazily: most fragments have no finding at all. */
class LineIndex {
  readonly #text: string;
  #starts: number[] | undefined;

  constructor(text: string) {
    this.#text = text;
  }

  #lineStarts(): number[] {
    if (this.#starts) return this.#starts;
    const starts = [0];
    for (let i = this.#text.indexOf('\n'); i >= 0; i = this.#text.indexOf('\n', i + 1)) starts.push(i + 1);
    this.#starts = starts;
    return starts;
  }

  #lineNo(offset: number): number {
    const starts = this.#lineStarts();
    let lo = 0;
    let hi = starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (starts[mid]! <= offset) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  position(offset: number): { line: number; column: number } {
    const i = this.#lineNo(offset);
    return { line: i + 1, column: offset - this.#lineStarts()[i]! + 1 };
  }

  startOf(offset: number): number {
    return this.#lineStarts()[this.#lineNo(offset)]!;
  }

  endOf(offset: number): number {
    const e = this.#text.indexOf('\n', offset);
    return e < 0 ? this.#text.length : e;
  }

  lineAt(offset: number): string {
    return this.#text.slice(this.startOf(offset), this.endOf(offset));
  }
}
