import type { Confidence } from '../finding.js';
import type { LinearRegex, TextPattern } from './linear.js';

/** A rule's allowlist: matches it names are not findings. */
export interface RuleAllowlist {
  regexes?: string[];
  /** What `regexes` are tested against: the secret (default), the whole match, or the line. */
  regexTarget?: 'secret' | 'match' | 'line';
  stopwords?: string[];
  paths?: string[];
}

/** A rule as data: what rule files and config files hold. */
export interface RuleSpec {
  id: string;
  description: string;
  keywords: string[];
  regex: string;
  flags?: string;
  secretGroup?: number;
  entropy?: number;
  multiline?: boolean;
  /** Characters before and after a keyword hit that the regex may look at (default 256 / 2048). */
  window?: { before?: number; after?: number };
  confidence?: Confidence;
  tags?: string[];
  allowlist?: RuleAllowlist;
  examples?: { positive?: string[]; negative?: string[] };
}

/** A rule ready to run. */
export interface CompiledRule {
  id: string;
  description: string;
  keywords: string[];
  regex: RegExp;
  secretGroup: number | undefined;
  entropy: number | undefined;
  multiline: boolean;
  windowBefore: number;
  windowAfter: number;
  confidence: Confidence;
  tags: string[];
  allowRegexes: TextPattern[];
  /** Literal prefixes the regex requires of the secret: all of it a report may show. */
  publicPrefixes: string[];
  /** Whether the regex matches case-insensitively, prefixes included. */
  ignoreCase: boolean;
  allowTarget: 'secret' | 'match' | 'line';
  stopwords: string[];
  allowPaths: ((path: string) => boolean) | undefined;
  generic: boolean;
  /**
   * The rule's regex on the linear-time engine, for rules from a user's config, which no review
   * has vetted: set, it is what runs (`regex` is then unused).
   */
  linear: LinearRegex | undefined;
}
