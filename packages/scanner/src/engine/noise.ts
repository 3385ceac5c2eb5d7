/**
 * Noise control shared by every rule: values that look like secrets but are documentation
 * examples, template placeholders, public keys or hashes.
 */

// Runs of one character mark a placeholder in a token, but occur naturally in the base64 of
// binary data (zero bytes encode as AAAA), so they are only checked on token-sized values.
const SHORT_PLACEHOLDER = [/x{4,}/i, /(.)\1{5,}/];
const SHORT_MAX = 100;

const PLACEHOLDER = [
  /example/i,
  /\*{3,}/,
  /<[^<>]{0,64}>/,
  /\$\{[^}]{0,128}\}/,
  /\{\{[^}]{0,128}\}\}/,
  /%\([a-z_]{1,64}\)s/i,
  /^\$[A-Za-z_][A-Za-z0-9_]*$/,
  /change_?me|replace_?me|placeholder|dummy|redacted|notreal|not_real|insert[_-]?your|fake[_-]?(?:api[_-]?)?(?:key|token|secret|password)/i,
  /your[_-]?(?:api[_-]?|access[_-]?|secret[_-]?|auth[_-]?)?(?:key|token|secret|password|pass)/i,
  /\.\.\.|\u2026/, // an ellipsis: "Password=..." in documentation
  /^(?:my)?(?:secret|password|passwd|pass|pwd|token|api[_-]?key|key|value|string|credentials?|empty|none|null)s?\W{0,2}$/i,
];

const PUBLIC_KEY_PREFIX =
  /^(?:ssh-(?:rsa|dss|ed25519)|ecdsa-sha2-|sk-ssh-|-----BEGIN (?:RSA )?PUBLIC KEY|pk_(?:live|test)_)/;

/** True when a matched value is a placeholder or documentation example, not a secret. */
export function isPlaceholder(secret: string): boolean {
  return (
    PLACEHOLDER.some((re) => re.test(secret)) ||
    PUBLIC_KEY_PREFIX.test(secret) ||
    (secret.length <= SHORT_MAX && SHORT_PLACEHOLDER.some((re) => re.test(secret)))
  );
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

/**
 * Extra checks for generic (assignment-based) rules, which see far more candidates than
 * provider-specific ones: stopwords, code, paths and hashes are not secrets.
 */
export function isGenericNoise(secret: string, line: string): boolean {
  const lower = secret.toLowerCase();
  if (GENERIC_STOPWORDS.some((w) => lower.includes(w))) return true;
  if (CODE_LIKE.test(secret) || PATH_LIKE.test(secret) || SRI.test(secret)) return true;
  if (DATE_TIME.test(secret) || KEBAB_WORDS.test(secret) || isIdentifierOfWords(secret)) return true;
  if (HEX_HASH.test(secret) && HASH_CONTEXT.test(line)) return true;
  if (/^[a-z]+(?:[-_ ][a-z]+)*$/i.test(secret) && !/\d/.test(secret) && secret.length < 24) return true;
  return false;
}

/** Markers that suppress findings on their line; other tools' markers are honoured for migration. */
export const INLINE_ALLOW = /keyfence:allow|gitleaks:allow|trufflehog:ignore|pragma: allowlist secret/;
