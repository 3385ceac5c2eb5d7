import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { tempDir } from './cli.js';
import type { TestRepo } from './git.js';

/** actions/checkout's result: a clone of `origin` at `ref` (all history unless a depth is given). */
export function checkout(origin: TestRepo, ref: string, depth?: number): string {
  const dir = join(tempDir('keyfence-ws-'), 'app');
  const args = [
    'clone',
    '-q',
    ...(depth ? ['--depth', String(depth), '--branch', ref] : []),
    `file://${origin.dir}`,
    dir,
  ];
  execFileSync('git', args);
  if (!depth) execFileSync('git', ['checkout', '-q', ref], { cwd: dir });
  return dir;
}

/** The payload the runner writes for a pull request #7 from `feature` into `main`. */
export function pullRequestEvent(base: string, head: string): { name: string; payload: unknown } {
  return {
    name: 'pull_request',
    payload: {
      action: 'synchronize',
      number: 7,
      pull_request: { number: 7, base: { ref: 'main', sha: base }, head: { ref: 'feature', sha: head } },
      repository: { default_branch: 'main', full_name: 'acme/app' },
    },
  };
}
