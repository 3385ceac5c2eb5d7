import { existsSync, mkdirSync, readFileSync, realpathSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import {
  createRunner,
  ErrorCode,
  formatUserError,
  isKeyfenceError,
  KeyfenceError,
  type Runner,
  renderUntrusted,
} from '@keyfence/core';
import {
  type Baseline,
  type ConfigInForce,
  ensureCommit,
  ensureRange,
  FINGERPRINT_KEY_ENV,
  findingAnnotations,
  findingsToGithubSummary,
  findingsToJson,
  findingsToSarif,
  findingsToText,
  fingerprintSettings,
  folderOf,
  type GithubRepoContext,
  type GitRange,
  gitTopLevel,
  loadCheckoutSettings,
  loadTrustedSettings,
  matchArchiveArgs,
  mergeScanResults,
  pullRequestBase,
  resolveNewRef,
  resolvePushRange,
  resolveScanTarget,
  type ScanConfig,
  type ScanResult,
  type ScanTarget,
  scanArchives,
  scanGit,
  scanImages,
  scanPaths,
} from '@keyfence/scanner';
import { INPUT_NAMES, readInputs, type ScanInputs } from './inputs.js';
import { VERSION } from './version.js';

/** Runs the action: inputs -> scan -> annotations, job summary, SARIF, outputs, exit code. */
export async function run(): Promise<void> {
  const env = process.env;
  const runner = createRunner({ env });
  try {
    const inputs = readInputs();
    const workspace = resolve(env['GITHUB_WORKSPACE'] ?? process.cwd());
    const root = resolve(workspace, inputs.path);
    if (!existsSync(root)) {
      throw new KeyfenceError(ErrorCode.INPUT_NOT_FOUND, `input "path" names ${root}, which does not exist`, {
        hint: 'paths are relative to the workspace; check out the repository first (actions/checkout)',
      });
    }
    refuseLinkOutOfWorkspace(root, workspace);
    const event = readEvent(env);
    const target = resolveScanTarget({ ...event, mode: inputs.mode });
    const trustedBase = pullRequestBase(event.eventName, event.payload);
    const primary = await scan(target, root, workspace, inputs, trustedBase);
    const extra = await scanBuildOutputs(runner, inputs, workspace, primary.config);
    const result =
      extra.results.length > 0 ? mergeScanResults([primary.result, ...extra.results]) : primary.result;
    result.config = primary.inForce;
    if (primary.notice) runner.notice(primary.notice, { title: 'keyfence' });
    const scanned = [primary.scanned, ...extra.scanned].join('; ');

    const sarifFile = resolve(
      workspace,
      inputs.sarifFile ?? join(env['RUNNER_TEMP'] || tmpdir(), 'keyfence.sarif'),
    );
    writeReport(sarifFile, `${JSON.stringify(findingsToSarif(result, { toolVersion: VERSION }), null, 2)}\n`);
    const reportFile = inputs.reportFile ? resolve(workspace, inputs.reportFile) : '';
    if (reportFile) writeReport(reportFile, findingsToJson(result));

    runner.info(`keyfence scanned ${renderUntrusted(scanned)}`);
    // The report names files the pull request chose: written as untrusted text, commands stopped.
    runner.untrusted(
      findingsToText(result, { color: false })
        .replace(/^(?=.)/gm, '  ')
        .trimEnd(),
    );
    for (const a of findingAnnotations(result.findings, inputs.maxAnnotations))
      runner[a.level](a.message, a.properties);
    if (env['GITHUB_STEP_SUMMARY']) {
      const reports: Record<string, string> = { SARIF: sarifFile };
      if (reportFile) reports['JSON'] = reportFile;
      const repo = repoContext(env);
      runner.appendSummary(findingsToGithubSummary(result, { scanned, reports, ...(repo ? { repo } : {}) }));
    }
    runner.setOutput('findings', String(result.findings.length));
    runner.setOutput('sarif-file', sarifFile);
    runner.setOutput('report-file', reportFile);

    const n = result.findings.length;
    if (n > 0 && inputs.failOn === 'findings') {
      runner.setFailed(
        `keyfence found ${n} leaked secret${n === 1 ? '' : 's'}: revoke and rotate ${n === 1 ? 'it' : 'them'} ` +
          'first, then remove from the code; the job summary lists them all',
      );
    }
  } catch (e) {
    fail(runner, e);
  }
}

async function scan(
  target: ScanTarget,
  root: string,
  workspace: string,
  inputs: ScanInputs,
  trustedBase: string | undefined,
): Promise<{
  result: ScanResult;
  scanned: string;
  config: ScanConfig;
  inForce: ConfigInForce;
  notice?: string;
}> {
  if (target.kind === 'none' || target.kind === 'files') {
    // `mode: files` on a pull request still must not let the pull request pick its settings.
    const repo = trustedBase === undefined ? undefined : topLevel(root);
    const settings =
      repo !== undefined && trustedBase !== undefined
        ? baseSettings(inputs, root, workspace, repo, trustedBase)
        : checkoutSettings(inputs, root, workspace);
    const { config, baseline, inForce } = withFingerprints(inputs, settings);
    const withBaseline = baseline ? { baseline } : {};
    if (target.kind === 'none')
      return { result: emptyResult(config), scanned: target.description, config, inForce };
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
    return { result, scanned: target.description, config, inForce };
  }
  const repo = topLevel(root);
  if (repo === undefined) {
    throw new KeyfenceError(ErrorCode.INPUT_NOT_FOUND, `${root} is not inside a git repository`, {
      hint: 'check out the repository first (actions/checkout), or set `mode: files` to scan the files alone',
    });
  }
  const resolved: { range: GitRange; description: string; notice?: string } =
    target.kind === 'new-ref' ? resolveNewRef(repo, target) : resolvePushRange(repo, target);
  const { range, description } = resolved;
  const { config, baseline, inForce } = withFingerprints(
    inputs,
    gitSettings(inputs, root, workspace, repo, range, trustedBase),
  );
  const result = await scanGit({ repo, range, config, ...(baseline ? { baseline } : {}) });
  return {
    result,
    scanned: description,
    config,
    inForce,
    ...(resolved.notice ? { notice: resolved.notice } : {}),
  };
}

type Settings = { config: ScanConfig; baseline?: Baseline; inForce: ConfigInForce };

/** Keyed fingerprints when `fingerprint-key` (or the environment) gives a key; notices about the baseline. */
function withFingerprints(inputs: ScanInputs, settings: Settings): Settings {
  const key = inputs.fingerprintKey ?? process.env[FINGERPRINT_KEY_ENV];
  const fingerprints = fingerprintSettings(key, settings.baseline);
  settings.config.fingerprint = fingerprints.settings;
  settings.config.warnings.push(...fingerprints.warnings);
  return settings;
}

/**
 * Diff and push scans, and every scan of a pull request, take config and baseline from the base
 * commit: the pull request's changes to them are reported, not obeyed. An explicit `config:`
 * is used, and named as such.
 */
function gitSettings(
  inputs: ScanInputs,
  root: string,
  workspace: string,
  repo: string,
  range: GitRange,
  trustedBase: string | undefined,
): Settings {
  if (range.kind === 'diff') ensureRange(repo, range.base, range.head);
  // A pull request's base is trusted whatever the mode (`mode: history` included).
  const base = trustedBase ?? (range.kind === 'diff' ? range.base : undefined);
  if (base === undefined) return checkoutSettings(inputs, root, workspace);
  return baseSettings(inputs, root, workspace, repo, base);
}

/** Config and baseline as they are at a trusted commit; what the checkout changes is reported. */
function baseSettings(
  inputs: ScanInputs,
  root: string,
  workspace: string,
  repo: string,
  base: string,
): Settings {
  ensureCommit(repo, base);
  return loadTrustedSettings({
    repo,
    base,
    searchDir: folderOf(root),
    ...(inputs.config ? { explicitConfig: resolve(workspace, inputs.config) } : {}),
    ...(inputs.baseline ? { baseline: resolve(workspace, inputs.baseline) } : {}),
  });
}

function checkoutSettings(inputs: ScanInputs, root: string, workspace: string): Settings {
  return loadCheckoutSettings({
    ...(inputs.config ? { explicitConfig: resolve(workspace, inputs.config) } : {}),
    searchFrom: root,
    ...(inputs.baseline
      ? { baseline: { file: resolve(workspace, inputs.baseline), label: inputs.baseline } }
      : {}),
    relativeTo: workspace,
  });
}

/** The `image` and `artifacts` inputs: scanned like files, reported in the summary and SARIF. */
async function scanBuildOutputs(
  runner: Runner,
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
    const platform = inputs.platform ? { platform: inputs.platform } : {};
    results.push(
      await scanImages({ config, ...image, ...platform, insecureRegistries: inputs.insecureRegistries }),
    );
    scanned.push(`the image ${inputs.image}`);
  }
  if (inputs.artifacts.length > 0) {
    const { archives, unmatched, outside } = matchArchiveArgs(inputs.artifacts, workspace, { confine: true });
    for (const arg of outside) {
      runner.warning(
        `input "artifacts": ${JSON.stringify(arg)} leads out of the workspace through a symbolic link; not scanned`,
      );
    }
    // A build that made no artifact this time should not fail the leak check: warn and go on.
    for (const glob of unmatched) {
      runner.warning(
        `input "artifacts": no file matches ${JSON.stringify(glob)} (relative to the workspace); nothing scanned for it`,
      );
    }
    if (archives.length > 0) results.push(await scanArchives({ config, archives }));
    scanned.push(`${archives.length} build artifact${archives.length === 1 ? '' : 's'}`);
  }
  return { results, scanned };
}

/**
 * A `path` inside the workspace must stay there: the pull request writes the checkout, so it can
 * make `docs` a link to the runner's home. A path outside the workspace was the author's choice.
 */
function refuseLinkOutOfWorkspace(root: string, workspace: string): void {
  const within = (dir: string, p: string): boolean => p === dir || p.startsWith(dir + sep);
  if (!within(workspace, root)) return;
  const real = realpathSync(workspace);
  if (within(real, realpathSync(root))) return;
  throw new KeyfenceError(
    ErrorCode.USAGE,
    `input "path": ${relative(workspace, root)} is a symbolic link that leads out of the workspace; not scanned`,
    { hint: 'a pull request can commit such a link; name the folder the link points at if you mean it' },
  );
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
function fail(runner: Runner, thrown: unknown): void {
  const f = formatUserError(thrown, INPUT_NAMES);
  if (isKeyfenceError(thrown)) {
    runner.setFailed(f.hint ? `${f.message}\nhint: ${f.hint}` : f.message);
    return;
  }
  runner.setFailed(`keyfence: internal error: ${f.message} (please report this as a bug, with the log)`);
  if (f.stack) runner.info(f.stack);
}
