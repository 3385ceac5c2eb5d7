import { describe, expect, it } from 'vitest';
import { fake, randomString } from '../../../../test/support/secrets.js';
import { shannonEntropy } from './entropy.js';
import { isGenericNoise, isPlaceholder } from './noise.js';

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
});

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
