import { describe, expect, it } from 'vitest';
import { BUILTIN_RULES } from './builtin.js';
import { compileRule } from './compile.js';
import { publicPrefixes } from './prefix.js';

describe('publicPrefixes', () => {
  it.each([
    ['\\b(ghp_[A-Za-z0-9]{36})(?![A-Za-z0-9])', 1, ['ghp_']],
    ['\\b((?:AKIA|ASIA)[A-Z0-9]{16})\\b', 1, ['AKIA', 'ASIA']],
    ['\\b(pc(?:sk|key)_[A-Za-z0-9]{4,12})', 1, ['pcsk_', 'pckey_']],
    ['(-----BEGIN (?:RSA |EC )?PRIVATE KEY-----[\\s\\S]{64,8192}?-----END)', 1, ['-----BEGIN ']],
    ['\\b(sk_live_(?![0-9a-f]{40})[A-Za-z0-9]{24,247})', 1, ['sk_live_']],
    ['\\b(xoxb-[0-9]{10,13}-)', 1, ['xoxb-']],
    ['(t1\\.[A-Za-z0-9_-]{20,512})', 1, ['t1.']],
    ['(?<tok>npm_[A-Za-z0-9]{36})', 1, ['npm_']],
    ['(abc?d)', 1, ['ab']],
    ['(ab+c)', 1, ['ab']],
    ['(a{0,2}b)', 1, []],
    ['(?:password|secret)\\s*=\\s*"([^"]{8,64})"', 1, []],
    ['://[^:]+:([^@]{3,256})@', 1, []],
    ['(?:x|y)([a-z]+)', 1, []],
    ['secret=[A-Z]{8}', undefined, ['secret=']],
  ])('finds the literal prefixes of %s', (source, group, expected) => {
    expect(publicPrefixes(source, group)).toEqual(expected);
  });

  it('gives no built-in generic rule a prefix: a password shows no character', () => {
    const generic = BUILTIN_RULES.map((r) => compileRule(r)).filter((r) => r.id.startsWith('generic-'));
    expect(generic.length).toBeGreaterThan(0);
    expect(generic.filter((r) => r.publicPrefixes.length > 0).map((r) => r.id)).toEqual([]);
  });
});
