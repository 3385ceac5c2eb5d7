import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { ErrorCode, KeyfenceError, type SecretValue } from '@keyfence/core';
import { createRotationTarget, type RotationTarget } from './connect.js';
import { type AuditSink, JsonlAuditFile, MemoryAudit, teeAudit } from './engine/audit.js';
import { RotationEngine, type RunbookResult } from './engine/engine.js';
import { createNotifier } from './notify.js';
import { formatRunbookIssue, loadRunbooks, type RunbookIssue } from './runbook/load.js';
import type { Runbook } from './runbook/types.js';

type Env = Readonly<Record<string, string | undefined>>;

export type RotateMode = 'rotate' | 'plan' | 'rollback';

export interface RotateRunbooksOptions {
  runbooksFile: string;
  /** Runbook names or globs (`*`, `?`); every runbook when absent. */
  only?: readonly string[];
  mode?: RotateMode;
  env: Env;
  /** Where the JSON-lines audit log is appended. */
  auditFile?: string;
  /** Called with every value read or made (for masking). */
  onSecret?: (value: SecretValue) => void;
  /** Builds the vault and upstream of a runbook; the real clients by default. */
  connect?: (runbook: Runbook) => RotationTarget | Promise<RotationTarget>;
  now?: () => Date;
  sleep?: (ms: number) => Promise<void>;
  /** Reads the runbook file; the file system by default. */
  readText?: (file: string) => string;
}

export interface RotateReport {
  runId: string;
  mode: RotateMode;
  results: RunbookResult[];
  /** Warnings about the runbook file itself. */
  fileWarnings: string[];
  counts: { rotated: number; skipped: number; failed: number };
  auditFile?: string;
}

function globToRegex(glob: string): RegExp {
  const body = glob
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replaceAll('*', '.*')
    .replaceAll('?', '.');
  return new RegExp(`^${body}$`);
}

/** The runbooks `only` selects; a pattern that matches nothing is a usage error (a typo must not rotate nothing quietly). */
export function selectRunbooks(runbooks: readonly Runbook[], only: readonly string[] | undefined): Runbook[] {
  if (only === undefined || only.length === 0) return [...runbooks];
  const patterns = only.map((pattern) => ({ pattern, regex: globToRegex(pattern) }));
  const unmatched = patterns.filter(({ regex }) => !runbooks.some((runbook) => regex.test(runbook.name)));
  if (unmatched.length > 0) {
    throw new KeyfenceError(
      ErrorCode.USAGE,
      `--only ${unmatched.map(({ pattern }) => `"${pattern}"`).join(', ')} matches no runbook.`,
      {
        hint: `Runbooks in the file: ${runbooks.map((runbook) => runbook.name).join(', ')}.`,
      },
    );
  }
  return runbooks.filter((runbook) => patterns.some(({ regex }) => regex.test(runbook.name)));
}

function ownerFromEnv(env: Env): string {
  const { GITHUB_SERVER_URL: server, GITHUB_REPOSITORY: repository, GITHUB_RUN_ID: run } = env;
  if (repository && run) return `${server ?? 'https://github.com'}/${repository}/actions/runs/${run}`;
  return `${hostname()} pid ${process.pid}`;
}

/**
 * Runs every selected runbook one after the other (a failure does not stop the others) and returns
 * what each did. A bad runbook file throws a KeyfenceError before anything runs (exit 2).
 */
export async function rotateRunbooks(options: RotateRunbooksOptions): Promise<RotateReport> {
  const loaded = loadRunbooks(options.runbooksFile, options.readText);
  const selected = selectRunbooks(loaded.runbooks, options.only);
  const mode = options.mode ?? 'rotate';
  const runId = randomUUID();
  const memory = new MemoryAudit();
  const sinks: AuditSink[] = [memory];
  if (options.auditFile !== undefined && mode !== 'plan') sinks.push(new JsonlAuditFile(options.auditFile));
  const audit = teeAudit(...sinks);
  const connect =
    options.connect ?? ((runbook: Runbook) => createRotationTarget(runbook, options.env, options.onSecret));
  const results: RunbookResult[] = [];
  for (const runbook of selected) {
    let target: RotationTarget;
    try {
      target = await connect(runbook);
    } catch (error) {
      const keyfence = error instanceof KeyfenceError ? error : undefined;
      results.push({
        runbook: runbook.name,
        outcome: 'failed',
        notes: [],
        warnings: [],
        versions: {},
        error: {
          code: keyfence?.code ?? ErrorCode.INTERNAL,
          message: error instanceof Error ? error.message : String(error),
          ...(keyfence?.hint === undefined ? {} : { hint: keyfence.hint }),
        },
        durationMs: 0,
      });
      continue;
    }
    const engine = new RotationEngine(runbook, {
      ...target,
      audit,
      runId,
      owner: ownerFromEnv(options.env),
      ...(options.now === undefined ? {} : { now: options.now }),
      ...(options.sleep === undefined ? {} : { sleep: options.sleep }),
      ...(options.onSecret === undefined ? {} : { onSecret: options.onSecret }),
      ...(runbook.notify === undefined ? {} : { notify: createNotifier(runbook.notify, options.env) }),
    });
    results.push(
      await (mode === 'plan' ? engine.plan() : mode === 'rollback' ? engine.rollback() : engine.rotate()),
    );
  }
  const count = (outcomes: string[]) => results.filter((result) => outcomes.includes(result.outcome)).length;
  return {
    runId,
    mode,
    results,
    fileWarnings: loaded.warnings.map((issue: RunbookIssue) => formatRunbookIssue(issue)),
    counts: {
      rotated: count(['rotated', 'rolled-back']),
      skipped: count(['nothing-to-do', 'planned']),
      failed: count(['failed']),
    },
    ...(options.auditFile !== undefined && mode !== 'plan' ? { auditFile: options.auditFile } : {}),
  };
}

function cell(text: string): string {
  return text.replaceAll('|', '\\|').replaceAll('\n', ' ');
}

const OUTCOME_SYMBOL: Record<string, string> = {
  rotated: '✔',
  'rolled-back': '↩',
  'nothing-to-do': '·',
  planned: '?',
  failed: '✘',
};

/** One runbook's result in one line, for logs: `✔ orders-db: rotated, current v2 (1.3s)`. */
export function resultLine(result: RunbookResult): string {
  const current = result.versions.current === undefined ? '' : `, current ${result.versions.current}`;
  return `${OUTCOME_SYMBOL[result.outcome] ?? '-'} ${result.runbook}: ${result.outcome}${current} (${(result.durationMs / 1000).toFixed(1)}s)`;
}

/** A Markdown table of a report, for a job summary. */
export function reportTable(report: RotateReport): string {
  const rows = report.results.map((result) => {
    const versions = [
      result.versions.current && `current ${result.versions.current}`,
      result.versions.previous && `previous ${result.versions.previous}`,
      result.versions.pending && `pending ${result.versions.pending}`,
    ]
      .filter(Boolean)
      .join(', ');
    const details = [
      ...result.notes,
      ...result.warnings.map((warning) => `⚠️ ${warning}`),
      ...(result.error ? [`❌ ${result.error.message}`] : []),
    ].join('<br>');
    return `| ${cell(result.runbook)} | ${result.outcome} | ${cell(versions)} | ${(result.durationMs / 1000).toFixed(1)}s | ${cell(details)} |`;
  });
  return [
    `### keyfence ${report.mode}: ${report.counts.rotated} rotated, ${report.counts.skipped} skipped, ${report.counts.failed} failed`,
    '',
    '| Runbook | Outcome | Versions | Time | Details |',
    '| --- | --- | --- | --- | --- |',
    ...rows,
    '',
  ].join('\n');
}
