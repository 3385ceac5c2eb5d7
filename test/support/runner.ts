import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { tempDir } from './cli.js';

/** A workflow command the action printed (`::error file=a,line=3::message`), unescaped. */
export interface WorkflowCommand {
  command: string;
  properties: Record<string, string>;
  message: string;
}

export interface ActionRun {
  code: number;
  stdout: string;
  stderr: string;
  /** What the action wrote to GITHUB_OUTPUT. */
  outputs: Record<string, string>;
  /** What the action appended to GITHUB_STEP_SUMMARY. */
  summary: string;
  /** The workflow commands on stdout (annotations, errors). */
  commands: WorkflowCommand[];
  /** RUNNER_TEMP of this run. */
  runnerTemp: string;
}

export interface RunActionOptions {
  /** GITHUB_WORKSPACE, and the working folder, as actions/checkout leaves it. */
  workspace: string;
  /** `with:` values, by input name as written in the workflow. */
  inputs?: Record<string, string>;
  event: { name: string; payload: unknown };
  /** Anything else to set (e.g. GITHUB_SHA). */
  env?: Record<string, string>;
}

const REPO_ROOT = resolve(import.meta.dirname, '../..');

/** The environment variable the runner sets for an input: upper case, spaces to `_`, hyphens kept. */
export function inputVariable(name: string): string {
  return `INPUT_${name.replace(/ /g, '_').toUpperCase()}`;
}

/**
 * Runs an action's built bundle (`node <action>/dist/index.js`) as the runner runs it: inputs
 * as INPUT_* variables, the event payload in a file, fresh output and summary files.
 */
export function runAction(action: string, options: RunActionOptions): ActionRun {
  const home = tempDir('keyfence-runner-');
  const runnerTemp = join(home, 'temp');
  mkdirSync(runnerTemp);
  const files = {
    GITHUB_OUTPUT: join(home, 'output'),
    GITHUB_STEP_SUMMARY: join(home, 'summary.md'),
    GITHUB_EVENT_PATH: join(home, 'event.json'),
  };
  writeFileSync(files.GITHUB_OUTPUT, '');
  writeFileSync(files.GITHUB_STEP_SUMMARY, '');
  writeFileSync(files.GITHUB_EVENT_PATH, JSON.stringify(options.event.payload));
  // Whatever runner this test itself runs on must not leak into the action's run.
  const base = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !/^(GITHUB_|INPUT_|RUNNER_|ACTIONS_)/.test(k)),
  );
  const env: Record<string, string | undefined> = {
    ...base,
    ...files,
    GITHUB_ACTIONS: 'true',
    GITHUB_EVENT_NAME: options.event.name,
    GITHUB_WORKSPACE: options.workspace,
    GITHUB_SERVER_URL: 'https://github.example',
    GITHUB_REPOSITORY: 'acme/app',
    RUNNER_TEMP: runnerTemp,
    ...Object.fromEntries(Object.entries(options.inputs ?? {}).map(([k, v]) => [inputVariable(k), v])),
    ...options.env,
  };
  const r = spawnSync(process.execPath, [join(REPO_ROOT, action, 'dist', 'index.js')], {
    cwd: options.workspace,
    env,
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  if (r.error) throw r.error;
  return {
    code: r.status ?? -1,
    stdout: r.stdout,
    stderr: r.stderr,
    outputs: parseOutputFile(readFileSync(files.GITHUB_OUTPUT, 'utf8')),
    summary: existsSync(files.GITHUB_STEP_SUMMARY) ? readFileSync(files.GITHUB_STEP_SUMMARY, 'utf8') : '',
    commands: parseCommands(r.stdout),
    runnerTemp,
  };
}

/** Reads a GITHUB_OUTPUT file: `name<<DELIMITER`, the value's lines, `DELIMITER`. */
export function parseOutputFile(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const m = /^([^<=]+)<<(.+)$/.exec(lines[i]!);
    if (m) {
      const end = lines.indexOf(m[2]!, i + 1);
      if (end < 0) throw new Error(`unterminated output ${m[1]}`);
      out[m[1]!] = lines.slice(i + 1, end).join('\n');
      i = end;
    } else if (lines[i]!.includes('=')) {
      const at = lines[i]!.indexOf('=');
      out[lines[i]!.slice(0, at)] = lines[i]!.slice(at + 1);
    }
  }
  return out;
}

/** Parses `::command k=v,k=v::message` lines, undoing the toolkit's escaping. */
export function parseCommands(stdout: string): WorkflowCommand[] {
  const commands: WorkflowCommand[] = [];
  for (const line of stdout.split(/\r?\n/)) {
    const m = /^::([a-z-]+)(?: ([^:]*))?::(.*)$/.exec(line);
    if (!m) continue;
    const properties: Record<string, string> = {};
    for (const pair of (m[2] ?? '').split(',').filter(Boolean)) {
      const at = pair.indexOf('=');
      properties[pair.slice(0, at)] = unescapeCommand(pair.slice(at + 1));
    }
    commands.push({ command: m[1]!, properties, message: unescapeCommand(m[3]!) });
  }
  return commands;
}

function unescapeCommand(s: string): string {
  return s.replace(/%(0D|0A|3A|2C|25)/g, (_m, hex: string) => String.fromCharCode(Number.parseInt(hex, 16)));
}
