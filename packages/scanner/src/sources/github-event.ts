import { ErrorCode, KeyfenceError } from '@keyfence/core';
import { type GitRange, git, hasCommit } from './git.js';

/** How the scan action picks what to scan: from the triggering event (`auto`), or as told. */
export const SCAN_MODES = ['auto', 'diff', 'history', 'files'] as const;
export type ScanMode = (typeof SCAN_MODES)[number];

/** What a workflow run tells about itself: `GITHUB_EVENT_NAME` and the JSON at `GITHUB_EVENT_PATH`. */
export interface GithubEventInput {
  eventName: string;
  payload: unknown;
  mode: ScanMode;
}

/** What to scan, with a sentence for the job summary saying why. */
export type ScanTarget =
  | { kind: 'files'; description: string }
  | {
      kind: 'git';
      range: GitRange;
      description: string;
      /** For a push: what to fall back on when its `before` commit is gone (a force push). */
      push?: { ref: string; defaultBranch: string };
    }
  /**
   * A pushed ref that did not exist before: the commits not on the default branch, i.e.
   * `<remote>/<defaultBranch>..head`; the history of the clone when that branch cannot be had.
   * Needs a look at the repository, done by `resolveNewRef`.
   */
  | { kind: 'new-ref'; defaultBranch: string; head: string; description: string }
  /** Nothing to scan (a deleted branch or tag). */
  | { kind: 'none'; description: string };

const ZERO_SHA = /^0+$/;
const RANGE_EVENTS = 'pull_request, pull_request_target, push and merge_group';

/**
 * Decides what a run scans. `auto`: a pull request (or merge queue group) scans the commits
 * between its base and head, a push the commits it pushed, anything else (schedule,
 * workflow_dispatch, ...) the checked-out files. `diff`, `history` and `files` override that,
 * where the event allows (`diff` needs an event that has a range).
 */
export function resolveScanTarget(input: GithubEventInput): ScanTarget {
  const { eventName, payload, mode } = input;
  if (mode === 'files') return { kind: 'files', description: 'the checked-out files (mode: files)' };
  if (mode === 'history') return { kind: 'git', range: { kind: 'history' }, description: 'the git history' };
  const fromEvent = eventRange(eventName, payload);
  if (fromEvent) return fromEvent;
  if (mode === 'diff') {
    throw new KeyfenceError(
      ErrorCode.USAGE,
      `mode: diff needs an event with a commit range, and this run was triggered by "${eventName || 'nothing'}"`,
      { hint: `diff works on ${RANGE_EVENTS} events; use mode: history or mode: files for this one` },
    );
  }
  return {
    kind: 'files',
    description: `the checked-out files (a ${eventName || 'local'} run has no commit range; mode: history scans the git history)`,
  };
}

/**
 * The base commit of a pull request or merge group event: whatever the mode, its config and
 * baseline are the ones to trust, since the head (and so the checkout) is the pull request's.
 */
export function pullRequestBase(eventName: string, payload: unknown): string | undefined {
  const at =
    eventName === 'pull_request' || eventName === 'pull_request_target'
      ? ['pull_request', 'base', 'sha']
      : eventName === 'merge_group'
        ? ['merge_group', 'base_sha']
        : undefined;
  return at ? sha(payload, eventName, ...at) : undefined;
}

function eventRange(eventName: string, payload: unknown): ScanTarget | undefined {
  switch (eventName) {
    case 'pull_request':
    case 'pull_request_target': {
      const base = sha(payload, eventName, 'pull_request', 'base', 'sha');
      const head = sha(payload, eventName, 'pull_request', 'head', 'sha');
      const n = field(payload, 'pull_request', 'number') ?? field(payload, 'number');
      return {
        kind: 'git',
        range: { kind: 'diff', base, head },
        description: `the commits of pull request${n === undefined ? '' : ` #${n}`} (${short(base)}..${short(head)})`,
      };
    }
    case 'merge_group': {
      const base = sha(payload, eventName, 'merge_group', 'base_sha');
      const head = sha(payload, eventName, 'merge_group', 'head_sha');
      return {
        kind: 'git',
        range: { kind: 'diff', base, head },
        description: `the commits of the merge group (${short(base)}..${short(head)})`,
      };
    }
    case 'push':
      return pushTarget(payload);
    default:
      return undefined;
  }
}

function pushTarget(payload: unknown): ScanTarget {
  const ref = String(field(payload, 'ref') ?? '');
  const after = sha(payload, 'push', 'after');
  if (field(payload, 'deleted') === true || ZERO_SHA.test(after)) {
    return { kind: 'none', description: `nothing: the push deleted ${ref || 'a ref'}` };
  }
  const before = String(field(payload, 'before') ?? '');
  const defaultBranch = field(payload, 'repository', 'default_branch');
  if (before !== '' && !ZERO_SHA.test(before)) {
    return {
      kind: 'git',
      range: { kind: 'diff', base: before, head: after },
      description: `the pushed commits (${short(before)}..${short(after)})`,
      ...(typeof defaultBranch === 'string' && defaultBranch !== '' ? { push: { ref, defaultBranch } } : {}),
    };
  }
  if (typeof defaultBranch !== 'string' || defaultBranch === '' || ref === `refs/heads/${defaultBranch}`) {
    // The first push of the default branch (or a repository that has none): all of it is new.
    return {
      kind: 'git',
      range: { kind: 'history', head: after },
      description: `the history of the new ${ref || 'ref'}`,
    };
  }
  return {
    kind: 'new-ref',
    defaultBranch,
    head: after,
    description: `the commits of the new ${ref || 'ref'} that are not on ${defaultBranch}`,
  };
}

/**
 * Turns a `new-ref` target into a range: `<remote>/<default>..head` when the default branch is
 * in the clone or can be fetched, else the history of the clone (documented fallback).
 */
export function resolveNewRef(
  repo: string,
  target: Extract<ScanTarget, { kind: 'new-ref' }>,
  remote = 'origin',
): { range: GitRange; description: string } {
  const tracking = `refs/remotes/${remote}/${target.defaultBranch}`;
  if (!hasCommit(repo, tracking)) {
    try {
      git(repo, ['fetch', '--no-tags', '--quiet', remote, `+refs/heads/${target.defaultBranch}:${tracking}`]);
    } catch {
      // No remote, or no such branch there: fall back to the history below.
    }
  }
  if (hasCommit(repo, tracking)) {
    const base = git(repo, ['rev-parse', `${tracking}^{commit}`]).trim();
    return { range: { kind: 'diff', base, head: target.head }, description: target.description };
  }
  return {
    range: { kind: 'history', head: target.head },
    description: `the history of ${target.head.slice(0, 12)} (${remote}/${target.defaultBranch} could not be found or fetched, so the commits of the new ref cannot be told apart from older ones)`,
  };
}

/**
 * A push's range, checked against the clone: when its `before` commit is gone (force-pushed
 * away, so no remote has it), the pushed commits not on the default branch are scanned instead,
 * with a notice saying so. Without a way to tell them apart the range is left for `ensureRange`
 * to explain.
 */
export function resolvePushRange(
  repo: string,
  target: Extract<ScanTarget, { kind: 'git' }>,
  remote = 'origin',
): { range: GitRange; description: string; notice?: string } {
  const { range, description, push } = target;
  if (range.kind !== 'diff' || !push) return { range, description };
  if (!hasCommit(repo, range.base) && /^[0-9a-f]{40}$/.test(range.base)) {
    try {
      git(repo, ['fetch', '--no-tags', '--quiet', remote, range.base]);
    } catch {
      // Gone from the remote too: handled below.
    }
  }
  if (hasCommit(repo, range.base)) return { range, description };
  const gone = `the commit before this push (${short(range.base)}) is not in the repository any more (a force push?)`;
  const shallow = git(repo, ['rev-parse', '--is-shallow-repository']).trim() === 'true';
  if (push.ref !== `refs/heads/${push.defaultBranch}`) {
    const r = resolveNewRef(
      repo,
      {
        kind: 'new-ref',
        defaultBranch: push.defaultBranch,
        head: range.head,
        description: `the pushed commits that are not on ${push.defaultBranch}`,
      },
      remote,
    );
    if (r.range.kind === 'diff' || !shallow)
      return { ...r, notice: `${gone}: scanned ${r.description} instead` };
  } else if (!shallow) {
    const history = `the history of ${short(range.head)}`;
    return {
      range: { kind: 'history', head: range.head },
      description: history,
      notice: `${gone}: scanned ${history} instead`,
    };
  }
  return { range, description };
}

function field(value: unknown, ...path: string[]): unknown {
  let v = value;
  for (const key of path) {
    if (typeof v !== 'object' || v === null) return undefined;
    v = (v as Record<string, unknown>)[key];
  }
  return v;
}

function sha(payload: unknown, eventName: string, ...path: string[]): string {
  const v = field(payload, ...path);
  if (typeof v !== 'string' || !/^[0-9a-f]{40}(?:[0-9a-f]{24})?$/.test(v)) {
    throw new KeyfenceError(
      ErrorCode.INPUT_NOT_FOUND,
      `the ${eventName} event payload has no commit at ${path.join('.')}`,
      { hint: 'GITHUB_EVENT_PATH must point to the JSON payload of the event that started the workflow' },
    );
  }
  return v;
}

function short(rev: string): string {
  return rev.slice(0, 12);
}
