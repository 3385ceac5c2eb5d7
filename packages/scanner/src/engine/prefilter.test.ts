import { describe, expect, it } from 'vitest';
import { KeywordMatcher } from './prefilter.js';

function naive(keywords: string[], text: string): string[] {
  const lower = text.toLowerCase();
  const hits: string[] = [];
  for (let end = 1; end <= lower.length; end++) {
    keywords.forEach((k, id) => {
      if (end >= k.length && lower.slice(end - k.length, end) === k) hits.push(`${id}@${end}`);
    });
  }
  return hits;
}

describe('KeywordMatcher', () => {
  it('finds every keyword occurrence, overlapping ones included, case-insensitively', () => {
    const keywords = ['akia', 'ghp_', 'key', 'apikey', 'secret', 'sec', 'he', 'she', 'hers'];
    const text = 'const APIKEY = "x"; ushers AKIAAKIA ghp_abc Secretsecret shekey';
    const hits: string[] = [];
    new KeywordMatcher(keywords).scan(text, (id, end) => hits.push(`${id}@${end}`));
    expect(hits.sort()).toEqual(naive(keywords, text).sort());
  });

  it('agrees with a naive search on random text', () => {
    const keywords = ['ab', 'abc', 'bca', 'caab', 'xyz', 'zz'];
    const alphabet = 'abcxyzAB \n\u00e9';
    let text = '';
    for (let i = 0; i < 2000; i++) text += alphabet[(i * 7919 + (i >> 3)) % alphabet.length];
    const hits: string[] = [];
    new KeywordMatcher(keywords).scan(text, (id, end) => hits.push(`${id}@${end}`));
    expect(hits.length).toBeGreaterThan(0);
    expect(hits.sort()).toEqual(naive(keywords, text).sort());
  });

  it('treats non-ASCII characters as no keyword character', () => {
    const hits: number[] = [];
    new KeywordMatcher(['token']).scan('t\u00f6ken token', (_id, end) => hits.push(end));
    expect(hits).toEqual([11]);
  });
});
