import { randomUUID } from 'node:crypto';
import { appendFileSync } from 'node:fs';
import { EOL } from 'node:os';
import type { SecretValue } from '../secret.js';
import {
  type AnnotationLevel,
  type AnnotationProperties,
  addMaskCommands,
  annotationCommand,
  workflowCommand,
} from './commands.js';
import { neutraliseJson, neutraliseLegacyMarkers, neutraliseLines } from './render.js';

// The one way keyfence writes to a runner (and to any terminal): every line of plain text is
// neutralised, every workflow command is built by ./commands.ts. Written against the documented
// workflow and file commands rather than @actions/core, whose bundle pulls in an HTTP client.

type Env = Readonly<Record<string, string | undefined>>;

/** Where text goes: process.stdout, a CLI's injected stream, a test's buffer. */
export interface TextSink {
  write(text: string): unknown;
}

/** Everything an action does to the runner; code takes it as a parameter so a fake can stand in. */
export interface Runner {
  /** An input's value, trimmed; '' when not given. */
  input(name: string): string;
  /** Registers a secret and all its derived forms with the runner's log masker. */
  mask(secret: SecretValue): void;
  /** Plain log text, any number of lines; no line of it can act as a command. */
  info(message: string): void;
  /**
   * Untrusted text (a report naming files), neutralised line by line. No stop-commands fence: the
   * rendering alone keeps every line inert, and a fence is itself a `::stop-commands` line that
   * log readers and checks cannot tell from a forged one.
   */
  untrusted(text: string): void;
  /** A debug message, shown when step debug logging is on. */
  debug(message: string): void;
  /** Starts a collapsible group of log lines, titled (the title is display text). */
  startGroup(title: string): void;
  endGroup(): void;
  notice(message: string, properties?: AnnotationProperties): void;
  warning(message: string, properties?: AnnotationProperties): void;
  error(message: string, properties?: AnnotationProperties): void;
  /** An error annotation and exit code 1, as the toolkit's setFailed. */
  setFailed(message: string): void;
  exportVariable(name: string, value: string): void;
  setOutput(name: string, value: string): void;
  saveState(name: string, value: string): void;
  state(name: string): string;
  appendSummary(markdown: string): void;
}

export interface RunnerOptions {
  env?: Env;
  out?: TextSink;
  /** How setFailed fails the step (default: process.exitCode = 1). */
  setExitCode?: (code: number) => void;
}

/** The heredoc form of a file command, with a random delimiter that cannot occur in name or value. */
export function keyValueMessage(name: string, value: string): string {
  const delimiter = `ghadelimiter_${randomUUID()}`;
  if (name.includes(delimiter) || value.includes(delimiter)) {
    throw new Error('a value contains the file-command delimiter');
  }
  return `${name}<<${delimiter}${EOL}${value}${EOL}${delimiter}${EOL}`;
}

/** Writes neutralised text lines to a sink (a CLI's stdout or stderr): nothing in it can act as a command. */
export function writeText(sink: TextSink, text: string): void {
  if (text !== '') sink.write(neutraliseLines(text));
}

/** Writes a JSON document to a sink with `##[` encoded away; it parses to the same value. */
export function writeJson(sink: TextSink, json: string): void {
  sink.write(neutraliseJson(json));
}

/** The runner of a real job: workflow commands on stdout, file commands in GITHUB_ENV / _OUTPUT / _STATE / _STEP_SUMMARY. */
export function createRunner(options: RunnerOptions = {}): Runner {
  const env = options.env ?? process.env;
  const out = options.out ?? process.stdout;
  const setExitCode =
    options.setExitCode ??
    ((code: number) => {
      process.exitCode = code;
    });
  const line = (text: string): void => {
    out.write(`${text}${EOL}`);
  };
  const masked = new Set<string>();
  const annotate = (level: AnnotationLevel) => (message: string, properties?: AnnotationProperties) =>
    line(annotationCommand(level, message, properties));
  const fileCommand = (variable: string, name: string, value: string): void => {
    const path = env[variable];
    // Never fall back to the deprecated stdout commands: that would print the value into the log.
    if (!path) throw new Error(`${variable} is not set: this action must run as a GitHub Actions step.`);
    appendFileSync(path, keyValueMessage(name, value), { encoding: 'utf8' });
  };
  const error = annotate('error');
  return {
    input: (name) => (env[`INPUT_${name.replace(/ /g, '_').toUpperCase()}`] ?? '').trim(),
    mask: (secret) => {
      for (const command of addMaskCommands(secret.reveal())) {
        if (masked.has(command)) continue;
        masked.add(command);
        line(command);
      }
    },
    info: (message) => line(neutraliseLines(message)),
    untrusted: (text) => line(neutraliseLines(text)),
    debug: (message) => line(workflowCommand('debug', {}, neutraliseLegacyMarkers(message))),
    startGroup: (title) => line(workflowCommand('group', {}, neutraliseLegacyMarkers(title))),
    endGroup: () => line(workflowCommand('endgroup', {}, '')),
    notice: annotate('notice'),
    warning: annotate('warning'),
    error,
    setFailed: (message) => {
      setExitCode(1);
      error(message);
    },
    exportVariable: (name, value) => fileCommand('GITHUB_ENV', name, value),
    setOutput: (name, value) => fileCommand('GITHUB_OUTPUT', name, value),
    saveState: (name, value) => fileCommand('GITHUB_STATE', name, value),
    state: (name) => env[`STATE_${name}`] ?? '',
    appendSummary: (markdown) => {
      const path = env['GITHUB_STEP_SUMMARY'];
      if (path) appendFileSync(path, `${markdown}${EOL}`, { encoding: 'utf8' });
    },
  };
}
