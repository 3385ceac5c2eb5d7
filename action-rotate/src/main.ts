import { existsSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import {
  createRunner,
  ErrorCode,
  formatUserError,
  isKeyfenceError,
  KeyfenceError,
  type Runner,
  type SecretValue,
} from '@keyfence/core';
import {
  assertIdTokenForInputs,
  assumeJobRole,
  awsCredentialsEnv,
  loginToVaultAsJob,
} from '@keyfence/identity';
import { type RotateReport, reportTable, resultLine, rotateRunbooks } from '@keyfence/rotation';
import { type RotateInputs, readInputs } from './inputs.js';

const AUDIT_FILE_NAME = 'keyfence-rotate-audit.jsonl';

/** Runs the action: inputs -> rotateRunbooks -> log, annotations, job summary, outputs, exit code. */
export async function run(): Promise<void> {
  const env = process.env;
  // The SDK warns that future versions need a newer Node; the user of an action cannot act on that.
  env['AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'] ??= 'true';
  const runner = createRunner({ env });
  try {
    const inputs = readInputs();
    // No ID token (no `permissions: id-token: write`): fail before anything else, naming the permission.
    assertIdTokenForInputs(inputs, env);
    const workspace = resolve(env['GITHUB_WORKSPACE'] ?? process.cwd());
    if (!existsSync(resolve(workspace, inputs.runbooks))) {
      throw new KeyfenceError(
        ErrorCode.INPUT_NOT_FOUND,
        `input "runbooks" names ${inputs.runbooks}, which does not exist in the workspace (${workspace})`,
        { hint: 'paths are relative to the workspace; check out the repository first (actions/checkout)' },
      );
    }
    const auditFile = resolve(
      workspace,
      inputs.auditFile ?? join(env['RUNNER_TEMP'] || tmpdir(), AUDIT_FILE_NAME),
    );
    const onSecret = (value: SecretValue): void => runner.mask(value);
    await obtainIdentities(inputs, onSecret, runner);
    const report = await rotateRunbooks({
      // Named as the workflow writes it, so that errors say `rotation.yaml:4:7`, not a runner path.
      runbooksFile: inputs.runbooks,
      readText: (file) => readFileSync(resolve(workspace, file), 'utf8'),
      only: inputs.only,
      mode: inputs.mode,
      env,
      auditFile,
      onSecret,
    });
    writeLog(runner, report);
    runner.setOutput('rotated', String(report.counts.rotated));
    runner.setOutput('failed', String(report.counts.failed));
    runner.setOutput('skipped', String(report.counts.skipped));
    runner.setOutput('audit-file', report.auditFile ?? '');
    runner.appendSummary(reportTable(report));
    // Every runbook has run by now (a failure does not stop the others); the job still fails.
    if (report.counts.failed > 0) process.exitCode = 1;
  } catch (thrown) {
    fail(runner, thrown);
  }
}

/**
 * With `role-to-assume` and/or `url`, obtains the job's identities (the code action-fetch uses) and
 * hands them to the engine through the variables the SDK and the Vault store read, each masked first.
 * No session policy unless the user gives one: rotation writes.
 */
async function obtainIdentities(
  inputs: RotateInputs,
  onSecret: (value: SecretValue) => void,
  runner: Runner,
): Promise<void> {
  const env = process.env;
  const options = { env, onSecret, onInfo: runner.info };
  const { aws, vault } = inputs;
  if (aws.roleToAssume !== undefined && aws.region !== undefined) {
    const { credentials } = await assumeJobRole(
      { ...aws, roleToAssume: aws.roleToAssume, region: aws.region },
      options,
    );
    for (const [name, value] of awsCredentialsEnv(credentials, aws.region)) {
      env[name] = typeof value === 'string' ? value : value.reveal();
    }
  }
  if (vault !== undefined) {
    const login = await loginToVaultAsJob(vault, options);
    env['VAULT_ADDR'] = vault.url;
    env['VAULT_TOKEN'] = login.token.reveal();
    if (vault.namespace !== undefined) env['VAULT_NAMESPACE'] = vault.namespace;
  }
}

/** The log: one line per runbook with its notes, indented so no note can pass for a workflow command; annotations for warnings and failures. */
function writeLog(runner: Runner, report: RotateReport): void {
  for (const fileWarning of report.fileWarnings) runner.warning(fileWarning);
  for (const result of report.results) {
    runner.info(resultLine(result));
    for (const note of result.notes) runner.info(`    ${note}`);
    for (const text of result.warnings) runner.warning(text, { title: `keyfence rotate: ${result.runbook}` });
    if (result.error !== undefined) {
      const hint = result.error.hint === undefined ? '' : `\nHint: ${result.error.hint}`;
      runner.error(`${result.runbook} failed: ${result.error.message} [${result.error.code}]${hint}`, {
        title: `keyfence rotate: ${result.runbook} failed`,
      });
    }
  }
  const { rotated, skipped, failed } = report.counts;
  const idle = report.mode === 'plan' ? 'planned' : 'with nothing to do';
  runner.info(`keyfence ${report.mode}: ${rotated} rotated, ${skipped} ${idle}, ${failed} failed`);
  if (report.auditFile !== undefined) runner.info(`audit log: ${report.auditFile}`);
}

/** The one top-level catch: user errors (a bad input, a bad runbook file) as `::error::` with their hint and no stack; bugs with it. */
function fail(runner: Runner, thrown: unknown): void {
  const f = formatUserError(thrown);
  if (isKeyfenceError(thrown)) {
    runner.setFailed(f.hint ? `${f.message}\nHint: ${f.hint}` : f.message);
    return;
  }
  runner.setFailed(`keyfence: internal error: ${f.message} (please report this as a bug, with the log)`);
  if (f.stack) runner.info(f.stack);
}
