import { describe, expect, it } from 'vitest';
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
      '2 more findings are not annotated (max-annotations: 2); all 4 are in the job summary and the SARIF file.',
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
  it('lists every finding with links to its commit and to the file at that commit', () => {
    const md = findingsToGithubSummary(
      result([finding({ commit: SHA }), finding({ path: 'src/x.ts', line: 9, commit: SHA })]),
      { scanned: 'the commits of pull request #7', repo: REPO },
    );
    expect(md).toContain('### keyfence: 2 leaked secrets found');
    expect(md).toContain('Scanned the commits of pull request \\#7: 2 commits, 348 rules, 1.2 s.');
    expect(md).toContain(
      `| 1 | \`github-pat\`<br>GitHub personal access token | [<code>config/app.env:3</code>](https://github.example/acme/app/blob/${SHA}/config/app.env#L3) | [\`0123456789ab\`](https://github.example/acme/app/commit/${SHA}) | Dev One | <code>ghp_ab…</code> |`,
    );
    expect(md).toContain(`/blob/${SHA}/src/x.ts#L9)`);
    expect(md).toMatch(/Revoke and rotate each credential at its provider first/);
    expect(md).not.toContain('dev@example.com');
  });

  it('links files-mode findings to the checked-out commit, or to nothing without a repository', () => {
    const multi = finding({ path: 'k.pem', line: 2 });
    multi.location.endLine = 5;
    const linked = findingsToGithubSummary(result([multi]), { scanned: 'files', repo: REPO });
    expect(linked).toContain(`/blob/${'f'.repeat(40)}/k.pem#L2-L5)`);
    expect(linked).toContain('<code>k.pem:2-5</code>');
    const plain = findingsToGithubSummary(result([multi]), { scanned: 'files' });
    expect(plain).not.toContain('](');
  });

  it('escapes paths, descriptions and previews so that no cell breaks the table or the page', () => {
    const f = finding({
      path: 'a|b/<img src=x>/(x) 1.env',
      description: 'Token *bold* | [link](y)\nsecond line',
      redacted: 'ab|<c…',
      commit: SHA,
    });
    const md = findingsToGithubSummary(result([f]), { scanned: 'files', repo: REPO });
    const row = md.split('\n').find((l) => l.startsWith('| 1 |'))!;
    expect(row).toContain('<code>a&#124;b/&lt;img src=x&gt;/(x) 1.env:3</code>');
    expect(row).toContain('/blob/' + SHA + '/a%7Cb/%3Cimg%20src%3Dx%3E/%28x%29%201.env#L3)');
    expect(row).toContain('Token \\*bold\\* \\| \\[link\\]\\(y\\) second line');
    expect(row).toContain('<code>ab&#124;&lt;c…</code>');
    // Six cells: exactly seven unescaped pipes.
    expect(row.replace(/\\\|/g, '').split('|')).toHaveLength(8);
    expect(markdownText('a & b <script>')).toBe('a &amp; b \\<script\\>');
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
    expect(md).toContain('### keyfence: no leaks found');
    expect(md).toContain(
      'Scanned the checked\\-out files: 1 file, 348 rules, 0.0 s, 2 in the baseline left out.',
    );
    expect(md).not.toContain('| # |');
    expect(md).not.toContain('What to do');
    expect(md).toContain('- warning: rule x skipped');
    expect(md).toContain('- not scanned: locked.txt \\(cannot read \\(EACCES\\)\\)');
    expect(md).toContain('- SARIF report: <code>/tmp/keyfence.sarif</code>');
  });

  it('stays within its byte budget and counts the rows it leaves out', () => {
    const findings = Array.from({ length: 200 }, (_, i) => finding({ path: `f${i}.env`, commit: SHA }));
    const md = findingsToGithubSummary(result(findings), { scanned: 'x', repo: REPO, maxBytes: 8000 });
    expect(Buffer.byteLength(md)).toBeLessThanOrEqual(8000);
    const rows = md.split('\n').filter((l) => /^\| \d+ \|/.test(l)).length;
    expect(rows).toBeGreaterThan(5);
    expect(md).toContain(
      `${200 - rows} more not shown: a job summary holds at most 1 MiB. All 200 are in the SARIF file.`,
    );
  });
});
