import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ACTION_FETCH, assertBuilt, runStep } from '../support/action.js';

const ROOT = resolve(import.meta.dirname, '../..');
const meta = parse(readFileSync(join(ROOT, 'action-fetch/action.yml'), 'utf8')) as {
  inputs: Record<string, { default?: string }>;
  outputs: Record<string, unknown>;
  runs: { using: string; main: string; post: string };
};
// The identity inputs are read by @keyfence/identity (shared with action-rotate), the rest by the action.
const inputsSource = ['action-fetch/src/inputs.ts', 'packages/identity/src/job.ts']
  .map((file) => readFileSync(join(ROOT, file), 'utf8'))
  .join('\n');

describe('action-fetch/action.yml', () => {
  it('declares exactly the inputs the action reads', () => {
    const read = new Set(
      [...inputsSource.matchAll(/\b(?:input|boolean|integer)\('([\w-]+)'/g)].map((match) => match[1]),
    );
    expect([...read].sort()).toEqual(Object.keys(meta.inputs).sort());
  });

  it('keeps the input names of configure-aws-credentials, aws-secretsmanager-get-secrets and vault-action', () => {
    for (const name of [
      'role-to-assume',
      'aws-region',
      'role-session-name',
      'role-duration-seconds',
      'audience',
      'role-chaining',
      'inline-session-policy',
      'managed-session-policies',
      'output-credentials',
      'secret-ids',
      'parse-json-secrets',
      'name-transformation',
      'url',
      'method',
      'role',
      'path',
      'secrets',
      'jwtGithubAudience',
      'namespace',
    ]) {
      expect(meta.inputs, name).toHaveProperty(name);
    }
    expect(meta.inputs['role-session-name']?.default).toBe('GitHubActions');
    expect(meta.inputs['audience']?.default).toBe('sts.amazonaws.com');
    expect(meta.inputs['role-duration-seconds']?.default).toBe('3600');
  });

  it('points main and post at the built bundles', () => {
    assertBuilt();
    expect(existsSync(join(ROOT, 'action-fetch', meta.runs.main))).toBe(true);
    expect(existsSync(join(ROOT, 'action-fetch', meta.runs.post))).toBe(true);
    expect(join(ROOT, 'action-fetch', meta.runs.main)).toBe(ACTION_FETCH.main);
    expect(join(ROOT, 'action-fetch', meta.runs.post)).toBe(ACTION_FETCH.post);
  });

  it('with nothing asked for, fails with a usage error and touches nothing', async () => {
    const run = await runStep(ACTION_FETCH.main, {});
    expect(run.code).toBe(1);
    expect(run.stdout).toContain('nothing to do');
    expect(run.env).toEqual({});
    expect(run.stderr).toBe('');
  });

  it('the post step of a step that exported nothing does nothing', async () => {
    const run = await runStep(ACTION_FETCH.post, {});
    expect(run.code).toBe(0);
    expect(run.env).toEqual({});
  });
});
