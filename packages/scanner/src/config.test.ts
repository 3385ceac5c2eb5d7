import { isKeyfenceError } from '@keyfence/core';
import { describe, expect, it } from 'vitest';
import { parseConfig } from './config.js';

function configError(text: string): string {
  try {
    parseConfig(text, '.keyfence.yaml');
  } catch (e) {
    if (isKeyfenceError(e)) return `${e.code}: ${e.message}`;
    throw e;
  }
  throw new Error('expected a config error');
}

describe('parseConfig', () => {
  it('reads rules, disabled rules, allowlists and skip settings', () => {
    const config = parseConfig(
      [
        'disabledRules: [generic-api-key]',
        'skip: { lockfiles: false }',
        'allowlist:',
        '  - description: fixtures',
        "    paths: ['test/fixtures/**']",
        '  - regexes: ["^dev-"]',
        '    stopwords: [Local]',
        'rules:',
        '  - id: acme-token',
        '    description: ACME API token',
        '    keywords: [acme_]',
        "    regex: '(acme_[a-z0-9]{32})'",
      ].join('\n'),
      '.keyfence.yaml',
    );
    expect(config.disabledRules).toEqual(['generic-api-key']);
    expect(config.skipLockfiles).toBe(false);
    expect(config.allowlist).toEqual([
      { description: 'fixtures', paths: ['test/fixtures/**'] },
      { regexes: ['^dev-'], stopwords: ['local'] },
    ]);
    expect(config.rules.map((r) => r.id)).toEqual(['acme-token']);
  });

  it('names the line of a YAML syntax error', () => {
    expect(configError('rules:\n  - id: x\n    keywords: [a, b\nallowlist: 1\n')).toMatch(
      /CONFIG_INVALID: .*\.keyfence\.yaml:\d+:/s,
    );
  });

  it('reports every problem at once, each with its line and field', () => {
    const message = configError(
      [
        'colour: red',
        'skip:',
        '  binaries: maybe',
        'rules:',
        '  - id: Bad Id',
        '    description: x',
        "    regex: '('",
      ].join('\n'),
    );
    expect(message).toContain('.keyfence.yaml:1: unknown key "colour"');
    expect(message).toContain('.keyfence.yaml:3: skip.binaries must be true or false');
    expect(message).toMatch(/\.keyfence\.yaml:5: rule "Bad Id": id: id must be lower-case kebab-case/);
    expect(message).toMatch(/\.keyfence\.yaml:7: rule "Bad Id": regex: not a valid regular expression/);
    expect(message).toContain('keywords');
  });

  it('keeps a user rule with nested quantifiers: it runs on the linear-time engine', () => {
    const config = parseConfig(
      [
        'rules:',
        '  - id: nested-rule',
        '    description: x',
        '    keywords: [aaa]',
        "    regex: '(a+)+b'",
      ].join('\n'),
      'k.yaml',
    );
    expect(config.rules.map((r) => r.id)).toEqual(['nested-rule']);
    expect(config.warnings).toEqual([]);
  });

  it('refuses lookahead and backreferences in every user regex, naming file, line and field', () => {
    const message = configError(
      [
        'rules:',
        '  - id: ahead',
        '    description: x',
        '    keywords: [abc]',
        "    regex: 'abc(?=def)'",
        '    allowlist:',
        "      regexes: ['(x)\\1']",
        'allowlist:',
        "  - regexes: ['ok', '(?!test)']",
      ].join('\n'),
    );
    expect(message).toMatch(
      /\.keyfence\.yaml:5: rule "ahead": regex: lookahead .* not supported .*linear-time/,
    );
    expect(message).toMatch(
      /\.keyfence\.yaml:7: rule "ahead": allowlist\.regexes\[0\]: backreferences are not supported/,
    );
    expect(message).toMatch(/\.keyfence\.yaml:9: allowlist regexes\[1\]: lookahead/);
  });
});
