import { createHash, createHmac, pbkdf2Sync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { generatePassword } from './password.js';
import { scramSha256Verifier } from './scram.js';

describe('scramSha256Verifier', () => {
  it('builds the verifier PostgreSQL stores: iterations, salt, StoredKey and ServerKey', () => {
    const salt = Buffer.alloc(16, 7);
    const verifier = scramSha256Verifier('pencil-and-paper', salt);
    const [head, keys] = verifier.split('$').slice(1);
    expect(verifier.startsWith('SCRAM-SHA-256$4096:')).toBe(true);
    expect(head).toBe(`4096:${salt.toString('base64')}`);
    const salted = pbkdf2Sync('pencil-and-paper', salt, 4096, 32, 'sha256');
    const stored = createHash('sha256')
      .update(createHmac('sha256', salted).update('Client Key').digest())
      .digest();
    expect(keys?.split(':')[0]).toBe(stored.toString('base64'));
    expect(verifier).not.toContain('pencil');
  });

  it('uses a fresh salt each time', () => {
    expect(scramSha256Verifier('same-password')).not.toBe(scramSha256Verifier('same-password'));
  });

  it('refuses text the server would SASLprep first', () => {
    expect(() => scramSha256Verifier('pässwort')).toThrow(RangeError);
    expect(() => scramSha256Verifier('tab\there')).toThrow(RangeError);
  });
});

describe('generatePassword', () => {
  it('draws letters and digits of every class, at the length asked', () => {
    const password = generatePassword(32);
    expect(password).toHaveLength(32);
    expect(password).toMatch(/^[A-Za-z0-9]+$/);
    expect(password).toMatch(/[a-z]/);
    expect(password).toMatch(/[A-Z]/);
    expect(password).toMatch(/[0-9]/);
  });

  it('leaves out excluded characters', () => {
    const password = generatePassword(64, 'abcdefABCDEF2345');
    expect(password).not.toMatch(/[a-fA-F2-5]/);
  });
});
