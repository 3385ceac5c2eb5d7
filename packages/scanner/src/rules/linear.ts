import picomatch from 'picomatch';
import { RE2JS } from 're2js';

/** What allowlists need of a regex: whether it matches somewhere in a text. */
export interface TextPattern {
  test(text: string): boolean;
}

/**
 * A regex from a user's config, compiled for a linear-time engine (RE2 semantics): a pattern a
 * pull request wrote can take time proportional to the text, never exponential in it.
 */
export interface LinearRegex extends TextPattern {
  /** Every non-overlapping match, shaped like the built-in engine's (index, groups). */
  matchAll(text: string): Iterable<RegExpMatchArray>;
  /** Number of capture groups. */
  groupCount(): number;
}

// RE2 silently reads some JavaScript syntax as something else (`\k<name>` as the letters
// "k<name>"), so these are refused before translation rather than matched wrongly.
const UNSUPPORTED: [RegExp, string][] = [
  [/(?:^|[^\\])\(\?[=!]/, 'lookahead (?= and (?! is not supported'],
  [/\\[1-9]|\\k</, 'backreferences are not supported'],
];

/** Why a user regex cannot run on the linear-time engine, or undefined when it can. */
export function linearRegexProblem(source: string, flags = ''): string | undefined {
  try {
    new RegExp(source, flags);
  } catch (e) {
    return `not a valid regular expression: ${(e as Error).message}`;
  }
  const hint = ' (user regexes run on a linear-time engine with RE2 syntax; docs/configuration.md)';
  for (const [re, message] of UNSUPPORTED) {
    if (re.test(stripEscapedBackslashes(source))) return message + hint;
  }
  try {
    compileLinearRegex(source, flags);
  } catch (e) {
    return `${(e as Error).message.replace(/^error parsing regexp: /, '')}${hint}`;
  }
  return undefined;
}

/** Compiles a user regex for the linear-time engine; throws on syntax RE2 lacks. */
export function compileLinearRegex(source: string, flags = ''): LinearRegex {
  let bits = 0;
  if (flags.includes('i')) bits |= RE2JS.CASE_INSENSITIVE;
  if (flags.includes('m')) bits |= RE2JS.MULTILINE;
  if (flags.includes('s')) bits |= RE2JS.DOTALL;
  // `u` needs nothing: RE2 always matches by code point. Captureless lookbehind stays linear.
  return RE2JS.compile(RE2JS.translateRegExp(source), bits | RE2JS.LOOKBEHINDS);
}

/** The source with `\\` pairs blanked, so `\\1` (a backslash, then 1) is not read as `\1`. */
function stripEscapedBackslashes(source: string): string {
  return source.replace(/\\\\/g, '__');
}

// What picomatch adds so that `*` never matches `.`, `..` or an empty segment. Paths the scanner
// matches are normalised (no such segments), so these change nothing there and can go: RE2 has
// no lookaround.
const GLOB_LOOKAROUNDS = ['(?!\\.{1,2}(?:\\/|$))', '(?!(?:^|\\/)\\.{1,2}(?:\\/|$))', '(?=.)'];

/**
 * Compiles path globs from a user's config (picomatch syntax) for the linear-time engine: picomatch
 * alone makes backtracking regexes, and `*a*a*a*a*a*a*b` took minutes on one long file name.
 */
export function compileLinearGlobs(globs: readonly string[]): (path: string) => boolean {
  const compiled = globs.map(compileLinearGlob);
  return (path) => compiled.some((match) => match(path));
}

/** Why a config path glob cannot run on the linear-time engine, or undefined when it can. */
export function linearGlobProblem(glob: string): string | undefined {
  try {
    compileLinearGlob(glob);
  } catch (e) {
    return `${(e as Error).message} (path globs run on a linear-time engine; docs/configuration.md)`;
  }
  return undefined;
}

function compileLinearGlob(glob: string): (path: string) => boolean {
  let body = glob;
  let negated = false;
  // A leading `!` negates the glob, as picomatch reads it; `!(…)` is an extglob, not a negation.
  while (body.startsWith('!') && !body.startsWith('!(')) {
    negated = !negated;
    body = body.slice(1);
  }
  let source = picomatch.makeRe(body, { dot: true, nonegate: true }).source;
  for (const look of GLOB_LOOKAROUNDS) source = source.split(look).join('');
  if (/\(\?<?[=!]/.test(source)) throw new Error('negated extglobs `!(…)` are not supported');
  const re = RE2JS.compile(RE2JS.translateRegExp(source));
  return negated ? (path) => !re.test(path) : (path) => re.test(path);
}
