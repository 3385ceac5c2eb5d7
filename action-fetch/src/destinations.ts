import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { KeyfenceError } from '@keyfence/core';
import type { NamedSecret } from '@keyfence/stores';
import type { Destination } from './inputs.js';
import type { Runner } from './runner.js';
import { FILES_DIR_PREFIX, STATE_FILES_DIR } from './state.js';

type Env = Readonly<Record<string, string | undefined>>;

/** Where the values went, for the summary and the post step. */
export interface Delivered {
  envNames: string[];
  outputNames: string[];
  filesDir?: string;
}

function writeSecretFiles(secrets: readonly NamedSecret[], runner: Runner, env: Env): string {
  const runnerTemp = env['RUNNER_TEMP'];
  if (!runnerTemp) {
    throw new KeyfenceError(
      'USAGE',
      'destination: file needs RUNNER_TEMP, which the runner sets for every job.',
    );
  }
  const dir = mkdtempSync(join(resolve(runnerTemp), FILES_DIR_PREFIX));
  chmodSync(dir, 0o700);
  // Recorded before the first file exists, so the post step removes the folder even if writing fails.
  runner.saveState(STATE_FILES_DIR, dir);
  for (const secret of secrets) {
    const path = join(dir, secret.name);
    // 'wx': a name that already exists means two secrets clashed, which checkNames rules out; never overwrite.
    writeFileSync(path, secret.value.reveal(), { mode: 0o600, flag: 'wx' });
    chmodSync(path, 0o600); // the umask may have narrowed the mode; make it exact
  }
  runner.setOutput('secrets-dir', dir);
  return dir;
}

/** Hands every value to the chosen destinations: GITHUB_ENV, step outputs, and/or one 0600 file each under RUNNER_TEMP. */
export function deliver(
  secrets: readonly NamedSecret[],
  destinations: ReadonlySet<Destination>,
  runner: Runner,
  env: Env,
): Delivered {
  const delivered: Delivered = { envNames: [], outputNames: [] };
  if (destinations.has('file')) delivered.filesDir = writeSecretFiles(secrets, runner, env);
  for (const secret of secrets) {
    if (destinations.has('env')) {
      runner.exportVariable(secret.name, secret.value.reveal());
      delivered.envNames.push(secret.name);
    }
    if (destinations.has('outputs')) {
      runner.setOutput(secret.name, secret.value.reveal());
      delivered.outputNames.push(secret.name);
    }
  }
  return delivered;
}
