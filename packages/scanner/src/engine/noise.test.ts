import { randomInt } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ALNUM, B64, fake, randomString } from '../../../../test/support/secrets.js';
import { shannonEntropy } from './entropy.js';
import { hasStopword, isGenericNoise, isPlaceholder } from './noise.js';

describe('shannonEntropy', () => {
  it('is 0 for one repeated character and log2(n) for n distinct ones', () => {
    expect(shannonEntropy('aaaa')).toBe(0);
    expect(shannonEntropy('abcd')).toBe(2);
    expect(shannonEntropy('')).toBe(0);
  });
});

describe('isPlaceholder', () => {
  it.each([
    'AKIAIOSFODNN7EXAMPLE',
    'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
    'ghp_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx',
    '<your-api-key>',
    '${GITHUB_TOKEN}',
    '{{ secrets.TOKEN }}',
    'changeme',
    'your_api_key_here',
    'aaaaaaaaaaaaaaaaaaaa',
    '$API_KEY',
    'ssh-rsa AAAAB3NzaC1yc2E',
  ])('treats %s as a placeholder', (value) => {
    expect(isPlaceholder(value)).toBe(true);
  });

  it('keeps long base64 blobs with runs of one character (zero bytes in a key encode as AAAA)', () => {
    const body = `b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW${'Qy'.repeat(50)}`;
    expect(isPlaceholder(body)).toBe(false);
    expect(isPlaceholder('AAAAAAAAAAAAAAAAAAAA')).toBe(true);
  });

  it('keeps random-looking values', () => {
    expect(isPlaceholder(fake.githubPat())).toBe(false);
  });

  it.each([
    'ghp_XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX',
    'AKIAXXXXXXXXXXXXXXXX',
    'xoxb-123456789012-123456789012-xxxxxxxxxxxxxxxxxxxxxxxx',
    'sk_live_000000000000000000000000',
    'your-api-key-here',
    'YOUR_API_KEY',
    '<token>',
    'EXAMPLE_KEY_7f3a9c2e',
    'example-token-2024',
    'DummyToken',
    'sk_test_dummy_key',
    'ghp_1234xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx',
    'AKIAIOSFODNN7EXAMPLE',
  ])('still drops the placeholder shape %s', (value) => {
    expect(isPlaceholder(value)).toBe(true);
  });

  // Random tokens of real formats, with a placeholder word or run put at a random position
  // strictly inside the random part: chance, not a placeholder, so the token is a secret.
  const formats: [string, () => { head: string; body: string; tail: string }][] = [
    ['a GitHub PAT', () => ({ head: 'ghp_', body: cryptoRandom(36, ALNUM), tail: '' })],
    ['a fine-grained PAT', () => ({ head: 'github_pat_', body: cryptoRandom(82, `${ALNUM}_`), tail: '' })],
    ['an AWS secret key', () => ({ head: '', body: cryptoRandom(40, B64), tail: '' })],
    [
      'a Slack bot token',
      () => ({ head: 'xoxb-1234567890-1234567890-', body: cryptoRandom(24, ALNUM), tail: '' }),
    ],
  ];
  const words = [
    'xxxx',
    'XXXX',
    'xXxX',
    'xxxxx',
    'dummy',
    'DUMMY',
    'Dummy',
    'dUmMy',
    'example',
    'EXAMPLE',
    'Example',
    'eXAmplE',
  ];

  it.each(formats)(
    'keeps %s that holds xxxx, dummy or example (any case) inside its random part',
    (_name, make) => {
      for (const word of words) {
        for (let i = 0; i < 50; i++) {
          const { head, body, tail } = make();
          // Not at either edge of the random part, and not next to a separator it already has.
          const at = 1 + randomInt(body.length - word.length - 1);
          const embedded = body.slice(0, at) + word + body.slice(at + word.length);
          if (!/[A-Za-z0-9]/.test(embedded[at - 1]!) || !/[A-Za-z0-9]/.test(embedded[at + word.length]!)) {
            continue;
          }
          const token = head + embedded + tail;
          expect(token.length).toBe(head.length + body.length + tail.length);
          expect(isPlaceholder(token), token).toBe(false);
        }
      }
    },
  );
});

/** Random characters from `alphabet`, drawn with the crypto generator and no filtering. */
function cryptoRandom(length: number, alphabet: string): string {
  let out = '';
  for (let i = 0; i < length; i++) out += alphabet[randomInt(alphabet.length)];
  return out;
}

describe('isGenericNoise', () => {
  it('drops code, paths, stopwords and hashes named as hashes', () => {
    expect(isGenericNoise('process.env.API_KEY', '')).toBe(true);
    expect(isGenericNoise('getPassword()', '')).toBe(true);
    expect(isGenericNoise('/etc/app/secrets/db.txt', '')).toBe(true);
    expect(isGenericNoise('mytestpassword1', '')).toBe(true);
    expect(
      isGenericNoise('d41d8cd98f00b204e9800998ecf8427e', 'md5_hash = "d41d8cd98f00b204e9800998ecf8427e"'),
    ).toBe(true);
  });

  it('drops timestamps, kebab-case header names and identifiers made of words', () => {
    expect(isGenericNoise('2016-09-08T21:47:36Z', 'PasswordLastUsed: "2016-09-08T21:47:36Z",')).toBe(true);
    expect(
      isGenericNoise('x-aws-ec2-metadata-token', 'X_AWS_EC2_METADATA_TOKEN = "x-aws-ec2-metadata-token"'),
    ).toBe(true);
    expect(
      isGenericNoise('CreateOAuth2TokenRequestBody', 'tokenInput: CreateOAuth2TokenRequestBody | undefined;'),
    ).toBe(true);
  });

  it('keeps random values: almost none of them pass for words, dates or header names', () => {
    let dropped = 0;
    for (let i = 0; i < 2000; i++) if (isGenericNoise(randomString(24), 'api_key = "…"')) dropped++;
    // Measured: about 1 in 20,000 (a stopword or a word-like run by chance); 1% is a wide margin.
    expect(dropped).toBeLessThan(20);
  });

  it('keeps a hex value assigned to a key name (hex API keys are secrets)', () => {
    expect(
      isGenericNoise('9f2c4e7a1b3d5f6081a2c3e4f5a6b7c8', 'api_key = "9f2c4e7a1b3d5f6081a2c3e4f5a6b7c8"'),
    ).toBe(false);
  });
});

describe('hasStopword', () => {
  const SHORT = ['your', 'xxxx', 'test', 'mock', 'null'];

  /** A random token with `word` strictly inside, between random letters and digits. */
  function tokenHolding(word: string): string {
    for (;;) {
      const token = `${randomString(10 + randomInt(10))}${word}${randomString(10 + randomInt(10))}`;
      // Keep only tokens that look random (all three classes), as real ones almost always do.
      if (/[a-z]/.test(token) && /[A-Z]/.test(token) && /[0-9]/.test(token)) return token;
    }
  }

  it('does not drop random tokens that hold a short stopword inside their characters', () => {
    for (const word of SHORT) {
      for (let i = 0; i < 200; i++) {
        const token = tokenHolding(randomInt(2) === 0 ? word : word.toUpperCase());
        expect(hasStopword(token, [word]), token).toBe(false);
      }
    }
  });

  it('drops values where a short stopword stands as a word, and hand-made values holding it anywhere', () => {
    for (const value of [
      'your-token-9Xa',
      'Ab3_test_Zk',
      'myTestKey42',
      'Q1w2-TEST',
      'mytestpassword',
      'testing123',
      'XXXX-1234-abcd',
    ]) {
      expect(hasStopword(value, SHORT), value).toBe(true);
    }
  });

  it('keeps matching long stopwords anywhere, as before', () => {
    expect(hasStopword(`Ab1${'changeme'}Zq9`, ['changeme'])).toBe(true);
    expect(hasStopword(`Ab1${'EXAMPLE'}Zq9`, ['example'])).toBe(true);
  });
});
