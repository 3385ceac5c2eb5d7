import { execFileSync } from 'node:child_process';
import { isKeyfenceError } from '@keyfence/core';
import { describe, expect, it } from 'vitest';
import { TestRepo } from '../../../../test/support/git.js';
import { type GithubEventInput, resolveNewRef, resolveScanTarget, type ScanTarget } from './github-event.js';

const A = 'a'.repeat(40);
const B = 'b'.repeat(40);
const ZERO = '0'.repeat(40);

function target(eventName: string, payload: unknown, mode: GithubEventInput['mode'] = 'auto'): ScanTarget {
  return resolveScanTarget({ eventName, payload, mode });
}

function errorOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    if (isKeyfenceError(e)) return `${e.message} | ${e.hint ?? ''}`;
    throw e;
  }
  throw new Error('expected a KeyfenceError');
}

describe('resolveScanTarget', () => {
  it('scans a pull request from its base to its head commit', () => {
    const payload = { number: 7, pull_request: { number: 7, base: { sha: A }, head: { sha: B } } };
    for (const name of ['pull_request', 'pull_request_target']) {
      expect(target(name, payload)).toEqual({
        kind: 'git',
        range: { kind: 'diff', base: A, head: B },
        description: 'the commits of pull request #7 (aaaaaaaaaaaa..bbbbbbbbbbbb)',
      });
    }
  });

  it('scans a merge queue group from its base to its head', () => {
    const t = target('merge_group', { merge_group: { base_sha: A, head_sha: B } });
    expect(t).toMatchObject({ kind: 'git', range: { kind: 'diff', base: A, head: B } });
  });

  it('scans the commits a push added to an existing branch', () => {
    const t = target('push', { ref: 'refs/heads/main', before: A, after: B });
    expect(t).toMatchObject({ kind: 'git', range: { kind: 'diff', base: A, head: B } });
  });

  it('scans a new branch against the default branch', () => {
    const payload = {
      ref: 'refs/heads/feature',
      before: ZERO,
      after: B,
      created: true,
      repository: { default_branch: 'trunk' },
    };
    expect(target('push', payload)).toEqual({
      kind: 'new-ref',
      defaultBranch: 'trunk',
      head: B,
      description: 'the commits of the new refs/heads/feature that are not on trunk',
    });
  });

  it('scans the whole history on the first push of the default branch', () => {
    const payload = {
      ref: 'refs/heads/main',
      before: ZERO,
      after: B,
      repository: { default_branch: 'main' },
    };
    expect(target('push', payload)).toMatchObject({ kind: 'git', range: { kind: 'history' } });
  });

  it('scans nothing for a push that deleted a branch', () => {
    expect(target('push', { ref: 'refs/heads/x', before: A, after: ZERO, deleted: true })).toMatchObject({
      kind: 'none',
    });
  });

  it('scans the files for schedule and workflow_dispatch unless mode says history', () => {
    for (const name of ['schedule', 'workflow_dispatch', 'release', '']) {
      expect(target(name, {}).kind).toBe('files');
      expect(target(name, {}, 'history')).toMatchObject({ kind: 'git', range: { kind: 'history' } });
    }
  });

  it('lets an explicit mode override the event', () => {
    const pr = { pull_request: { base: { sha: A }, head: { sha: B } } };
    expect(target('pull_request', pr, 'files').kind).toBe('files');
    expect(target('pull_request', pr, 'history')).toMatchObject({ range: { kind: 'history' } });
    expect(target('pull_request', pr, 'diff')).toMatchObject({ range: { kind: 'diff', base: A, head: B } });
  });

  it('refuses mode diff for an event without a commit range, naming the events that have one', () => {
    expect(errorOf(() => target('schedule', {}, 'diff'))).toMatch(
      /mode: diff needs an event with a commit range, and this run was triggered by "schedule" \| .*pull_request/,
    );
  });

  it('says which payload field is missing or malformed', () => {
    expect(errorOf(() => target('pull_request', { pull_request: { base: { sha: A } } }))).toContain(
      'the pull_request event payload has no commit at pull_request.head.sha',
    );
    expect(errorOf(() => target('push', { before: A, after: 'main' }))).toContain('no commit at after');
  });
});

describe('resolveNewRef', () => {
  function originWithFeature(): { origin: TestRepo; main: string; feature: string } {
    const origin = new TestRepo();
    const main = origin.commit('init', { 'a.txt': 'a\n' });
    origin.git('checkout', '-q', '-b', 'feature');
    const feature = origin.commit('feature', { 'b.txt': 'b\n' });
    origin.git('checkout', '-q', 'main');
    return { origin, main, feature };
  }
  const newRef = (head: string) =>
    ({ kind: 'new-ref', defaultBranch: 'main', head, description: 'new branch' }) as const;

  it('diffs against the default branch, fetching it when the clone lacks it', () => {
    const { origin, main, feature } = originWithFeature();
    const clone = new TestRepo();
    clone.git('remote', 'add', 'origin', `file://${origin.dir}`);
    clone.git('fetch', '-q', 'origin', 'feature');
    expect(resolveNewRef(clone.dir, newRef(feature))).toEqual({
      range: { kind: 'diff', base: main, head: feature },
      description: 'new branch',
    });
  });

  it('falls back to the history when the default branch cannot be had', () => {
    const { origin, feature } = originWithFeature();
    const clone = new TestRepo();
    clone.git('remote', 'add', 'origin', `file://${origin.dir}`);
    clone.git('fetch', '-q', 'origin', 'feature');
    execFileSync('git', ['remote', 'set-url', 'origin', `${origin.dir}-gone`], { cwd: clone.dir });
    const r = resolveNewRef(clone.dir, newRef(feature));
    expect(r.range).toEqual({ kind: 'history', head: feature });
    expect(r.description).toContain('origin/main could not be found or fetched');
  });
});
