import { rmSync } from 'node:fs';
import { basename } from 'node:path';
import type { Runner } from './runner.js';
import { FILES_DIR_PREFIX, STATE_EXPORTED_ENV, STATE_FILES_DIR } from './state.js';

function exportedNames(raw: string): string[] {
  if (raw === '') return [];
  try {
    const parsed: unknown = JSON.parse(raw);
    return Array.isArray(parsed) ? parsed.filter((name): name is string => typeof name === 'string') : [];
  } catch {
    return [];
  }
}

/** The post step: empties every variable the main step exported and removes its secret files. */
export function cleanup(runner: Runner): void {
  const names = exportedNames(runner.state(STATE_EXPORTED_ENV));
  // An empty value is what later steps (other actions' post steps) see: the secret is gone from the job's env.
  for (const name of names) runner.exportVariable(name, '');
  const dir = runner.state(STATE_FILES_DIR);
  // Only ever remove a folder this action created.
  if (dir !== '' && basename(dir).startsWith(FILES_DIR_PREFIX)) rmSync(dir, { recursive: true, force: true });
  runner.info(
    `keyfence cleanup: cleared ${names.length} variable(s)${dir === '' ? '' : ' and removed the secret files'}.`,
  );
}
