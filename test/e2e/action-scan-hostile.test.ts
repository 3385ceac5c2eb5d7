import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import fc from 'fast-check';
import { strToU8, zipSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import { pullRequestEvent } from '../support/checkout.js';
import { keyfence, tempDir } from '../support/cli.js';
import { TestRepo } from '../support/git.js';
import { htmlElements, renderGfm } from '../support/markdown.js';
import { writeOciLayout } from '../support/oci.js';
import { type ActionRun, runAction } from '../support/runner.js';
import { type RunnerCommand, runnerCommands } from '../support/runner-log.js';
import { fake } from '../support/secrets.js';

// A pull request chooses its file names and contents. Whatever they are, the runner must see only
// the commands keyfence meant: its annotations on the right file and line, and its final error.

const ACTION = 'action-scan';
const OWN_LINKS = 'https://github.example/acme/app/';
const SUMMARY_ELEMENTS = [
  'h3',
  'h4',
  'p',
  'table',
  'thead',
  'tbody',
  'tr',
  'th',
  'td',
  'code',
  'br',
  'a',
  'ol',
  'ul',
  'li',
  'strong',
];

/** The three names from the report, and a markdown link posing as advice. */
const REPORTED_NAMES = [
  '  ::stop-commands::tok.env',
  '::error file=README.md,line=1::forged.env',
  '##[error]x.env',
  '[Rotate it here](https:/evil.example/x).env',
];

interface Planted {
  name: string;
  content: string;
  line: number;
  secret: string;
}

function plant(name: string, before = 'A=1\n', after = 'B=2\n'): Planted {
  const secret = fake.githubPat();
  const content = `${before}\n${secret}\n${after}`;
  return { name, content, line: content.slice(0, content.indexOf(secret)).split('\n').length, secret };
}

type Mode = 'files' | 'diff' | 'history' | 'image' | 'archive';

/** Runs the built action on the planted files in one mode; image and archive modes put them in an OCI layout or a zip. */
async function scanIn(mode: Mode, planted: Planted[]): Promise<ActionRun> {
  const repo = new TestRepo();
  const base = repo.commit('init', { 'README.md': 'hello\n' });
  repo.git('checkout', '-q', '-b', 'feature');
  const files = Object.fromEntries(planted.map((p) => [p.name, p.content]));
  if (mode === 'image') {
    const layout = join(tempDir('keyfence-image-'), 'layout');
    await writeOciLayout(layout, 'app', [{ layers: [{ files }] }]);
    return runAction(ACTION, {
      workspace: repo.dir,
      event: { name: 'workflow_dispatch', payload: {} },
      inputs: { image: layout },
    });
  }
  if (mode === 'archive') {
    mkdirSync(join(repo.dir, 'dist'));
    writeFileSync(
      join(repo.dir, 'dist', 'app.zip'),
      zipSync(Object.fromEntries(planted.map((p) => [p.name, strToU8(p.content)]))),
    );
    return runAction(ACTION, {
      workspace: repo.dir,
      event: { name: 'workflow_dispatch', payload: {} },
      inputs: { artifacts: 'dist/*.zip' },
    });
  }
  const head = repo.commit('add files', files);
  if (mode === 'diff')
    return runAction(ACTION, {
      workspace: repo.dir,
      event: pullRequestEvent(base, head),
      inputs: { mode: 'diff' },
    });
  return runAction(ACTION, {
    workspace: repo.dir,
    event: { name: 'workflow_dispatch', payload: {} },
    inputs: { mode },
  });
}

/** What keyfence means to tell the runner about these findings, in a comparable form. */
function expectedCommands(mode: Mode, planted: Planted[]): string[] {
  const annotations =
    mode === 'image' || mode === 'archive'
      ? []
      : planted.map((p) =>
          p.name.includes('##[')
            ? // Such a name cannot be put in a property without leaving `##[` in the log: unpinned.
              JSON.stringify(['error', { title: 'keyfence: github-pat' }, `:${p.line})`])
            : JSON.stringify([
                'error',
                {
                  title: 'keyfence: github-pat',
                  file: p.name,
                  line: String(p.line),
                  endLine: String(p.line),
                },
              ]),
        );
  const n = planted.length;
  return [
    ...annotations,
    JSON.stringify(['error', {}, `keyfence found ${n} leaked secret${n === 1 ? '' : 's'}`]),
  ].sort();
}

function comparable(c: RunnerCommand): string {
  const properties = c.properties;
  if (Object.keys(properties).length === 0) return JSON.stringify(['error', {}, c.data.replace(/:.*$/s, '')]);
  if (properties['file'] === undefined)
    return JSON.stringify(['error', properties, c.data.replace(/^.*(:\d+\))$/s, '$1')]);
  return JSON.stringify(['error', properties]);
}

/** Checks one run: the runner's view of stdout and stderr, and the links of the rendered summary. */
function expectOnlyMeantCommands(mode: Mode, planted: Planted[], run: ActionRun): void {
  expect(run.code).toBe(1);
  const commands = [...runnerCommands(run.stdout), ...runnerCommands(run.stderr)];
  for (const c of commands) expect([c.command, c.form]).toEqual(['error', 'v2']);
  expect(commands.map(comparable).sort()).toEqual(expectedCommands(mode, planted));
  expect(`${run.stdout}${run.stderr}`).not.toContain('##[');
  const elements = htmlElements(renderGfm(run.summary));
  // Only the elements keyfence's own summary is made of; nothing from a name or a content.
  for (const e of elements) expect(SUMMARY_ELEMENTS).toContain(e.name);
  for (const a of elements.filter((e) => e.name === 'a'))
    expect(a.attributes['href']?.startsWith(OWN_LINKS)).toBe(true);
  for (const p of planted) expect(`${run.stdout}${run.stderr}${run.summary}`).not.toContain(p.secret);
}

// Pieces that mean something to the runner's parser, a markdown renderer or a browser.
const piece = fc.constantFrom(
  '::',
  ':',
  '%',
  '%0A',
  '%25',
  '\r',
  '\n',
  ',',
  '=',
  '##[',
  '#',
  '[',
  ']',
  '(',
  ')',
  '*',
  '_',
  '`',
  '|',
  ' ',
  '  ',
  '<b>',
  '<img src=x onerror=alert(1)>',
  '&amp;',
  'https:',
  'evil.example',
  'www.',
  'error file=README.md,line=1',
  '::error::',
  '::warning file=README.md,line=1::',
  '::stop-commands::tok',
  '##[error]',
  '##[endgroup]',
  'stop-commands',
  'endgroup',
  'add-mask',
  'a',
  'Z',
);
const hostileName = fc
  .array(piece, { minLength: 1, maxLength: 8 })
  .map((parts) => `${parts.join('')}.env`)
  .filter((name) => Buffer.byteLength(name) < 200);
const hostileContent = fc.array(piece, { maxLength: 20 }).map((parts) => parts.join(''));
const hostileFiles = fc.uniqueArray(fc.tuple(hostileName, hostileContent, hostileContent), {
  minLength: 1,
  maxLength: 3,
  selector: ([name]) => name,
});

describe('action-scan against hostile file names', () => {
  it('forges no annotation and stops no command with the reported names, in files and diff mode', async () => {
    for (const mode of ['files', 'diff'] as const) {
      const planted = REPORTED_NAMES.map((name) => plant(name));
      const run = await scanIn(mode, planted);
      expectOnlyMeantCommands(mode, planted, run);
      // The names are still there for a reader, visibly neutralised.
      expect(run.stdout).toContain('  \\::stop-commands::tok.env');
      expect(run.stdout).toContain('\\::error file=README.md,line=1::forged.env');
      expect(run.stdout).toContain('#\\#[error]x.env');
    }
  });

  for (const mode of ['files', 'diff', 'history', 'image', 'archive'] as const) {
    it(`leaves the runner only keyfence's commands for random names and contents (${mode} mode)`, async () => {
      await fc.assert(
        fc.asyncProperty(hostileFiles, async (files) => {
          const planted = files.map(([name, before, after]) => plant(name, before, after));
          expectOnlyMeantCommands(mode, planted, await scanIn(mode, planted));
        }),
        { numRuns: 6 },
      );
    });
  }
});

describe('keyfence scan (the CLI, which also runs on runners) against hostile file names', () => {
  const scanWithCli = (planted: Planted[]): void => {
    const dir = tempDir('keyfence-hostile-');
    for (const p of planted) {
      mkdirSync(dirname(join(dir, p.name)), { recursive: true });
      writeFileSync(join(dir, p.name), p.content);
    }
    execFileSync('git', ['init', '-q'], { cwd: dir });
    const text = keyfence(['scan', '.'], dir);
    expect(text.code).toBe(1);
    expect(runnerCommands(`${text.stdout}\n${text.stderr}`)).toEqual([]);
    const json = keyfence(['scan', '.', '--format', 'json'], dir);
    expect(runnerCommands(`${json.stdout}\n${json.stderr}`)).toEqual([]);
    const report = JSON.parse(json.stdout) as { findings: { location: { path: string } }[] };
    expect(report.findings.map((f) => f.location.path).sort()).toEqual(planted.map((p) => p.name).sort());
  };

  it('prints text and JSON reports in which the runner finds no command, for the reported names', () => {
    scanWithCli(REPORTED_NAMES.map((name) => plant(name)));
  });

  it('prints text and JSON reports in which the runner finds no command, for random names and contents', () => {
    fc.assert(
      fc.property(hostileFiles, (files) =>
        scanWithCli(files.map(([name, before, after]) => plant(name, before, after))),
      ),
      { numRuns: 6 },
    );
  });
});
