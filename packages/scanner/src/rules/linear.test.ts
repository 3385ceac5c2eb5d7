import { describe, expect, it } from 'vitest';
import { fake, randomString } from '../../../../test/support/secrets.js';
import { compileAllowlist, excludedPaths, parseConfig } from '../config.js';
import { createDetector } from './builtin.js';
import { compileLinearRegex, linearRegexProblem } from './linear.js';

// Known catastrophic-backtracking shapes, each with a text that makes a backtracking engine try
// exponentially many paths (or polynomially many, for the last ones) before failing. Each text
// fits in one match window (2048 characters after the keyword), so `$` really is the line's end.
const REDOS: { pattern: string; evil: string }[] = [
  { pattern: '(a+)+$', evil: `${'a'.repeat(1500)}!` },
  { pattern: '(a|a)+b?$', evil: `${'a'.repeat(1500)}!` },
  { pattern: '(a|aa)+$', evil: `${'a'.repeat(1500)}!` },
  { pattern: '(a|a){1,64}$', evil: `${'a'.repeat(1500)}!` },
  { pattern: '(\\w+\\s?)+$', evil: `${'word '.repeat(300)}!` },
  { pattern: '(x+x+)+y', evil: 'x'.repeat(1500) },
  { pattern: '(\\d+)*[a-f]$', evil: `${'1'.repeat(1500)}!` },
  { pattern: '(.*a){12}$', evil: `${'a'.repeat(1500)}!` },
  { pattern: '([a-z0-9]+[._-]?)+@', evil: `${'ab.'.repeat(500)}!` },
  { pattern: '(?:[a-z]+\\s*=\\s*)+;', evil: `${'k = '.repeat(375)}!` },
  { pattern: '\\s*\\S*\\s*\\S*\\s*\\S*#$', evil: `${' x'.repeat(750)}` },
];

function yaml(lines: string[]): string {
  return lines.join('\n');
}

describe('user regexes on the linear-time engine', () => {
  it.each(REDOS)('runs the user rule $pattern to completion on an adversarial line', ({ pattern, evil }) => {
    const config = parseConfig(
      yaml([
        'rules:',
        '  - id: user-rule',
        '    description: x',
        '    keywords: ["key="]',
        `    regex: ${JSON.stringify(`key=${pattern}`)}`,
      ]),
      '.keyfence.yaml',
    );
    expect(config.warnings).toEqual([]);
    expect(config.rules.map((r) => r.id)).toEqual(['user-rule']);
    const detector = createDetector(config);
    const findings = detector.detect({ text: `key=${evil}\n`, path: 'evil.txt' });
    expect(findings.filter((f) => f.ruleId === 'user-rule')).toEqual([]);
    expect(detector.problems).toEqual([]);
  });

  it.each(REDOS)(
    'applies the config allowlist regex $pattern to an adversarial line and still reports the leak',
    ({ pattern, evil }) => {
      const token = fake.githubPat();
      const config = parseConfig(
        yaml(['allowlist:', `  - regexes: [${JSON.stringify(pattern)}]`, '    regexTarget: line']),
        '.keyfence.yaml',
      );
      const findings = createDetector(config).detect({ text: `t=${token} ${evil}\n`, path: 'a.txt' });
      expect(findings.map((f) => f.ruleId)).toEqual(['github-pat']);
    },
  );

  it.each(REDOS)('applies the rule allowlist regex $pattern to an adversarial match', ({ pattern, evil }) => {
    const config = parseConfig(
      yaml([
        'rules:',
        '  - id: user-rule',
        '    description: x',
        '    keywords: ["key="]',
        '    regex: "key=(\\\\S+)"',
        '    allowlist:',
        `      regexes: [${JSON.stringify(pattern)}]`,
        '      regexTarget: match',
      ]),
      '.keyfence.yaml',
    );
    // A random head keeps the value clear of the placeholder filter; its letters are none the
    // patterns look for, so the allowlist must fail, and the finding stay.
    const text = `key=${randomString(24, 'BCDEFGHJKLMNPQRSTUVWZ')}${evil.replace(/\s/g, '_')}\n`;
    const findings = createDetector(config).detect({ text, path: 'a.txt' });
    expect(findings.map((f) => f.ruleId)).toEqual(['user-rule']);
  });

  it('matches as the built-in engine does: groups, flags, UTF-16 offsets, named groups, lookbehind', () => {
    const re = compileLinearRegex('(?<=id=)(?<v>[a-z]+)-(\\d+)', 'i');
    const matches = [...re.matchAll('é😀 id=ABC-12 id=x-3')];
    expect(matches.map((m) => [m.index, m[0], m[1], m[2]])).toEqual([
      [7, 'ABC-12', 'ABC', '12'],
      [17, 'x-3', 'x', '3'],
    ]);
    expect(re.groupCount()).toBe(2);
    expect(compileLinearRegex('^b$', 'm').test('a\nb\nc')).toBe(true);
    expect(compileLinearRegex('a.b', 's').test('a\nb')).toBe(true);
    expect(compileLinearRegex('a.b').test('a\nb')).toBe(false);
  });

  it('names what RE2 syntax lacks and accepts what only looks like it', () => {
    expect(linearRegexProblem('a(?=b)')).toMatch(/^lookahead/);
    expect(linearRegexProblem('a(?!b)')).toMatch(/^lookahead/);
    expect(linearRegexProblem('(a)\\1')).toMatch(/^backreferences/);
    expect(linearRegexProblem('(?<n>a)\\k<n>')).toMatch(/^backreferences/);
    expect(linearRegexProblem('(a')).toMatch(/^not a valid regular expression/);
    expect(linearRegexProblem('\\(?=x')).toBeUndefined();
    expect(linearRegexProblem('\\\\1')).toBeUndefined();
    expect(linearRegexProblem('(?<=a)b')).toBeUndefined();
  });
});

// Globs picomatch turns into backtracking regexes: each took minutes (or longer) on the name
// below before config globs ran on the linear-time engine.
const GLOB_REDOS = [
  '*a*a*a*a*a*a*a*a*b',
  '**a**a**a**a**b',
  '[a-z]*[a-z]*[a-z]*[a-z]*[a-z]*b',
  '?*?*?*?*?*b',
  '{*,*}{*,*}{*,*}{*,*}{*,*}x',
  '@(*|*)@(*|*)@(*|*)@(*|*)@(*|*)x',
];

describe('config path globs on the linear-time engine', () => {
  const longName = `${'a'.repeat(400)}.env`;

  it.each(GLOB_REDOS)('matches the allowlist path glob %s against a long file name', (glob) => {
    const config = parseConfig(yaml(['allowlist:', `  - paths: [${JSON.stringify(glob)}]`]), 'k.yaml');
    expect(excludedPaths(config)?.(longName)).toBe(false);
    const [entry] = compileAllowlist(config.allowlist);
    expect(entry?.paths?.(longName)).toBe(false);
  });

  it.each(GLOB_REDOS)('matches the rule allowlist path glob %s against a long file name', (glob) => {
    const config = parseConfig(
      yaml([
        'rules:',
        '  - id: user-rule',
        '    description: x',
        '    keywords: ["key="]',
        '    regex: "key=([a-z0-9]{20})"',
        `    allowlist: { paths: [${JSON.stringify(glob)}] }`,
      ]),
      'k.yaml',
    );
    const secret = randomString(20, 'abcdefghijklmnopqrstuvwxyz0123456789');
    const findings = createDetector(config).detect({ text: `key=${secret}\n`, path: longName });
    expect(findings.map((f) => f.ruleId)).toContain('user-rule');
  });

  it('keeps picomatch semantics for the globs configs use', () => {
    const config = parseConfig(
      yaml(['allowlist:', '  - paths: ["**/*.env", "docs/**", "src/**/test/*.{js,ts}", "*.+(md|txt)"]']),
      'k.yaml',
    );
    const excluded = excludedPaths(config);
    const cases: [string, boolean][] = [
      ['a/b/.env', true],
      ['a/b/x.env', true],
      ['docs/x/y', true],
      ['src/a/test/b.ts', true],
      ['src/a/test/b.py', false],
      ['README.md', true],
      ['other/a.py', false],
    ];
    expect(cases.map(([p]) => [p, excluded?.(p)])).toEqual(cases);
  });

  it('refuses more path globs than a scan can match every file against, naming the file', () => {
    const globs = Array.from({ length: 1001 }, (_, i) => JSON.stringify(`d${i}/*.x`)).join(', ');
    expect(() => parseConfig(yaml(['allowlist:', `  - paths: [${globs}]`]), 'k.yaml')).toThrow(
      /k\.yaml: 1001 path globs; at most 1000/,
    );
    const under = Array.from({ length: 1000 }, (_, i) => JSON.stringify(`d${i}/*.x`)).join(', ');
    expect(
      excludedPaths(parseConfig(yaml(['allowlist:', `  - paths: [${under}]`]), 'k.yaml'))?.('d999/a.x'),
    ).toBe(true);
  });

  it('names a glob the linear-time engine cannot run, with its line', () => {
    expect(() => parseConfig(yaml(['allowlist:', '  - paths: ["!(a)*"]']), 'k.yaml')).toThrow(
      /k\.yaml:2: allowlist paths\[0\]: negated extglobs/,
    );
  });
});
