import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { runnerCommands } from '../../../../test/support/runner-log.js';
import { SecretValue } from '../secret.js';
import { annotationCommand, workflowCommand } from './commands.js';
import { looksLikeCommand, neutraliseJson, neutraliseLines, renderUntrusted } from './render.js';
import { createRunner } from './runner.js';

/** A runner writing into a string, with its own output files. */
function bufferedRunner() {
  let out = '';
  let exitCode = 0;
  const dir = mkdtempSync(join(tmpdir(), 'keyfence-runner-'));
  const env = { GITHUB_OUTPUT: join(dir, 'out'), GITHUB_STEP_SUMMARY: join(dir, 'summary') };
  const runner = createRunner({
    env,
    out: { write: (text: string) => (out += text) },
    setExitCode: (code) => {
      exitCode = code;
    },
  });
  return { runner, env, output: () => out, exitCode: () => exitCode };
}

// Pieces the runner's parser and a markdown renderer care about, so random strings hit them often.
const hostilePiece = fc.constantFrom(
  '::',
  ':',
  '%',
  '%0A',
  '%25',
  '%3A',
  '\r',
  '\n',
  '\r\n',
  ',',
  '=',
  ';',
  ']',
  '##[',
  '#',
  ' ',
  '\t',
  '\u00a0',
  '\ufeff',
  '\u0085',
  '\u2028',
  '\x1b[31m',
  'error',
  'warning file=README.md,line=1',
  '::error::',
  '::stop-commands::tok',
  '##[error]',
  '##[endgroup]',
  'stop-commands',
  'add-mask',
  'endgroup',
  '[x](https://evil.example)',
  '<b>',
  'a',
);
const hostileText = fc.array(hostilePiece, { maxLength: 12 }).map((parts) => parts.join(''));

describe('renderUntrusted', () => {
  it('makes control characters visible and keeps the value on one line', () => {
    expect(renderUntrusted('a\nb\r\tc\x1b[31m\u2028')).toBe('a\\nb\\r\\tc\\x1b[31m\\u2028');
  });

  it('neutralises a leading :: after blanks and every ##[, visibly', () => {
    expect(renderUntrusted('  ::stop-commands::tok.env')).toBe('  \\::stop-commands::tok.env');
    expect(renderUntrusted('::error file=README.md,line=1::forged.env')).toBe(
      '\\::error file=README.md,line=1::forged.env',
    );
    expect(renderUntrusted('##[error]x.env')).toBe('#\\#[error]x.env');
    expect(renderUntrusted('###[x')).toBe('##\\#[x');
    expect(renderUntrusted('registry [::1]:5000/app')).toBe('registry [::1]:5000/app');
  });

  it('never yields text the runner reads as a command, alone or after keyfence indentation', () => {
    fc.assert(
      fc.property(hostileText, fc.constantFrom('', '  ', '\t', 'warning: '), (value, prefix) => {
        const line = `${prefix}${renderUntrusted(value)}`;
        expect(line).not.toMatch(/[\r\n]/);
        expect(runnerCommands(line)).toEqual([]);
      }),
      { numRuns: 500 },
    );
  });
});

describe('neutraliseLines and neutraliseJson', () => {
  it('leave no line that can start a command, whatever the text', () => {
    fc.assert(
      fc.property(hostileText, (text) => {
        const safe = neutraliseLines(text);
        expect(runnerCommands(safe)).toEqual([]);
        for (const line of safe.split('\n')) expect(looksLikeCommand(line)).toBe(false);
      }),
      { numRuns: 500 },
    );
  });

  it('encodes ##[ in JSON so that it still parses to the same value', () => {
    fc.assert(
      fc.property(fc.array(hostileText, { maxLength: 4 }), (values) => {
        const json = neutraliseJson(JSON.stringify({ values }, null, 2));
        expect(json).not.toContain('##[');
        expect(runnerCommands(json)).toEqual([]);
        expect(JSON.parse(json)).toEqual({ values });
      }),
      { numRuns: 300 },
    );
  });
});

describe('workflow commands', () => {
  it('escape data and properties so the runner reads back exactly what was meant', () => {
    fc.assert(
      fc.property(hostileText, hostileText, hostileText, (title, file, message) => {
        const line = annotationCommand('warning', message, { title, file, startLine: 3, endLine: 4 });
        expect(line).not.toMatch(/[\r\n]/);
        const commands = runnerCommands(line);
        expect(commands).toHaveLength(1);
        const [command] = commands;
        expect(command!.command).toBe('warning');
        expect(command!.form).toBe('v2');
        if (file.includes('##[')) {
          // Not pinned: the file is named, rendered, in the message instead.
          expect(command!.properties).toEqual({ title: title.replaceAll('##[', '#\\#[') });
          expect(command!.data.endsWith(` (in ${renderUntrusted(file)}:3)`)).toBe(true);
        } else {
          expect(command!.properties).toEqual({
            title: title.replaceAll('##[', '#\\#['),
            file,
            line: '3',
            endLine: '4',
          });
          expect(command!.data).toBe(message.replaceAll('##[', '#\\#['));
        }
        expect(line).not.toContain('##[');
      }),
      { numRuns: 500 },
    );
  });

  it('builds a bare command with no property list', () => {
    expect(workflowCommand('endgroup', {}, '')).toBe('::endgroup::');
    expect(workflowCommand('add-mask', {}, '50%\r\n')).toBe('::add-mask::50%25%0D%0A');
  });
});

describe('createRunner', () => {
  it('prints only the commands keyfence meant, whatever the untrusted text around them', () => {
    fc.assert(
      fc.property(hostileText, hostileText, hostileText, (info, report, message) => {
        const { runner, output, exitCode } = bufferedRunner();
        runner.startGroup(info);
        runner.info(info);
        runner.debug(message);
        runner.endGroup();
        runner.untrusted(report);
        runner.error(message, { file: 'src/app.ts', startLine: 2 });
        runner.setFailed('keyfence found 1 leaked secret');
        const commands = runnerCommands(output());
        expect(commands.map((c) => [c.command, c.properties, c.data])).toEqual([
          ['group', {}, info.replaceAll('##[', '#\\#[')],
          ['debug', {}, message.replaceAll('##[', '#\\#[')],
          ['endgroup', {}, ''],
          ['error', { file: 'src/app.ts', line: '2' }, message.replaceAll('##[', '#\\#[')],
          ['error', {}, 'keyfence found 1 leaked secret'],
        ]);
        expect(output()).not.toContain('##[');
        expect(exitCode()).toBe(1);
      }),
      { numRuns: 300 },
    );
  });

  it('masks every form of a secret once, and writes outputs and the summary to their files', () => {
    const { runner, env, output } = bufferedRunner();
    const secret = new SecretValue('line-one\nline-two');
    runner.mask(secret);
    runner.mask(secret);
    const masks = runnerCommands(output()).filter((c) => c.command === 'add-mask');
    expect(masks.map((c) => c.data)).toContain('line-one\nline-two');
    expect(new Set(masks.map((c) => c.data)).size).toBe(masks.length);
    runner.setOutput('findings', '2');
    runner.appendSummary('### hi');
    expect(readFileSync(env.GITHUB_OUTPUT, 'utf8')).toMatch(/^findings<<ghadelimiter_[0-9a-f-]+\n2\n/);
    expect(readFileSync(env.GITHUB_STEP_SUMMARY, 'utf8')).toBe('### hi\n');
  });
});
