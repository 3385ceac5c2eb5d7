import { resolve } from 'node:path';
import { createRunner, writeJson, writeText } from '@keyfence/core';
import {
  type RotateMode,
  type RotateReport,
  reportTable,
  resultLine,
  rotateRunbooks,
} from '@keyfence/rotation';
import { parseCommandArgs, parseFormat, usageError } from '../args.js';
import { EXIT, type Io } from '../io.js';

const HELP = `Usage: keyfence rotate --runbooks FILE [options]

Rotates every credential the runbook file names: create a new value, store it in the vault as
pending, set it upstream, test it, promote it, and revoke the old value after its grace period.
A crash or a second run at the same moment loses nothing: the next run resumes from the vault.

Options:
  --runbooks FILE      the runbook file (YAML; see docs/runbooks.md)
  --only NAME          only the runbooks with this name or glob (repeatable, or comma-separated)
  --dry-run, --plan    say what each runbook would do; change nothing anywhere
  --rollback           make each selected runbook's previous value current again (one step)
  --audit FILE         append the audit log (JSON lines, never values) to FILE
                       (default: keyfence-rotate-audit.jsonl, in RUNNER_TEMP on a runner)
  --format text|json   report format (default: text)

Credentials come from the environment: the AWS SDK's (AWS_REGION, AWS_ENDPOINT_URL, ...) for
aws-secrets-manager, VAULT_ADDR / VAULT_TOKEN / VAULT_NAMESPACE for vault-kv2.

Exit codes: 0 every runbook rotated or had nothing to do, 1 one failed, 2 bad runbook file or usage.
`;

function splitList(values: string[] | undefined): string[] {
  return (values ?? [])
    .flatMap((value) => value.split(','))
    .map((value) => value.trim())
    .filter(Boolean);
}

function textReport(report: RotateReport): string {
  const lines: string[] = [];
  for (const result of report.results) {
    lines.push(resultLine(result));
    for (const note of result.notes) lines.push(`    ${note}`);
    for (const warning of result.warnings) lines.push(`    warning: ${warning}`);
    if (result.error !== undefined) {
      lines.push(`    error: ${result.error.message} [${result.error.code}]`);
      if (result.error.hint !== undefined) lines.push(`    hint: ${result.error.hint}`);
    }
  }
  const { rotated, skipped, failed } = report.counts;
  lines.push(
    `${rotated} rotated, ${skipped} ${report.mode === 'plan' ? 'planned or idle' : 'with nothing to do'}, ${failed} failed`,
  );
  if (report.auditFile !== undefined) lines.push(`audit log: ${report.auditFile}`);
  return `${lines.join('\n')}\n`;
}

/** `keyfence rotate`: runs the runbooks of a file (or plans them, or rolls them back one step). */
export async function runRotate(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parseCommandArgs('rotate', argv, {
    runbooks: { type: 'string' },
    only: { type: 'string', multiple: true },
    'dry-run': { type: 'boolean' },
    plan: { type: 'boolean' },
    rollback: { type: 'boolean' },
    audit: { type: 'string' },
    format: { type: 'string', short: 'f' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) {
    writeText(io.stdout, HELP);
    return EXIT.clean;
  }
  if (positionals.length > 0)
    throw usageError(`unexpected argument "${positionals[0]}"`, 'see `keyfence rotate --help`');
  if (values.runbooks === undefined)
    throw usageError('--runbooks FILE is required', 'see `keyfence rotate --help`');
  const dryRun = values['dry-run'] === true || values.plan === true;
  if (dryRun && values.rollback)
    throw usageError('--dry-run and --rollback do not go together', 'run one, then the other');
  const format = parseFormat(values.format, ['text', 'json'] as const, 'text');
  const env = io.env ?? process.env;
  const onRunner = env['GITHUB_ACTIONS'] === 'true';
  const runner = createRunner({ env, out: io.stdout });
  const mode: RotateMode = dryRun ? 'plan' : values.rollback ? 'rollback' : 'rotate';
  const auditFile = resolve(
    io.cwd,
    values.audit ?? resolve(env['RUNNER_TEMP'] ?? io.cwd, 'keyfence-rotate-audit.jsonl'),
  );

  const report = await rotateRunbooks({
    runbooksFile: resolve(io.cwd, values.runbooks),
    only: splitList(values.only),
    mode,
    env,
    auditFile,
    // On a runner every value is masked before anything could print it.
    ...(onRunner ? { onSecret: (value) => runner.mask(value) } : {}),
  });

  for (const warning of report.fileWarnings) writeText(io.stderr, `keyfence: warning: ${warning}\n`);
  if (format === 'json') writeJson(io.stdout, `${JSON.stringify(report, null, 2)}\n`);
  else writeText(io.stdout, textReport(report));
  if (onRunner) {
    for (const result of report.results) {
      for (const warning of result.warnings)
        runner.warning(warning, { title: `keyfence rotate ${result.runbook}` });
      if (result.error !== undefined) {
        const hint = result.error.hint === undefined ? '' : `\n${result.error.hint}`;
        runner.error(result.error.message + hint, { title: `keyfence rotate ${result.runbook}` });
      }
    }
    runner.appendSummary(reportTable(report));
  }
  return report.counts.failed > 0 ? EXIT.findings : EXIT.clean;
}
