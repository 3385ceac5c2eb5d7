import { createHash, createHmac, scryptSync, timingSafeEqual } from 'node:crypto';

/** Placeholder printed wherever a secret would otherwise be rendered. */
export const REDACTED = '[REDACTED]';

const DEFAULT_PREVIEW_CHARS = 4;
// A preview may show at most one character in five, so a short secret
// (a PIN, a 6-char password) gives away almost nothing through its preview.
const PREVIEW_DIVISOR = 5;
// scrypt at 4 MiB and some milliseconds per distinct secret, as an interactive login: every guess a reader
// of a report tests costs the same, on hardware built for hashing or not.
const SCRYPT = { N: 1 << 12, r: 8, p: 1, maxmem: 32 * 1024 * 1024 } as const;
const LENGTH_CLASSES = [8, 16, 32, 64, 128];

function sha256(data: string): Buffer {
  return createHash('sha256').update(data, 'utf8').digest();
}

/**
 * A secret string that redacts itself on every implicit printing path
 * (string coercion, JSON, util.inspect / console.log); `reveal()` is the only way out.
 */
export class SecretValue {
  // A #private field is invisible to util.inspect, JSON, spread, Object.keys and structuredClone,
  // unlike a TypeScript `private` property, which is an ordinary enumerable property at runtime.
  readonly #value: string;

  constructor(value: string) {
    this.#value = value;
  }

  /** Wraps a plain string as a SecretValue. */
  static of(value: string): SecretValue {
    return new SecretValue(value);
  }

  /** Length of the secret in UTF-16 code units; safe to log. */
  get length(): number {
    return this.#value.length;
  }

  /** Returns the plain secret; every call site is a deliberate, greppable disclosure point. */
  reveal(): string {
    return this.#value;
  }

  /** Redacted placeholder, so template literals, String() and `%s` never show the value. */
  toString(): string {
    return REDACTED;
  }

  /** Redacted placeholder, so JSON.stringify never serialises the value. */
  toJSON(): string {
    return REDACTED;
  }

  /** Redacted placeholder, so `+` and other default-hint coercions never show the value. */
  valueOf(): string {
    return REDACTED;
  }

  /** Redacted placeholder for util.inspect, console.log and `%o` / `%O`. */
  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return REDACTED;
  }

  /** Short preview for humans: the first min(prefixChars, floor(length / 5)) characters, then '…'. */
  redacted(prefixChars: number = DEFAULT_PREVIEW_CHARS): string {
    const requested = Number.isFinite(prefixChars) ? Math.max(0, Math.floor(prefixChars)) : 0;
    let shown = Math.min(requested, Math.floor(this.#value.length / PREVIEW_DIVISOR));
    // Cutting between the halves of a surrogate pair would print a lone surrogate (mojibake);
    // showing one character less is the safe direction.
    const last = this.#value.charCodeAt(shown - 1);
    if (shown > 0 && last >= 0xd800 && last <= 0xdbff) shown -= 1;
    return `${this.#value.slice(0, shown)}…`;
  }

  /**
   * A preview that shows only a public constant of the format: the first of `prefixes` the value
   * starts with (a rule's literal `ghp_`, `AKIA`), else no character at all; then a length class,
   * never the exact length.
   */
  redactedTo(prefixes: readonly string[], ignoreCase = false): string {
    const v = ignoreCase ? this.#value.toLowerCase() : this.#value;
    const prefix = prefixes.find(
      (p) => p.length < this.#value.length && v.startsWith(ignoreCase ? p.toLowerCase() : p),
    );
    const shown = prefix === undefined ? '' : this.#value.slice(0, prefix.length);
    const n = this.#value.length;
    const upper = LENGTH_CLASSES.find((c) => n < c);
    const lower = [...LENGTH_CLASSES].reverse().find((c) => n >= c);
    const size =
      upper === undefined ? `${lower}+` : lower === undefined ? `<${upper}` : `${lower}-${upper - 1}`;
    return `${shown}… (${size} chars)`;
  }

  /**
   * Keyed digest (HMAC-SHA256, hex) of the value in a context such as `fingerprint/v2` plus a
   * rule id: without the key, nobody can test a guess against it. Parts are NUL-separated so no
   * two contexts collide.
   */
  keyedHash(key: string, context: readonly string[]): string {
    return createHmac('sha256', key)
      .update(['keyfence', ...context, this.#value].join('\0'), 'utf8')
      .digest('hex');
  }

  /**
   * Slow, memory-hard digest (scrypt, hex) with a stable salt, for when no key is set: stable
   * across runs, yet every guess costs a full scrypt.
   */
  slowHash(context: readonly string[]): string {
    return scryptSync(this.#value, ['keyfence', ...context].join('\0'), 32, SCRYPT).toString('hex');
  }

  /** Constant-time comparison with another SecretValue. */
  equals(other: SecretValue): boolean {
    if (!(other instanceof SecretValue)) return false;
    // Comparing fixed-length digests keeps the timing independent of where the strings differ
    // and of their lengths, which timingSafeEqual on the raw bytes could not (it throws on a length mismatch).
    return timingSafeEqual(sha256(this.#value), sha256(other.#value));
  }

  /**
   * Unsalted sha256 hex of `namespace:value`, the v1 fingerprint. Anyone can test a guess against
   * it: compute it only to compare with old records, never to publish.
   */
  fingerprint(namespace: string): string {
    return createHash('sha256').update(`${namespace}:${this.#value}`, 'utf8').digest('hex');
  }
}
