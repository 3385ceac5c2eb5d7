import { describeSource } from '../config-source.js';
import type { Confidence, Finding } from '../finding.js';
import type { ScanResult } from '../scan.js';
import { SARIF_MAX_RESULTS, sarifResultCount } from './sarif.js';
import { imageWhere } from './text.js';

/** Where links point: the run's `GITHUB_SERVER_URL`, `GITHUB_REPOSITORY` and `GITHUB_SHA`. */
export interface GithubRepoContext {
  serverUrl: string;
  /** `owner/name`. */
  repository: string;
  /** The commit the run checked out: files-mode findings (which have no commit) link to it. */
  sha?: string;
}

/** One workflow annotation, in the shape the actions toolkit's `core.error(message, properties)` takes. */
export interface Annotation {
  level: 'error' | 'warning' | 'notice';
  message: string;
  properties: { title: string; file?: string; startLine?: number; endLine?: number };
}

/** GitHub shows at most 10 annotations of each level per step (50 per job); more are dropped. */
export const GITHUB_ANNOTATIONS_PER_STEP = 10;
/** GitHub accepts at most 1 MiB of job summary per step. */
export const GITHUB_SUMMARY_MAX_BYTES = 1024 * 1024;

const RANK: Record<Confidence, number> = { high: 0, medium: 1, low: 2 };

/**
 * Annotations for the first `max` findings (surest first), each on its file and line; when some
 * are left out, a closing notice says how many and where to find them.
 */
export function findingAnnotations(findings: readonly Finding[], max: number): Annotation[] {
  // Findings inside an image or an archive have no file in the repository to point at: they are
  // in the job summary and the SARIF file only.
  const ranked = findings
    .filter((f) => !f.location.image && !f.location.chain)
    .map((f, i) => ({ f, i }))
    .sort((a, b) => RANK[a.f.confidence] - RANK[b.f.confidence] || a.i - b.i)
    .map(({ f }) => f);
  const shown = ranked.slice(0, Math.max(0, max));
  const annotations: Annotation[] = shown.map((f) => ({
    level: f.confidence === 'low' ? 'warning' : 'error',
    message: `${f.description}: ${f.redacted}${f.location.commit ? ` (commit ${f.location.commit.slice(0, 12)})` : ''}`,
    properties: {
      title: `keyfence: ${f.ruleId}`,
      file: f.location.path,
      startLine: f.location.line,
      endLine: Math.max(f.location.endLine, f.location.line),
    },
  }));
  const more = ranked.length - shown.length;
  if (more > 0) {
    annotations.push({
      level: 'notice',
      message:
        `${more} more finding${more === 1 ? ' is' : 's are'} not annotated (max-annotations: ${max}); ` +
        `the job summary lists them and says which report holds all ${findings.length}.`,
      properties: { title: 'keyfence' },
    });
  }
  return annotations;
}

export interface GithubSummaryOptions {
  /** What was scanned, in words ("the commits of pull request #7 (…)"). Escaped here. */
  scanned: string;
  /** Links to commits and files; without it the table has plain text. */
  repo?: GithubRepoContext;
  /** Where the full reports were written, e.g. `{ SARIF: '/tmp/keyfence.sarif' }`. */
  reports?: Record<string, string>;
  /** Byte budget for the whole summary (default: a little under GitHub's 1 MiB). */
  maxBytes?: number;
}

/**
 * The job summary (GitHub-flavoured markdown): every finding in a table, redacted, linked to
 * its commit and to the file at that commit, then what to do about a leak. Rows that would
 * take the summary past its byte budget are counted instead of shown.
 */
export function findingsToGithubSummary(result: ScanResult, options: GithubSummaryOptions): string {
  const { findings } = result;
  const n = findings.length;
  const head: string[] = [
    `### keyfence: ${n === 0 ? 'no leaks found' : `${n} leaked secret${n === 1 ? '' : 's'} found`}`,
    '',
    `Scanned ${text(options.scanned)}: ${scanStats(result)}.`,
    '',
    ...settingsLines(result),
  ];
  const tail: string[] = [];
  if (n > 0) {
    tail.push(
      '',
      '#### What to do',
      '',
      '1. **Revoke and rotate each credential at its provider first.** It is in the git history and may ' +
        'already have been copied: deleting the line, or even the commit, does not un-leak it.',
      '2. Then remove it from the code and read it at run time from a secret store (GitHub Actions secrets, ' +
        'a vault).',
      '3. Not a secret (a test fixture, a placeholder)? Add `keyfence:allow` on the line, an `allowlist` entry ' +
        'in `.keyfence.yaml`, or accept it in a baseline (`npx keyfence baseline`) passed as `baseline:`.',
    );
  }
  const notes = [
    ...capped(result.warnings, 'warnings: the JSON report and the log list all').map((w) =>
      text(`warning: ${w}`),
    ),
    ...problemNotes(result).map(text),
    ...Object.entries(options.reports ?? {}).map(
      ([kind, file]) => `${text(kind)} report: <code>${html(file)}</code>`,
    ),
  ];
  if (notes.length > 0) tail.push('', ...notes.map((note) => `- ${note}`));
  tail.push('');

  const budget = (options.maxBytes ?? GITHUB_SUMMARY_MAX_BYTES - 16 * 1024) - bytes(head) - bytes(tail) - 512;
  const table: string[] = [];
  if (n > 0) {
    table.push(
      '| # | Rule | Where | Commit | Author | Secret (redacted) |',
      '| ---: | --- | --- | --- | --- | --- |',
    );
    let used = bytes(table);
    let shown = 0;
    for (const f of findings) {
      const row = findingRow(f, shown + 1, options.repo);
      used += Buffer.byteLength(row) + 1;
      if (used > budget) break;
      table.push(row);
      shown++;
    }
    const where = whereAllAre(n, shown, options.reports ?? {});
    if (where) table.push('', where);
  }
  return [...head, ...table, ...tail].join('\n');
}

/**
 * When the table or the SARIF file holds fewer than all `n` findings: what is where (the SARIF
 * file holds the first 25,000; the JSON report, when written, all of them).
 */
function whereAllAre(n: number, shown: number, reports: Record<string, string>): string {
  const inSarif = sarifResultCount(n);
  if (shown === n && (inSarif === n || !('SARIF' in reports))) return '';
  const parts: string[] = [];
  if ('SARIF' in reports) {
    parts.push(
      inSarif === n
        ? `the SARIF file holds all ${n}`
        : `the SARIF file holds the first ${inSarif} (code scanning takes at most ${SARIF_MAX_RESULTS} per run)`,
    );
  }
  if ('JSON' in reports) parts.push(`the JSON report holds all ${n}`);
  else if (inSarif < n) parts.push(`set \`report-file:\` for a JSON report of all ${n}`);
  const said = parts.join('; ');
  const rest = said ? `${said.charAt(0).toUpperCase()}${said.slice(1)}.` : '';
  if (shown === n) return rest;
  return `${n - shown} more not shown: a job summary holds at most 1 MiB.${rest ? ` ${rest}` : ''}`;
}

function findingRow(f: Finding, index: number, repo: GithubRepoContext | undefined): string {
  const loc = f.location;
  const lines = loc.endLine > loc.line ? `${loc.line}-${loc.endLine}` : `${loc.line}`;
  const where = `<code>${html(`${loc.path}:${lines}`)}</code>`;
  const at = loc.commit ?? repo?.sha;
  const base = repo ? `${repo.serverUrl.replace(/\/+$/, '')}/${repo.repository}` : undefined;
  // Files inside an image or an archive are not in the repository: no link, and the image facts.
  const inRepo = !loc.image && !loc.chain;
  const fileCell = !inRepo
    ? `${where}${loc.image ? `<br>${markdownText(imageWhere(f))}` : ''}`
    : base && at
      ? `[${where}](${base}/blob/${at}/${urlPath(loc.path)}#L${loc.line}${loc.endLine > loc.line ? `-L${loc.endLine}` : ''})`
      : where;
  const commitCell = loc.commit
    ? base
      ? `[\`${loc.commit.slice(0, 12)}\`](${base}/commit/${loc.commit})`
      : `\`${loc.commit.slice(0, 12)}\``
    : '';
  const author = loc.author ? text(loc.author.replace(/\s*<[^>]*>$/, '')) : '';
  const rule = `<code>${html(f.ruleId)}</code><br>${text(f.description)}`;
  return `| ${index} | ${rule} | ${fileCell} | ${commitCell} | ${author} | <code>${html(f.redacted)}</code> |`;
}

function scanStats(result: ScanResult): string {
  const s = result.stats;
  const parts =
    s.commits !== undefined
      ? [`${s.commits} commit${s.commits === 1 ? '' : 's'}`]
      : [`${s.files} file${s.files === 1 ? '' : 's'}`];
  parts.push(`${s.rules} rules`, `${(s.durationMs / 1000).toFixed(1)} s`);
  if (s.baselined > 0) parts.push(`${s.baselined} in the baseline left out`);
  return parts.join(', ');
}

/** The config in force and where it came from, what the pull request changed in it, what was left out. */
function settingsLines(result: ScanResult): string[] {
  const out: string[] = [];
  const inForce = result.config;
  if (inForce) {
    out.push(`Config in force: ${text(describeSource(inForce.config))}.`);
    if (inForce.baseline) out.push(`Baseline in force: ${text(describeSource(inForce.baseline))}.`);
    out.push('');
    if (inForce.ignoredChanges.length > 0) {
      out.push('**Changes this pull request makes to the scan settings (not applied):**', '');
      const changes = capped(
        inForce.ignoredChanges,
        'changes: the JSON report (config.ignoredChanges) lists all',
      );
      out.push(...changes.map((c) => `- ${text(c)}`), '');
    }
  }
  const skipped = result.problems.filter((p) => p.kind === 'skipped').length;
  if (skipped > 0) {
    const all = skipped > 20 ? '; the JSON report and the log name all of them' : '';
    out.push(
      `Not scanned: ${skipped} file${skipped === 1 ? '' : 's'}, named with the reason below${all}.`,
      '',
    );
  }
  return out;
}

/** At most 20 lines of at most 300 characters: a pull request can make these lists as long as it likes. */
function capped(lines: readonly string[], more: string): string[] {
  const shown = lines.slice(0, 20).map((l) => (l.length > 300 ? `${l.slice(0, 300)}…` : l));
  return lines.length > shown.length ? [...shown, `${lines.length - shown.length} more ${more}`] : shown;
}

function problemNotes(result: ScanResult): string[] {
  const shown = result.problems
    .slice(0, 20)
    .map((p) => `not scanned: ${p.path ?? p.ruleId ?? ''} (${p.message})`);
  const more = result.problems.length - shown.length;
  return more > 0 ? [...shown, `${more} more problems: see the log`] : shown;
}

// Text inside raw HTML (`<code>…</code>`) is still parsed as markdown, and GFM turns `www.`,
// `https://` and `a@b.c` into links even where no markup is, so backslash escapes are not enough:
// every ASCII punctuation character that can take part in markup (all but `/`, `-` and `,`) is
// written as a numeric character reference, which renders as itself and never as syntax.
const MARKUP_PUNCTUATION = /[!"#$%&'()*+.:;<=>?@[\\\]^_`{|}~]/g;
const CONTROLS = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]+/g;

/** Plain text for a markdown paragraph, table cell or HTML element: no markup, no HTML, no autolink, one line. */
export function markdownText(value: string): string {
  return value.replace(CONTROLS, ' ').replace(MARKUP_PUNCTUATION, (c) => `&#${c.charCodeAt(0)};`);
}

const text = markdownText;

/** Text inside an HTML element in a table cell: the same rendering (`|` must not end the cell either). */
const html = markdownText;

/** A repository path as a URL path: each segment encoded, plus the characters markdown links trip on. */
function urlPath(path: string): string {
  return path
    .split('/')
    .map((s) =>
      encodeURIComponent(s).replace(/[()'!*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`),
    )
    .join('/');
}

function bytes(lines: string[]): number {
  return Buffer.byteLength(lines.join('\n')) + 1;
}
