import { existsSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { error, info, setFailed, setOutput, summary, warning } from '@actions/core';
import {
  addMaskCommands,
  ErrorCode,
  formatUserError,
  isKeyfenceError,
  KeyfenceError,
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
    const onSecret = createMasker();
    await obtainIdentities(inputs, onSecret);
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
    writeLog(report);
    setOutput('rotated', String(report.counts.rotated));
    setOutput('failed', String(report.counts.failed));
    setOutput('skipped', String(report.counts.skipped));
    setOutput('audit-file', report.auditFile ?? '');
    if (env['GITHUB_STEP_SUMMARY']) await summary.addRaw(reportTable(report)).write();
    // Every runbook has run by now (a failure does not stop the others); the job still fails.
    if (report.counts.failed > 0) process.exitCode = 1;
  } catch (thrown) {
    fail(thrown);
  }
}

/**
 * With `role-to-assume` and/or `url`, obtains the job's identities (the code action-fetch uses) and
 * hands them to the engine through the variables the SDK and the Vault store read, each masked first.
 * No session policy unless the user gives one: rotation writes.
 */
async function obtainIdentities(inputs: RotateInputs, onSecret: (value: SecretValue) => void): Promise<void> {
  const env = process.env;
  const options = { env, onSecret, onInfo: info };
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

/** Registers every value and its derived forms with the runner's masker, each form once, before anything prints. */
function createMasker(): (value: SecretValue) => void {
  const sent = new Set<string>();
  return (value) => {
    for (const command of addMaskCommands(value.reveal())) {
      if (sent.has(command)) continue;
      sent.add(command);
      process.stdout.write(`${command}\n`);
    }
  };
}

/** The log: one line per runbook with its notes, indented so no note can pass for a workflow command; annotations for warnings and failures. */
function writeLog(report: RotateReport): void {
  for (const fileWarning of report.fileWarnings) warning(fileWarning);
  for (const result of report.results) {
    info(resultLine(result));
    for (const note of result.notes) info(`    ${note}`);
    for (const text of result.warnings) warning(text, { title: `keyfence rotate: ${result.runbook}` });
    if (result.error !== undefined) {
      const hint = result.error.hint === undefined ? '' : `\nHint: ${result.error.hint}`;
      error(`${result.runbook} failed: ${result.error.message} [${result.error.code}]${hint}`, {
        title: `keyfence rotate: ${result.runbook} failed`,
      });
    }
  }
  const { rotated, skipped, failed } = report.counts;
  const idle = report.mode === 'plan' ? 'planned' : 'with nothing to do';
  info(`keyfence ${report.mode}: ${rotated} rotated, ${skipped} ${idle}, ${failed} failed`);
  if (report.auditFile !== undefined) info(`audit log: ${report.auditFile}`);
}

/** The one top-level catch: user errors (a bad input, a bad runbook file) as `::error::` with their hint and no stack; bugs with it. */
function fail(thrown: unknown): void {
  const f = formatUserError(thrown);
  if (isKeyfenceError(thrown)) {
    setFailed(f.hint ? `${f.message}\nHint: ${f.hint}` : f.message);
    return;
  }
  setFailed(`keyfence: internal error: ${f.message} (please report this as a bug, with the log)`);
  if (f.stack) info(f.stack);
}
