import { spawn } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve, sep } from 'node:path';
import { afterAll } from 'vitest';
import { parse } from 'yaml';

const ROOT = resolve(import.meta.dirname, '../..');

/** The built action-fetch entry points, run as the runner runs them (`node dist/index.js`). */
export const ACTION_FETCH = {
  main: join(ROOT, 'action-fetch/dist/index.js'),
  post: join(ROOT, 'action-fetch/dist/post/index.js'),
};

/** The inputs an action's action.yml declares (action-fetch's by default), with their defaults (the runner passes every default as INPUT_*). */
export function actionInputDefaults(action = 'action-fetch'): Record<string, string> {
  const meta = parse(readFileSync(join(ROOT, action, 'action.yml'), 'utf8')) as {
    inputs: Record<string, { default?: unknown }>;
  };
  return Object.fromEntries(
    Object.entries(meta.inputs).map(([name, spec]) => [
      name,
      spec.default === undefined ? '' : String(spec.default),
    ]),
  );
}

/** Fails with a clear message when the action has not been built (tests run after `npm run build`). */
export function assertBuilt(): void {
  for (const path of Object.values(ACTION_FETCH)) {
    if (!existsSync(path)) throw new Error(`${path} is missing: run \`npm run build\` first`);
  }
}

/** The files the runner gives one step. */
export interface StepFiles {
  dir: string;
  runnerTemp: string;
  env: string;
  output: string;
  state: string;
  summary: string;
}

/** What one step did: its exit code, output, and the file commands it wrote (parsed). */
export interface StepRun {
  code: number;
  stdout: string;
  stderr: string;
  env: Record<string, string>;
  outputs: Record<string, string>;
  state: Record<string, string>;
  summary: string;
  files: StepFiles;
  durationMs: number;
}

const stepDirs = new Set<string>();
// Every step folder of a test file goes when the file is done.
afterAll(() => {
  for (const dir of stepDirs) rmSync(dir, { recursive: true, force: true });
  stepDirs.clear();
});

/** A fresh job folder: RUNNER_TEMP and empty GITHUB_ENV / _OUTPUT / _STATE / _STEP_SUMMARY files, removed after the test file. */
export function newStep(): StepFiles {
  const dir = mkdtempSync(join(tmpdir(), 'keyfence-step-'));
  stepDirs.add(dir);
  const runnerTemp = join(dir, 'runner-temp');
  mkdirSync(runnerTemp);
  const files: StepFiles = {
    dir,
    runnerTemp,
    env: join(dir, 'github_env'),
    output: join(dir, 'github_output'),
    state: join(dir, 'github_state'),
    summary: join(dir, 'step_summary.md'),
  };
  for (const path of [files.env, files.output, files.state, files.summary]) writeFileSync(path, '');
  return files;
}

/**
 * Parses a file-command file (GITHUB_ENV, GITHUB_OUTPUT, GITHUB_STATE) as the runner does: `NAME=value`
 * lines and `NAME<<DELIMITER` heredocs; a heredoc without its closing delimiter throws.
 */
export function parseFileCommands(text: string): Record<string, string> {
  const result: Record<string, string> = {};
  const lines = text.split(/\r?\n/);
  for (let index = 0; index < lines.length; index++) {
    const line = lines[index] ?? '';
    if (line === '') continue;
    const heredoc = /^([^=<]+)<<(.+)$/.exec(line);
    if (heredoc?.[1] !== undefined && heredoc[2] !== undefined) {
      const end = lines.indexOf(heredoc[2], index + 1);
      if (end === -1) throw new Error(`heredoc for ${heredoc[1]} is not closed`);
      result[heredoc[1]] = lines.slice(index + 1, end).join('\n');
      index = end;
      continue;
    }
    const equals = line.indexOf('=');
    if (equals <= 0) throw new Error(`malformed file command line ${index + 1}`);
    result[line.slice(0, equals)] = line.slice(equals + 1);
  }
  return result;
}

/** Input names as the runner turns them into variables: upper case, spaces to _, hyphens kept. */
export function inputEnv(inputs: Record<string, string>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(inputs).map(([name, value]) => [`INPUT_${name.replace(/ /g, '_').toUpperCase()}`, value]),
  );
}

function baseEnv(): Record<string, string> {
  // Only what a runner would provide, so nothing from the developer's shell leaks into a test.
  return {
    PATH: process.env['PATH'] ?? '/usr/bin:/bin',
    HOME: process.env['HOME'] ?? '/tmp',
    LANG: 'C.UTF-8',
  };
}

/** The action folder a built entry point belongs to (`<root>/action-rotate/dist/index.js` -> `action-rotate`). */
function actionOf(script: string): string {
  return relative(ROOT, script).split(sep)[0] ?? 'action-fetch';
}

/** Runs a built entry point as a step: inputs as INPUT_*, the step's files, and extra env. Never blocks the event loop. */
export function runStep(
  script: string,
  options: { inputs?: Record<string, string>; env?: Record<string, string>; files?: StepFiles },
): Promise<StepRun> {
  const files = options.files ?? newStep();
  const env = {
    ...baseEnv(),
    GITHUB_ACTIONS: 'true',
    RUNNER_TEMP: files.runnerTemp,
    GITHUB_ENV: files.env,
    GITHUB_OUTPUT: files.output,
    GITHUB_STATE: files.state,
    GITHUB_STEP_SUMMARY: files.summary,
    // As the runner does: every declared input is set, to its default unless the workflow gives it.
    ...inputEnv({ ...actionInputDefaults(actionOf(script)), ...options.inputs }),
    ...options.env,
  };
  const started = Date.now();
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [script], {
      env,
      cwd: files.dir,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
    child.on('error', reject);
    child.on('close', (code) => {
      resolvePromise({
        code: code ?? -1,
        stdout: Buffer.concat(stdout).toString('utf8'),
        stderr: Buffer.concat(stderr).toString('utf8'),
        env: parseFileCommands(readFileSync(files.env, 'utf8')),
        outputs: parseFileCommands(readFileSync(files.output, 'utf8')),
        state: parseFileCommands(readFileSync(files.state, 'utf8')),
        summary: readFileSync(files.summary, 'utf8'),
        files,
        durationMs: Date.now() - started,
      });
    });
  });
}

/** Runs the post step of a finished main step: fresh file-command files, and STATE_* from what main saved. */
export async function runPost(main: StepRun, env: Record<string, string> = {}): Promise<StepRun> {
  const files: StepFiles = {
    ...main.files,
    env: `${main.files.env}.post`,
    output: `${main.files.output}.post`,
    state: `${main.files.state}.post`,
  };
  for (const path of [files.env, files.output, files.state]) writeFileSync(path, '');
  const state = Object.fromEntries(
    Object.entries(main.state).map(([name, value]) => [`STATE_${name}`, value]),
  );
  return runStep(ACTION_FETCH.post, { files, env: { ...state, ...env } });
}

/** Every file under a folder, recursively. */
export function listFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .map((name) => join(dir, name))
    .filter((path) => statSync(path).isFile());
}

/**
 * The forms of a secret whose appearance would be a leak, computed independently of the product's
 * masking code: the value, each line and each JSON leaf of 8+ characters, and base64 / base64url /
 * URL-encoded copies.
 */
export function leakForms(value: string): string[] {
  const forms = new Set<string>([value]);
  for (const line of value.split(/\r?\n/)) if (line.length >= 8) forms.add(line);
  try {
    const stack: unknown[] = [JSON.parse(value)];
    while (stack.length > 0) {
      const node = stack.pop();
      if (typeof node === 'string' && node.length >= 8) forms.add(node);
      else if (typeof node === 'object' && node !== null) stack.push(...Object.values(node));
    }
  } catch {
    // not JSON
  }
  forms.add(Buffer.from(value).toString('base64'));
  forms.add(Buffer.from(value).toString('base64url'));
  forms.add(encodeURIComponent(value));
  return [...forms].filter((form) => form.length >= 8);
}

/** Where a run is allowed to hold secret values. */
export interface AllowedPlaces {
  env?: boolean;
  outputs?: boolean;
  /** The folder of 0600 secret files, when destination includes file. */
  filesDir?: string;
  /** The step never read these secrets (it failed before), so no ::add-mask:: is expected either. */
  neverRead?: boolean;
}

/**
 * Returns every place a secret escaped to: stdout outside `::add-mask::` lines, stderr, the summary,
 * the state file, GITHUB_ENV / GITHUB_OUTPUT unless allowed, any file under RUNNER_TEMP but the secret
 * files. Secrets are named by label, never printed. Also reports a secret that was never masked.
 */
export function findLeaks(
  run: StepRun,
  secrets: Record<string, string>,
  allowed: AllowedPlaces = {},
): string[] {
  const problems: string[] = [];
  const places: Array<[string, string]> = [
    ['stderr', run.stderr],
    ['the step summary', run.summary],
    ['GITHUB_STATE', readFileSync(run.files.state, 'utf8')],
  ];
  if (!allowed.env) places.push(['GITHUB_ENV', readFileSync(run.files.env, 'utf8')]);
  if (!allowed.outputs) places.push(['GITHUB_OUTPUT', readFileSync(run.files.output, 'utf8')]);
  for (const path of listFiles(run.files.runnerTemp)) {
    if (allowed.filesDir !== undefined && path.startsWith(`${allowed.filesDir}/`)) continue;
    places.push([`file ${path}`, readFileSync(path, 'utf8')]);
  }
  const stdoutLines = run.stdout.split(/\r?\n/);
  const maskLines = new Set(stdoutLines.filter((line) => line.startsWith('::add-mask::')));
  for (const [label, value] of Object.entries(secrets)) {
    const forms = leakForms(value);
    for (const [place, text] of places) {
      if (forms.some((form) => text.includes(form))) problems.push(`${label} appears in ${place}`);
    }
    stdoutLines.forEach((line, index) => {
      if (!line.startsWith('::add-mask::') && forms.some((form) => line.includes(form))) {
        problems.push(`${label} appears in stdout line ${index + 1} outside ::add-mask::`);
      }
    });
    if (allowed.neverRead) continue;
    const escaped = value.replaceAll('%', '%25').replaceAll('\r', '%0D').replaceAll('\n', '%0A');
    if (!maskLines.has(`::add-mask::${escaped}`)) problems.push(`${label} was never masked`);
    for (const line of value.split(/\r?\n/)) {
      if (line.length >= 2 && !maskLines.has(`::add-mask::${line.replaceAll('%', '%25')}`)) {
        problems.push(`a line of ${label} was never masked`);
      }
    }
  }
  return problems;
}
