import { describe, expect, it } from 'vitest';
import { htmlElements, htmlText, renderGfm } from '../../../../test/support/markdown.js';
import type { Finding } from '../finding.js';
import type { ScanResult } from '../scan.js';
import { findingAnnotations, findingsToGithubSummary, markdownText } from './github.js';

const SHA = '0123456789abcdef0123456789abcdef01234567';
const REPO = { serverUrl: 'https://github.example', repository: 'acme/app', sha: 'f'.repeat(40) };

function finding(
  overrides: Partial<Finding> & { path?: string; line?: number; commit?: string } = {},
): Finding {
  const { path = 'config/app.env', line = 3, commit, ...rest } = overrides;
  return {
    ruleId: 'github-pat',
    description: 'GitHub personal access token',
    location: {
      path,
      line,
      column: 7,
      endLine: line,
      ...(commit ? { commit, author: 'Dev One <dev@example.com>' } : {}),
    },
    redacted: 'ghp_ab…',
    fingerprint: 'e'.repeat(64),
    fingerprintScheme: 'hmac',
    entropy: 4.5,
    confidence: 'high',
    tags: [],
    ...rest,
  };
}

function result(findings: Finding[], extra: Partial<ScanResult> = {}): ScanResult {
  return {
    findings,
    problems: [],
    warnings: [],
    stats: { files: 4, bytes: 100, durationMs: 1234, skippedFiles: 0, rules: 348, baselined: 0, commits: 2 },
    ...extra,
  };
}

describe('findingAnnotations', () => {
  it('puts each finding on its file and lines, titled with the rule, naming the commit', () => {
    expect(findingAnnotations([finding({ commit: SHA })], 10)).toEqual([
      {
        level: 'error',
        message: 'GitHub personal access token: ghp_ab… (commit 0123456789ab)',
        properties: { title: 'keyfence: github-pat', file: 'config/app.env', startLine: 3, endLine: 3 },
      },
    ]);
  });

  it('annotates at most max findings, surest first, and says how many more there are', () => {
    const findings = [
      finding({ path: 'a', confidence: 'low' }),
      finding({ path: 'b' }),
      finding({ path: 'c', confidence: 'medium' }),
      finding({ path: 'd' }),
    ];
    const out = findingAnnotations(findings, 2);
    expect(out.map((a) => [a.level, a.properties.file])).toEqual([
      ['error', 'b'],
      ['error', 'd'],
      ['notice', undefined],
    ]);
    expect(out[2]!.message).toBe(
      '2 more findings are not annotated (max-annotations: 2); the job summary lists them and says which report holds all 4.',
    );
    expect(findingAnnotations(findings, 4).map((a) => a.level)).toEqual([
      'error',
      'error',
      'error',
      'warning',
    ]);
    expect(findingAnnotations(findings, 0)).toHaveLength(1);
    expect(findingAnnotations([], 10)).toEqual([]);
  });
});

describe('findingsToGithubSummary', () => {
  const links = (md: string) =>
    htmlElements(renderGfm(md))
      .filter((e) => e.name === 'a')
      .map((e) => [e.text, e.attributes['href']]);
  const cells = (md: string, row: number) =>
    htmlElements(renderGfm(md))
      .filter((e) => e.name === 'tr')
      [row]!.text.split('\n')
      .filter(Boolean);

  it('lists every finding with links to its commit and to the file at that commit', () => {
    const md = findingsToGithubSummary(
      result([finding({ commit: SHA }), finding({ path: 'src/x.ts', line: 9, commit: SHA })]),
      { scanned: 'the commits of pull request #7', repo: REPO },
    );
    const page = htmlText(renderGfm(md));
    expect(page).toContain('keyfence: 2 leaked secrets found');
    expect(page).toContain('Scanned the commits of pull request #7: 2 commits, 348 rules, 1.2 s.');
    expect(cells(md, 1)).toEqual([
      '1',
      'github-patGitHub personal access token',
      'config/app.env:3',
      '0123456789ab',
      'Dev One',
      'ghp_ab…',
    ]);
    expect(links(md).slice(0, 2)).toEqual([
      ['config/app.env:3', `https://github.example/acme/app/blob/${SHA}/config/app.env#L3`],
      ['0123456789ab', `https://github.example/acme/app/commit/${SHA}`],
    ]);
    expect(links(md)[2]).toEqual(['src/x.ts:9', `https://github.example/acme/app/blob/${SHA}/src/x.ts#L9`]);
    expect(page).toMatch(/Revoke and rotate each credential at its provider first/);
    expect(md).not.toContain('dev@example.com');
  });

  it('links files-mode findings to the checked-out commit, or to nothing without a repository', () => {
    const multi = finding({ path: 'k.pem', line: 2 });
    multi.location.endLine = 5;
    const linked = findingsToGithubSummary(result([multi]), { scanned: 'files', repo: REPO });
    expect(links(linked)).toEqual([
      ['k.pem:2-5', `https://github.example/acme/app/blob/${'f'.repeat(40)}/k.pem#L2-L5`],
    ]);
    const plain = findingsToGithubSummary(result([multi]), { scanned: 'files' });
    expect(links(plain)).toEqual([]);
    expect(cells(plain, 1)[2]).toBe('k.pem:2-5');
  });

  it('escapes paths, descriptions and previews so that no cell breaks the table or the page', () => {
    const f = finding({
      path: 'a|b/<img src=x>/(x) 1.env',
      description: 'Token *bold* | [link](y)\nsecond line',
      redacted: 'ab|<c…',
      commit: SHA,
    });
    const md = findingsToGithubSummary(result([f]), { scanned: 'files', repo: REPO });
    const elements = htmlElements(renderGfm(md));
    expect(elements.map((e) => e.name)).not.toContain('img');
    expect(elements.map((e) => e.name)).not.toContain('em');
    // The one bold text is keyfence's own advice.
    expect(elements.filter((e) => e.name === 'strong').map((e) => e.text)).toEqual([
      'Revoke and rotate each credential at its provider first.',
    ]);
    expect(cells(md, 1)).toEqual([
      '1',
      'github-patToken *bold* | [link](y) second line',
      'a|b/<img src=x>/(x) 1.env:3',
      '0123456789ab',
      'Dev One',
      'ab|<c…',
    ]);
    expect(links(md)[0]).toEqual([
      'a|b/<img src=x>/(x) 1.env:3',
      `https://github.example/acme/app/blob/${SHA}/a%7Cb/%3Cimg%20src%3Dx%3E/%28x%29%201.env#L3`,
    ]);
    expect(htmlText(renderGfm(markdownText('a & b <script>')))).toBe('a & b <script>');
  });

  it('renders hostile file names, authors, rules and notes as text, never as links or markup', () => {
    const hostile = '[Rotate it here](https:/evil.example/x).env';
    const findings = [
      finding({ path: hostile, commit: SHA }),
      finding({ path: 'www.evil.example/*a*_b_`c`~d~.env', commit: SHA }),
      {
        ...finding({ path: 'img.env' }),
        location: {
          path: 'etc/<b>x</b>',
          line: 1,
          column: 1,
          endLine: 1,
          image: 'https://evil.example/[x](y)',
        },
      },
      {
        ...finding({ path: 'z', commit: SHA }),
        ruleId: 'x|`y`[z](https://evil.example)',
        description: 'see https://evil.example and mail a@evil.example',
      },
    ];
    findings[1]!.location.author = 'Mallory [click](https://evil.example) <m@evil.example>';
    const md = findingsToGithubSummary(
      result(findings, {
        warnings: ['rule [w](https://evil.example/w) www.evil.example'],
        problems: [
          { kind: 'unreadable', path: '**p**<i>.env', message: 'cannot read https://evil.example/p' },
        ],
      }),
      {
        scanned: 'pull request [s](https://evil.example/s)',
        repo: REPO,
        reports: { SARIF: '/tmp/[r](https://evil.example/r)' },
      },
    );
    const elements = htmlElements(renderGfm(md));
    const hrefs = elements.filter((e) => e.name === 'a').map((e) => e.attributes['href'] ?? '');
    // Only keyfence's own links: three files in the repository and three commits.
    expect(hrefs).toHaveLength(6);
    for (const href of hrefs) expect(href.startsWith('https://github.example/acme/app/')).toBe(true);
    expect(elements.map((e) => e.name).filter((n) => ['em', 'del', 'b', 'i', 'img'].includes(n))).toEqual([]);
    const page = htmlText(renderGfm(md));
    for (const shown of [
      `${hostile}:3`,
      'www.evil.example/*a*_b_`c`~d~.env:3',
      'Mallory [click](https://evil.example)',
      'image https://evil.example/[x](y)',
      'x|`y`[z](https://evil.example)',
      'see https://evil.example and mail a@evil.example',
      'warning: rule [w](https://evil.example/w) www.evil.example',
      'not scanned: **p**<i>.env (cannot read https://evil.example/p)',
      'Scanned pull request [s](https://evil.example/s)',
      'SARIF report: /tmp/[r](https://evil.example/r)',
    ]) {
      expect(page).toContain(shown);
    }
  });

  it('says a clean scan is clean, with what was scanned and any notes', () => {
    const md = findingsToGithubSummary(
      result([], {
        warnings: ['rule x skipped'],
        problems: [{ kind: 'unreadable', path: 'locked.txt', message: 'cannot read (EACCES)' }],
        stats: { files: 1, bytes: 3, durationMs: 10, skippedFiles: 0, rules: 348, baselined: 2 },
      }),
      { scanned: 'the checked-out files', reports: { SARIF: '/tmp/keyfence.sarif' } },
    );
    const html = renderGfm(md);
    const page = htmlText(html);
    expect(page).toContain('keyfence: no leaks found');
    expect(page).toContain(
      'Scanned the checked-out files: 1 file, 348 rules, 0.0 s, 2 in the baseline left out.',
    );
    expect(htmlElements(html).map((e) => e.name)).not.toContain('table');
    expect(page).not.toContain('What to do');
    expect(
      htmlElements(html)
        .filter((e) => e.name === 'li')
        .map((e) => e.text),
    ).toEqual([
      'warning: rule x skipped',
      'not scanned: locked.txt (cannot read (EACCES))',
      'SARIF report: /tmp/keyfence.sarif',
    ]);
  });

  it('stays within its byte budget and counts the rows it leaves out', () => {
    const findings = Array.from({ length: 200 }, (_, i) => finding({ path: `f${i}.env`, commit: SHA }));
    const reports = { SARIF: '/tmp/k.sarif' };
    const md = findingsToGithubSummary(result(findings), {
      scanned: 'x',
      repo: REPO,
      reports,
      maxBytes: 8000,
    });
    expect(Buffer.byteLength(md)).toBeLessThanOrEqual(8000);
    const rows = md.split('\n').filter((l) => /^\| \d+ \|/.test(l)).length;
    expect(rows).toBeGreaterThan(5);
    expect(md).toContain(
      `${200 - rows} more not shown: a job summary holds at most 1 MiB. The SARIF file holds all 200.`,
    );
  });

  it('stays within its budget when a pull request proposes thousands of settings changes or warnings', () => {
    // A config with 20,000 allowlist entries must not push the summary past what GitHub keeps.
    const many = Array.from(
      { length: 20_000 },
      (_, i) => `.keyfence.yaml adds an allowlist entry: paths p${i}/${'x'.repeat(70)}`,
    );
    // And one entry naming a million paths is one long line.
    many[0] = `.keyfence.yaml adds an allowlist entry: paths ${'p, '.repeat(1_000_000)}`;
    const md = findingsToGithubSummary(
      result([finding({ commit: SHA })], {
        warnings: many.map((w) => `w ${w}`),
        config: { config: { origin: 'defaults' }, ignoredChanges: many },
      }),
      { scanned: 'x', repo: REPO, maxBytes: 8000 },
    );
    expect(Buffer.byteLength(md)).toBeLessThanOrEqual(8000);
    expect(md.split('\n').filter((l) => /^\| \d+ \|/.test(l))).toHaveLength(1);
    expect(htmlText(renderGfm(md))).toContain(
      '19980 more changes: the JSON report (config.ignoredChanges) lists all',
    );
    expect(htmlText(renderGfm(md))).toContain('19980 more warnings: the JSON report and the log list all');
  });

  it('says truthfully where findings are past the SARIF cap of 25,000', () => {
    const n = 25_003;
    const findings = Array.from({ length: n }, (_, i) => finding({ path: `f${i}.env` }));
    const options = { scanned: 'x', maxBytes: 8000 };
    const sarifOnly = findingsToGithubSummary(result(findings), {
      ...options,
      reports: { SARIF: '/t/k.sarif' },
    });
    const rows = sarifOnly.split('\n').filter((l) => /^\| \d+ \|/.test(l)).length;
    expect(sarifOnly).not.toContain(`All ${n}`);
    expect(sarifOnly).toContain(
      `${n - rows} more not shown: a job summary holds at most 1 MiB. The SARIF file holds the first 25000 ` +
        `(code scanning takes at most 25000 per run); set \`report-file:\` for a JSON report of all ${n}.`,
    );
    const withJson = findingsToGithubSummary(result(findings), {
      ...options,
      reports: { SARIF: '/t/k.sarif', JSON: '/t/k.json' },
    });
    expect(withJson).toContain(
      'The SARIF file holds the first 25000 (code scanning takes at most 25000 per run); ' +
        `the JSON report holds all ${n}.`,
    );
  });
});
