/**
 * Noise control shared by every rule: values that look like secrets but are documentation
 * examples, template placeholders, public keys or hashes.
 */

// Runs of one character mark a placeholder in a token, but occur naturally in the base64 of
// binary data (zero bytes encode as AAAA), so they are only checked on token-sized values.
const SHORT_MAX = 100;
const X_RUN = /[xX]{4,}/g;
const SAME_RUN = /(.)\1{5,}/g;

// Marks that cannot occur in a random token: wherever they are, the value is a template.
const PLACEHOLDER_MARKS = [
  /\*{3,}/,
  /<[^<>]{0,64}>/,
  /\$\{[^}]{0,128}\}/,
  /\{\{[^}]{0,128}\}\}/,
  /%\([a-z_]{1,64}\)s/i,
  /^\$[A-Za-z_][A-Za-z0-9_]*$/,
  /\.\.\.|\u2026/, // an ellipsis: "Password=..." in documentation
  /^(?:my)?(?:secret|password|passwd|pass|pwd|token|api[_-]?key|key|value|string|credentials?|empty|none|null)s?\W{0,2}$/i,
];

// Words a person writes in place of a secret. Random characters hold them by chance (about one
// GitHub token in a million holds "dummy" in some case), so they only count in a word's shape.
const PLACEHOLDER_WORDS = new RegExp(
  '(?:example|dummy|placeholder|redacted|change[_-]?me|replace[_-]?me|not[_-]?real|insert[_-]?your' +
    '|fake[_-]?(?:api[_-]?)?(?:key|token|secret|password)' +
    '|your[_-]?(?:api[_-]?|access[_-]?|secret[_-]?|auth[_-]?)?(?:key|token|secret|password|pass))' +
    // What documentation puts after the word: AWS's sample keys end in EXAMPLE and EXAMPLEKEY.
    '(?:[_-]?(?:key|token|secret|here))?',
  'gi',
);
const ALNUM = /[A-Za-z0-9]/;

const PUBLIC_KEY_PREFIX =
  /^(?:ssh-(?:rsa|dss|ed25519)|ecdsa-sha2-|sk-ssh-|-----BEGIN (?:RSA )?PUBLIC KEY|pk_(?:live|test)_)/;

/**
 * True when a matched value is a placeholder or documentation example, not a secret: a template
 * mark, or a placeholder shape that covers the value. A word or a run of x's inside random
 * characters is chance, not a placeholder.
 */
export function isPlaceholder(secret: string): boolean {
  return (
    PLACEHOLDER_MARKS.some((re) => re.test(secret)) ||
    PUBLIC_KEY_PREFIX.test(secret) ||
    hasPlaceholderWord(secret) ||
    (secret.length <= SHORT_MAX && (runsCover(secret, X_RUN) || runsCover(secret, SAME_RUN)))
  );
}

/**
 * A placeholder word written as a word: in one case (`dummy`, `DUMMY`, `Dummy`, `yourApiKey`), and
 * at the start or end of the value or set off by separators (`EXAMPLE_KEY_1`, `…7EXAMPLE`, `my-dummy-key`).
 */
function hasPlaceholderWord(secret: string): boolean {
  for (const m of secret.matchAll(PLACEHOLDER_WORDS)) {
    const word = m[0].replace(/[_-]/g, '');
    if (!/^(?:[a-z]+|[A-Z]+|[A-Z]?[a-z]+(?:[A-Z][a-z]+)*)$/.test(word)) continue;
    const before = secret[m.index - 1];
    const after = secret[m.index + m[0].length];
    const atEdge = before === undefined || after === undefined;
    if (atEdge || (!ALNUM.test(before) && !ALNUM.test(after))) return true;
  }
  return false;
}

/**
 * Runs (of x's, or of one character) that cover the value: at least half of it, or the whole of a
 * part between separators (`ghp_xxxx…`, `xoxb-…-xxxxxxxx`, `AKIAXXXXXXXXXXXXXXXX`).
 */
function runsCover(secret: string, runs: RegExp): boolean {
  let covered = 0;
  for (const m of secret.matchAll(runs)) {
    const before = secret[m.index - 1];
    const after = secret[m.index + m[0].length];
    const wholePart =
      (before === undefined || !ALNUM.test(before)) && (after === undefined || !ALNUM.test(after));
    if (wholePart) return true;
    covered += m[0].length;
  }
  return covered * 2 >= secret.length;
}

/** Words that, inside a generic rule's value, mean it is not a real secret. */
export const GENERIC_STOPWORDS = [
  'sample',
  'test',
  'mock',
  'lorem',
  'foobar',
  'default',
  'password',
  'secret',
  'undefined',
  'null',
  'none',
  'true',
  'false',
  'string',
  'todo',
  'fixme',
  'abcdef',
  '123456',
  'qwerty',
];

const CODE_LIKE =
  /^(?:process\.env|os\.environ|os\.getenv|env\.|this\.|self\.|config\.|settings\.|props\.|import\.meta)|[()[\]]|=>|^[A-Za-z_$][\w$]*\.[A-Za-z_$][\w$]*$/;
const PATH_LIKE = /^(?:[./~]|[A-Za-z]:\\)?(?:[\w.@-]+[/\\]){2,}[\w.@-]*$/;
const HEX_HASH =
  /^(?:[0-9a-f]{32}|[0-9a-f]{40}|[0-9a-f]{64}|[0-9a-f]{128}|[0-9A-F]{32}|[0-9A-F]{40}|[0-9A-F]{64})$/;
const HASH_CONTEXT = /sha\d*|md5|hash|checksum|integrity|digest|etag|commit|nonce|salt|uuid|guid|hmac_?alg/i;
const SRI = /^sha(?:256|384|512)-[A-Za-z0-9+/]{20,}={0,2}$/;

const DATE_TIME = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?$/;
// kebab-case of words, as in header names: `x-aws-ec2-metadata-token`.
const KEBAB_WORDS = /^[a-z]{1,12}[0-9]?(?:-[a-z]{1,12}[0-9]?)+$/;

/** A PascalCase or camelCase identifier made of word-like parts (a type or function name). */
function isIdentifierOfWords(value: string): boolean {
  if (!/^[A-Za-z][A-Za-z0-9]{5,}$/.test(value)) return false;
  const parts = value.match(/[A-Z]?[a-z]+|[A-Z]+(?![a-z])|\d+/g) ?? [];
  const acronyms = parts.filter((p) => /^[A-Z]+$/.test(p));
  // Random tokens break into many short pieces, consonant clusters and capital runs; words do not.
  return (
    parts.length <= value.length / 3 &&
    acronyms.length <= 1 &&
    acronyms.every((p) => p.length <= 4) &&
    parts.every((p) => /^\d{1,2}$/.test(p) || /^[A-Z]+$/.test(p) || isWordLike(p))
  );
}

function isWordLike(piece: string): boolean {
  const lower = piece.toLowerCase();
  return lower.length >= 2 && /[aeiou]/.test(lower) && !/[^aeiou]{4}/.test(lower);
}

// A stopword this long turns up in random characters too rarely to matter (under one value in ten
// million); shorter ones (`test`, `your`, `xxxx`) sit in about one random token in 30,000.
const STOPWORD_CHANCE_MAX = 5;

/**
 * True when a rule's stopword is in the value as a person would write it: anywhere in a value made
 * by hand, but inside a random-looking token (upper and lower case and digits) only as a word of
 * its own: in one case, with the value's edge, a separator or a case change on both sides.
 */
export function hasStopword(secret: string, words: readonly string[]): boolean {
  if (words.length === 0) return false;
  const lower = secret.toLowerCase();
  const random = /[a-z]/.test(secret) && /[A-Z]/.test(secret) && /[0-9]/.test(secret);
  for (const word of words) {
    for (let i = lower.indexOf(word); i >= 0; i = lower.indexOf(word, i + 1)) {
      if (!random || word.length > STOPWORD_CHANCE_MAX || isWordAt(secret, i, word.length)) return true;
    }
  }
  return false;
}

function isWordAt(secret: string, start: number, length: number): boolean {
  const word = secret.slice(start, start + length);
  if (!/^(?:[a-z0-9_-]+|[A-Z0-9_-]+|[A-Z][a-z0-9_-]+)$/.test(word)) return false;
  const before = secret[start - 1];
  const after = secret[start + length];
  const openBefore =
    before === undefined || !ALNUM.test(before) || (/[a-z]/.test(before) && /[A-Z]/.test(word[0]!));
  const openAfter =
    after === undefined || !ALNUM.test(after) || (/[a-z]/.test(word.at(-1)!) && /[A-Z]/.test(after));
  return openBefore && openAfter;
}

/**
 * Extra checks for generic (assignment-based) rules, which see far more candidates than
 * provider-specific ones: stopwords, code, paths and hashes are not secrets.
 */
export function isGenericNoise(secret: string, line: string): boolean {
  if (hasStopword(secret, GENERIC_STOPWORDS)) return true;
  if (CODE_LIKE.test(secret) || PATH_LIKE.test(secret) || SRI.test(secret)) return true;
  if (DATE_TIME.test(secret) || KEBAB_WORDS.test(secret) || isIdentifierOfWords(secret)) return true;
  if (HEX_HASH.test(secret) && HASH_CONTEXT.test(line)) return true;
  if (/^[a-z]+(?:[-_ ][a-z]+)*$/i.test(secret) && !/\d/.test(secret) && secret.length < 24) return true;
  return false;
}

/** Markers that suppress findings on their line; other tools' markers are honoured for migration. */
export const INLINE_ALLOW = /keyfence:allow|gitleaks:allow|trufflehog:ignore|pragma: allowlist secret/;
