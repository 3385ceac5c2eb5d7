import { randomUUID } from 'node:crypto';
import { appendFileSync } from 'node:fs';
import { EOL } from 'node:os';
import { addMaskCommands, type SecretValue } from '@keyfence/core';

// The runner's side of an action, written against the documented workflow commands and file
// commands rather than @actions/core: that package pulls an HTTP client (undici) into the bundle
// for an OIDC helper this action replaces, and start-up time is the user's time.

type Env = Readonly<Record<string, string | undefined>>;

/** Everything the action does to the runner; fetch and cleanup take it as a parameter so a fake can stand in. */
export interface Runner {
  /** An input's value, trimmed; '' when not given. */
  input(name: string): string;
  /** Registers a secret and all its derived forms with the runner's log masker. */
  mask(secret: SecretValue): void;
  info(message: string): void;
  notice(message: string): void;
  warning(message: string): void;
  error(message: string): void;
  exportVariable(name: string, value: string): void;
  setOutput(name: string, value: string): void;
  saveState(name: string, value: string): void;
  state(name: string): string;
  appendSummary(markdown: string): void;
}

/** Escapes data for a workflow command the way the toolkit does: the runner unescapes %25, %0D, %0A. */
export function escapeData(text: string): string {
  return text.replaceAll('%', '%25').replaceAll('\r', '%0D').replaceAll('\n', '%0A');
}

/** The heredoc form of a file command, with a random delimiter that cannot occur in name or value. */
export function keyValueMessage(name: string, value: string): string {
  const delimiter = `ghadelimiter_${randomUUID()}`;
  if (name.includes(delimiter) || value.includes(delimiter)) {
    throw new Error('a value contains the file-command delimiter');
  }
  return `${name}<<${delimiter}${EOL}${value}${EOL}${delimiter}${EOL}`;
}

/** The runner of a real job: workflow commands on stdout, file commands in GITHUB_ENV / _OUTPUT / _STATE / _STEP_SUMMARY. */
export function createRunner(
  env: Env = process.env,
  write: (text: string) => void = (text) => process.stdout.write(text),
): Runner {
  const masked = new Set<string>();
  const command = (name: string, message: string): void => write(`::${name}::${escapeData(message)}${EOL}`);
  const fileCommand = (variable: string, name: string, value: string): void => {
    const path = env[variable];
    // Never fall back to the deprecated stdout commands: that would print the value into the log.
    if (!path) throw new Error(`${variable} is not set: this action must run as a GitHub Actions step.`);
    appendFileSync(path, keyValueMessage(name, value), { encoding: 'utf8' });
  };
  return {
    input: (name) => (env[`INPUT_${name.replace(/ /g, '_').toUpperCase()}`] ?? '').trim(),
    mask: (secret) => {
      for (const line of addMaskCommands(secret.reveal())) {
        if (masked.has(line)) continue;
        masked.add(line);
        write(`${line}${EOL}`);
      }
    },
    info: (message) => write(`${message}${EOL}`),
    notice: (message) => command('notice', message),
    warning: (message) => command('warning', message),
    error: (message) => command('error', message),
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
