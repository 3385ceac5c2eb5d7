/**
 * The literal text a rule's regex requires at the start of its secret (`ghp_`, `AKIA`, `xoxb-`,
 * `-----BEGIN `): a public constant of the format, so a report may show it. Anything the regex
 * does not spell out letter by letter is not a prefix, and nothing of it is shown.
 */

const MAX_PREFIXES = 32;
const MAX_PREFIX_LENGTH = 48;
// Characters that stand for themselves outside a character class.
const LITERAL = /[A-Za-z0-9_\- :/=,@#%'"!<>~&;]/;
const ESCAPED_LITERAL = /[^A-Za-z0-9]/;

/** The literal prefixes the secret (capture `group`, or the whole match) must start with; [] if none. */
export function publicPrefixes(source: string, group: number | undefined): string[] {
  const start = group === undefined || group === 0 ? 0 : groupStart(source, group);
  if (start === undefined) return [];
  const found = literalsAt(source, start, source.length);
  return found.filter((p) => p.length > 0).slice(0, MAX_PREFIXES);
}

/** Index just past the opening of capture group `n` (1-based), counting as the regex engine does. */
function groupStart(source: string, n: number): number | undefined {
  let count = 0;
  for (let i = 0; i < source.length; i++) {
    const c = source[i];
    if (c === '\\') i++;
    else if (c === '[') i = classEnd(source, i);
    else if (c === '(') {
      const named = /^\(\?P?<[A-Za-z_]\w*>/.exec(source.slice(i));
      if (source[i + 1] !== '?' || named) {
        count++;
        if (count === n) return i + (named ? named[0].length : 1);
      }
    }
  }
  return undefined;
}

/** The literal strings the text from `i` to `end` must start with (cross products of groups). */
function literalsAt(source: string, i: number, end: number): string[] {
  let acc = [''];
  while (i < end && acc.length <= MAX_PREFIXES && acc.every((a) => a.length < MAX_PREFIX_LENGTH)) {
    const c = source[i]!;
    if (c === '^') {
      i++;
    } else if (source.startsWith('\\b', i)) {
      i += 2;
    } else if (c === '(') {
      const close = parenEnd(source, i);
      if (close === undefined) break;
      const look = /^\(\?<?[=!]/.exec(source.slice(i));
      if (look) {
        i = close + 1; // zero-width: it adds no characters
        continue;
      }
      const opener = /^\((?:\?:|\?P?<[A-Za-z_]\w*>)?/.exec(source.slice(i))![0].length;
      const alts = splitAlternatives(source, i + opener, close).map(([s, e]) => fullLiteral(source, s, e));
      if (alts.some((a) => a === undefined) || optionalNext(source, close + 1)) break;
      if (quantifierAt(source, close + 1)) break;
      acc = acc.flatMap((a) => (alts as string[]).map((b) => a + b));
      i = close + 1;
    } else {
      const lit = literalChar(source, i);
      if (lit === undefined) break;
      if (optionalNext(source, lit.next)) break;
      acc = acc.map((a) => a + lit.char);
      if (quantifierAt(source, lit.next)) break;
      i = lit.next;
    }
  }
  return acc.length > MAX_PREFIXES ? [] : acc;
}

/** The text from `s` to `e` when it is literal characters only, else undefined. */
function fullLiteral(source: string, s: number, e: number): string | undefined {
  let out = '';
  for (let i = s; i < e; ) {
    const lit = literalChar(source, i);
    if (lit === undefined || quantifierAt(source, lit.next) || optionalNext(source, lit.next))
      return undefined;
    out += lit.char;
    i = lit.next;
  }
  return out;
}

function literalChar(source: string, i: number): { char: string; next: number } | undefined {
  const c = source[i];
  if (c === undefined) return undefined;
  if (c === '\\') {
    const d = source[i + 1];
    return d !== undefined && ESCAPED_LITERAL.test(d) ? { char: d, next: i + 2 } : undefined;
  }
  return LITERAL.test(c) ? { char: c, next: i + 1 } : undefined;
}

/** Whether what follows makes the previous atom optional (`?`, `*`, `{0,`). */
function optionalNext(source: string, i: number): boolean {
  const c = source[i];
  return c === '?' || c === '*' || /^\{0[,}]/.test(source.slice(i));
}

/** Whether a quantifier follows (after which nothing further is fixed). */
function quantifierAt(source: string, i: number): boolean {
  const c = source[i];
  return c === '+' || c === '?' || c === '*' || /^\{\d/.test(source.slice(i));
}

function splitAlternatives(source: string, s: number, e: number): [number, number][] {
  const out: [number, number][] = [];
  let from = s;
  for (let i = s; i < e; i++) {
    const c = source[i];
    if (c === '\\') i++;
    else if (c === '[') i = classEnd(source, i);
    else if (c === '(') i = parenEnd(source, i) ?? e;
    else if (c === '|') {
      out.push([from, i]);
      from = i + 1;
    }
  }
  out.push([from, e]);
  return out;
}

function parenEnd(source: string, open: number): number | undefined {
  let depth = 0;
  for (let i = open; i < source.length; i++) {
    const c = source[i];
    if (c === '\\') i++;
    else if (c === '[') i = classEnd(source, i);
    else if (c === '(') depth++;
    else if (c === ')' && --depth === 0) return i;
  }
  return undefined;
}

function classEnd(source: string, open: number): number {
  let i = open + 1;
  if (source[i] === '^') i++;
  if (source[i] === ']') i++;
  for (; i < source.length; i++) {
    if (source[i] === '\\') i++;
    else if (source[i] === ']') return i;
  }
  return source.length;
}
