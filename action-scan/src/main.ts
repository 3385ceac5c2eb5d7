import { existsSync, mkdirSync, readFileSync, realpathSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { error, info, notice, setFailed, setOutput, summary, warning } from '@actions/core';
import { ErrorCode, formatUserError, isKeyfenceError, KeyfenceError } from '@keyfence/core';
import {
  defaultConfig,
  expandArchiveArgs,
  FINGERPRINT_KEY_ENV,
  findConfigFile,
  findingAnnotations,
  findingsToGithubSummary,
  findingsToJson,
  findingsToSarif,
  findingsToText,
  fingerprintSettings,
  type GithubRepoContext,
  gitTopLevel,
  loadConfig,
  mergeScanResults,
  readBaseline,
  resolveNewRef,
  resolveScanTarget,
  type ScanConfig,
  type ScanResult,
  type ScanTarget,
  scanArchives,
  scanGit,
  scanImages,
  scanPaths,
} from '@keyfence/scanner';
import { readInputs, type ScanInputs } from './inputs.js';
import { VERSION } from './version.js';

const annotate = { error, warning, notice };

/** Runs the action: inputs -> scan -> annotations, job summary, SARIF, outputs, exit code. */
export async function run(): Promise<void> {
  const env = process.env;
  try {
    const inputs = readInputs();
    const workspace = resolve(env['GITHUB_WORKSPACE'] ?? process.cwd());
    const root = resolve(workspace, inputs.path);
    if (!existsSync(root)) {
      throw new KeyfenceError(ErrorCode.INPUT_NOT_FOUND, `input "path" names ${root}, which does not exist`, {
        hint: 'paths are relative to the workspace; check out the repository first (actions/checkout)',
      });
    }
    const target = resolveScanTarget({ ...readEvent(env), mode: inputs.mode });
    const primary = await scan(target, root, workspace, inputs);
    const extra = await scanBuildOutputs(inputs, workspace, readConfig(inputs, root, workspace));
    const result =
      extra.results.length > 0 ? mergeScanResults([primary.result, ...extra.results]) : primary.result;
    const scanned = [primary.scanned, ...extra.scanned].join('; ');

    const sarifFile = resolve(
      workspace,
      inputs.sarifFile ?? join(env['RUNNER_TEMP'] || tmpdir(), 'keyfence.sarif'),
    );
    writeReport(sarifFile, `${JSON.stringify(findingsToSarif(result, { toolVersion: VERSION }), null, 2)}\n`);
    const reportFile = inputs.reportFile ? resolve(workspace, inputs.reportFile) : '';
    if (reportFile) writeReport(reportFile, findingsToJson(result));

    // Indented, so that no file name in the log can pass for a workflow command.
    info(`keyfence scanned ${scanned}`);
    info(
      findingsToText(result, { color: false })
        .replace(/^(?=.)/gm, '  ')
        .trimEnd(),
    );
    for (const a of findingAnnotations(result.findings, inputs.maxAnnotations))
      annotate[a.level](a.message, a.properties);
    if (env['GITHUB_STEP_SUMMARY']) {
      const reports: Record<string, string> = { SARIF: sarifFile };
      if (reportFile) reports['JSON'] = reportFile;
      const repo = repoContext(env);
      await summary
        .addRaw(findingsToGithubSummary(result, { scanned, reports, ...(repo ? { repo } : {}) }))
        .write();
    }
    setOutput('findings', String(result.findings.length));
    setOutput('sarif-file', sarifFile);
    setOutput('report-file', reportFile);

    const n = result.findings.length;
    if (n > 0 && inputs.failOn === 'findings') {
      setFailed(
        `keyfence found ${n} leaked secret${n === 1 ? '' : 's'}: revoke and rotate ${n === 1 ? 'it' : 'them'} ` +
          'first, then remove from the code; the job summary lists them all',
      );
    }
  } catch (e) {
    fail(e);
  }
}

async function scan(
  target: ScanTarget,
  root: string,
  workspace: string,
  inputs: ScanInputs,
): Promise<{ result: ScanResult; scanned: string }> {
  const config = readConfig(inputs, root, workspace);
  const baseline = inputs.baseline ? readBaseline(resolve(workspace, inputs.baseline)) : undefined;
  const key = inputs.fingerprintKey ?? process.env[FINGERPRINT_KEY_ENV];
  const fingerprints = fingerprintSettings(key, baseline);
  config.fingerprint = fingerprints.settings;
  config.warnings.push(...fingerprints.warnings);
  const withBaseline = baseline ? { baseline } : {};
  if (target.kind === 'none') return { result: emptyResult(config), scanned: target.description };
  if (target.kind === 'files') {
    const result = await scanPaths({ paths: [root], config, ...withBaseline });
    // Reports name files from the repository root, as annotations and code scanning expect.
    const top = topLevel(root) ?? realpathSync(workspace);
    // git prints real paths: compare like with like where the workspace sits behind a symlink.
    const base = realpathSync(statSync(root).isDirectory() ? root : dirname(root));
    for (const f of result.findings) {
      const abs = isAbsolute(f.location.path)
        ? realpathSync(f.location.path)
        : resolve(base, f.location.path);
      f.location.path = relative(top, abs).split(sep).join('/');
    }
    return { result, scanned: target.description };
  }
  const repo = topLevel(root);
  if (repo === undefined) {
    throw new KeyfenceError(ErrorCode.INPUT_NOT_FOUND, `${root} is not inside a git repository`, {
      hint: 'check out the repository first (actions/checkout), or set `mode: files` to scan the files alone',
    });
  }
  const { range, description } =
    target.kind === 'new-ref'
      ? resolveNewRef(repo, target)
      : { range: target.range, description: target.description };
  return { result: await scanGit({ repo, range, config, ...withBaseline }), scanned: description };
}

/** The `image` and `artifacts` inputs: scanned like files, reported in the summary and SARIF. */
async function scanBuildOutputs(
  inputs: ScanInputs,
  workspace: string,
  config: ScanConfig,
): Promise<{ results: ScanResult[]; scanned: string[] }> {
  const results: ScanResult[] = [];
  const scanned: string[] = [];
  if (inputs.image) {
    const local = resolve(workspace, inputs.image);
    const image = existsSync(local)
      ? { imageArchives: [{ file: local, name: inputs.image }] }
      : { images: [inputs.image] };
    results.push(await scanImages({ config, ...image }));
    scanned.push(`the image ${inputs.image}`);
  }
  if (inputs.artifacts.length > 0) {
    const archives = expandArchiveArgs(inputs.artifacts, workspace);
    results.push(await scanArchives({ config, archives }));
    scanned.push(`${archives.length} build artifact${archives.length === 1 ? '' : 's'}`);
  }
  return { results, scanned };
}

/** The config given, else `.keyfence.yaml` where the scan starts (as the CLI does), else defaults. */
function readConfig(inputs: ScanInputs, root: string, workspace: string): ScanConfig {
  if (inputs.config) return loadConfig(resolve(workspace, inputs.config));
  const found = findConfigFile(statSync(root).isDirectory() ? root : dirname(root));
  return found ? loadConfig(found) : defaultConfig();
}

function readEvent(env: NodeJS.ProcessEnv): { eventName: string; payload: unknown } {
  const eventName = env['GITHUB_EVENT_NAME'] ?? '';
  const file = env['GITHUB_EVENT_PATH'];
  if (!file) return { eventName, payload: {} };
  try {
    return { eventName, payload: JSON.parse(readFileSync(file, 'utf8')) };
  } catch (e) {
    throw new KeyfenceError(ErrorCode.INPUT_UNREADABLE, `cannot read the event payload at ${file}`, {
      hint: 'GITHUB_EVENT_PATH must name the JSON file the runner writes for the triggering event',
      cause: e,
    });
  }
}

function repoContext(env: NodeJS.ProcessEnv): GithubRepoContext | undefined {
  const serverUrl = env['GITHUB_SERVER_URL'];
  const repository = env['GITHUB_REPOSITORY'];
  if (!serverUrl || !repository) return undefined;
  const sha = env['GITHUB_SHA'];
  return { serverUrl, repository, ...(sha ? { sha } : {}) };
}

function topLevel(dir: string): string | undefined {
  try {
    return gitTopLevel(statSync(dir).isDirectory() ? dir : dirname(dir));
  } catch {
    return undefined;
  }
}

function writeReport(file: string, text: string): void {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, text);
}

function emptyResult(config: ScanConfig): ScanResult {
  return {
    findings: [],
    problems: [],
    warnings: config.warnings,
    stats: { files: 0, bytes: 0, durationMs: 0, skippedFiles: 0, rules: 0, baselined: 0, commits: 0 },
  };
}

/** The one top-level catch: user errors as `::error::` with their hint and no stack; bugs with it. */
function fail(thrown: unknown): void {
  const f = formatUserError(thrown);
  if (isKeyfenceError(thrown)) {
    setFailed(f.hint ? `${f.message}\nhint: ${f.hint}` : f.message);
    return;
  }
  setFailed(`keyfence: internal error: ${f.message} (please report this as a bug, with the log)`);
  if (f.stack) info(f.stack);
}
