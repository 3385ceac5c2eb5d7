import { createHash } from 'node:crypto';
import type { SecretValue } from '@keyfence/core';

/** How findings are fingerprinted; set by the caller (env, action input), never by a config file. */
export interface FingerprintSettings {
  /** The key for HMAC fingerprints (KEYFENCE_FINGERPRINT_KEY, the action's `fingerprint-key`). */
  key?: string;
  /**
   * Also compute the fingerprint an older baseline was written with (`v1`: unsalted sha256;
   * `scrypt`: before a key was set), to match its entries; never reported.
   */
  legacy?: 'v1' | 'scrypt';
  /**
   * No report of this run shows fingerprints (a text report without a key): `key` is then a random
   * one made for the run, which tells findings apart without paying for scrypt.
   */
  ephemeral?: true;
}

/** `hmac`: HMAC-SHA256 under the user's key; `scrypt`: no key, slow and salted. */
export type FingerprintScheme = 'hmac' | 'scrypt';

/** As a finding carries it: `ephemeral` fingerprints hold only within one run and are never shown. */
export type FindingFingerprintScheme = FingerprintScheme | 'ephemeral';

/** The environment variable the CLI reads the key from. */
export const FINGERPRINT_KEY_ENV = 'KEYFENCE_FINGERPRINT_KEY';

/** How a baseline's set marks v1 (unsalted sha256) entries, so they never match a v2 value. */
export const LEGACY_PREFIX = 'v1:';

// The namespace of v2 fingerprints; a later rule-independent secret hash takes another one.
const CONTEXT = 'fingerprint/v2';

/**
 * Computes finding fingerprints that a reader of a report cannot test guesses against: keyed
 * when there is a key, else scrypt (each distinct secret hashed once per scan, so a scan with
 * many findings of the same secret stays fast).
 */
export class Fingerprinter {
  readonly scheme: FindingFingerprintScheme;
  readonly #key: string | undefined;
  readonly #legacy: 'v1' | 'scrypt' | undefined;
  // Keyed by a digest, not the secret, so the cache holds no secret; it never leaves the process.
  readonly #slow = new Map<string, string>();

  constructor(settings: FingerprintSettings = {}) {
    this.#key = settings.key === '' ? undefined : settings.key;
    this.scheme = this.#key === undefined ? 'scrypt' : settings.ephemeral ? 'ephemeral' : 'hmac';
    this.#legacy = settings.legacy;
  }

  /** The v2 fingerprint of a rule's secret, and the old one when an old baseline is to be matched. */
  of(ruleId: string, secret: SecretValue): { fingerprint: string; legacy?: string } {
    const fingerprint =
      this.#key === undefined
        ? this.#slowHash(ruleId, secret)
        : secret.keyedHash(this.#key, [CONTEXT, ruleId]);
    if (this.#legacy === 'v1')
      return { fingerprint, legacy: `${LEGACY_PREFIX}${secret.fingerprint(ruleId)}` };
    if (this.#legacy === 'scrypt' && this.#key !== undefined) {
      return { fingerprint, legacy: this.#slowHash(ruleId, secret) };
    }
    return { fingerprint };
  }

  #slowHash(ruleId: string, secret: SecretValue): string {
    const id = createHash('sha256').update(ruleId).update('\0').update(secret.reveal()).digest('base64');
    let hash = this.#slow.get(id);
    if (hash === undefined) {
      hash = secret.slowHash([CONTEXT, ruleId]);
      this.#slow.set(id, hash);
    }
    return hash;
  }
}
