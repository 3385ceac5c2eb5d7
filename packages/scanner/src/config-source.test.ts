import { describe, expect, it } from 'vitest';
import { parseConfig } from './config.js';
import { configChanges, describeSource } from './config-source.js';

describe('configChanges', () => {
  const trusted = parseConfig('disabledRules: [a]\nallowlist:\n  - paths: ["docs/**"]\n', 'base');

  it('names each change that would hide findings', () => {
    const text = [
      'useDefaultRules: false',
      'disabledRules: [a, github-pat]',
      'allowlist:',
      '  - paths: ["docs/**"]',
      '  - regexes: ["^ghp_"]',
      '  - stopwords: [Token]',
      'skip: { lockfiles: true }',
      'maxDecodeDepth: 0',
    ].join('\n');
    expect(
      configChanges(trusted, text, '.keyfence.yaml', true).map((c) => c.replace(/ \(not applied.*$/, '')),
    ).toEqual([
      '.keyfence.yaml turns off the built-in rules',
      '.keyfence.yaml disables rules: github-pat',
      '.keyfence.yaml adds an allowlist entry: 1 regex',
      '.keyfence.yaml adds an allowlist entry: 1 stopword',
      '.keyfence.yaml lowers maxDecodeDepth to 0',
    ]);
  });

  it('says so when the new text is not a valid config, or changes nothing that hides findings', () => {
    expect(configChanges(trusted, 'nope: [', '.keyfence.yaml', true)).toEqual([
      '.keyfence.yaml in the pull request is not a valid config',
    ]);
    expect(configChanges(trusted, 'disabledRules: [a]\n', 'x.yaml', false)).toEqual([
      'x.yaml (new) changes settings (none that would hide findings) (not applied until it is on the base branch)',
    ]);
  });
});

describe('describeSource', () => {
  it('names every origin', () => {
    const commit = 'a'.repeat(40);
    expect(describeSource({ origin: 'base-commit', path: '.keyfence.yaml', commit })).toBe(
      `.keyfence.yaml from the base commit ${'a'.repeat(12)}`,
    );
    expect(describeSource({ origin: 'pull-request', path: 'ci/k.yaml' })).toBe(
      'ci/k.yaml: config from the pull request itself',
    );
    expect(describeSource({ origin: 'defaults' })).toBe('the built-in defaults (no config file)');
    expect(describeSource({ origin: 'checkout', path: '.keyfence.yaml' })).toBe(
      '.keyfence.yaml from the checkout',
    );
    expect(describeSource({ origin: 'explicit', path: '/etc/k.yaml' })).toBe(
      '/etc/k.yaml (given explicitly)',
    );
  });
});
