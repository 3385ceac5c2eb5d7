// The scanners compared by the benchmark: keyfence itself and the peer tools.
//
// Peers are installed on demand into a cache folder outside the repository
// (default ~/.cache/keyfence-bench/tools, or $KEYFENCE_BENCH_CACHE/tools) with each
// ecosystem's ordinary client: `go install`/`go build` for Go modules, pip in a venv for
// Python packages, `npm install --prefix` for npm packages. Nothing here is committed.
//
// Every tool entry has:
//   bin()                     -> path of the executable
//   install()                 -> { ok, cached, seconds, reason }
//   version()                 -> string
//   filesArgs(target, out)    -> { cmd, args, cwd?, stdoutToOut? } for a plain-folder scan
//   historyArgs(repo, out)    -> the same for a scan of every commit of a git repository
//                                (only tools that have such a mode)
//   run(target, out, opts)    -> timed run (see exec.mjs); opts.spec overrides filesArgs
//   parse(out, root)          -> [{ file, line, commit? }] with file relative to root,
//                                '/'-separated; commit when the report names one

import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import { capture, runLogged, timedRun, which } from './exec.mjs';

const NOT_INSTALLED = { ok: false, reason: 'not installed and --no-install given' };

export function defaultCacheDir() {
  return process.env.KEYFENCE_BENCH_CACHE
    ? resolve(process.env.KEYFENCE_BENCH_CACHE)
    : join(homedir(), '.cache', 'keyfence-bench');
}

/** Normalises a reported path to a '/'-separated path relative to the scanned root. */
export function relToRoot(file, root) {
  if (!file) return '';
  let p = String(file);
  if (p.startsWith('file://')) p = p.slice('file://'.length);
  const rel = isAbsolute(p) ? relative(root, p) : p;
  return rel
    .split(sep)
    .join('/')
    .replace(/^(\.\/)+/, '');
}

function readJson(file) {
  const text = readFileSync(file, 'utf8').trim();
  return text === '' ? null : JSON.parse(text);
}

// Go builds are CPU heavy on a 2-core machine: run them one after another.
let goQueue = Promise.resolve();
function inGoQueue(fn) {
  const next = goQueue.then(fn, fn);
  goQueue = next.catch(() => {});
  return next;
}

function goModuleVersion(bin) {
  const out = capture('go', ['version', '-m', bin]);
  const m = out && /^\s*mod\s+\S+\s+(v\S+)/m.exec(out);
  return m ? m[1] : null;
}

export function createTools({ repoRoot, cacheDir = defaultCacheDir(), log = () => {} }) {
  const toolsDir = join(cacheDir, 'tools');
  const binDir = join(toolsDir, 'bin');
  const logsDir = join(cacheDir, 'logs');
  mkdirSync(binDir, { recursive: true });
  mkdirSync(logsDir, { recursive: true });
  const installLog = (name) => join(logsDir, `install-${name}.log`);
  const goEnv = () => ({ ...process.env, GOBIN: binDir, GOFLAGS: process.env.GOFLAGS ?? '-buildvcs=false' });

  const timed = async (body) => {
    const startedAt = Date.now();
    const r = await body();
    return { ...r, seconds: (Date.now() - startedAt) / 1000 };
  };

  function makeTool(def) {
    const tool = {
      ...def,
      async run(target, out, { spec, timeoutSec = 1800, logFile } = {}) {
        const s = spec ?? tool.filesArgs(target, out);
        return timedRun({
          cmd: s.cmd,
          args: s.args,
          cwd: s.cwd,
          env: s.env,
          stdoutFile: s.stdoutToOut ? out : undefined,
          logFile: logFile ?? `${out}.log`,
          timeoutSec,
        });
      },
    };
    return tool;
  }

  // -------------------------------------------------------------------------
  const keyfenceBin = join(repoRoot, 'packages', 'cli', 'bin', 'keyfence.js');
  const keyfence = makeTool({
    name: 'keyfence',
    bin: () => keyfenceBin,
    okCodes: [0, 1],
    async install() {
      if (!existsSync(keyfenceBin)) {
        return {
          ok: false,
          reason: 'CLI not built: packages/cli/bin/keyfence.js is missing (run `npm run build`)',
        };
      }
      const probe = spawnSync(process.execPath, [keyfenceBin, '--version'], {
        encoding: 'utf8',
        timeout: 60_000,
      });
      if (probe.error || probe.status !== 0) {
        const lines = `${probe.stderr ?? ''}\n${probe.stdout ?? ''}`.split('\n').map((l) => l.trim());
        const why = lines.find((l) => /error/i.test(l)) ?? lines.filter(Boolean).pop() ?? 'no output';
        return {
          ok: false,
          reason: `CLI does not start (\`keyfence --version\` failed: ${why}); run \`npm run build\``,
        };
      }
      return { ok: true, cached: true };
    },
    version() {
      let v = '?';
      try {
        v =
          JSON.parse(readFileSync(join(repoRoot, 'packages', 'cli', 'package.json'), 'utf8')).version ?? '?';
      } catch {
        // keep '?'
      }
      const sha = capture('git', ['-C', repoRoot, 'rev-parse', '--short', 'HEAD']);
      const dirty = capture('git', ['-C', repoRoot, 'status', '--porcelain', '--', 'packages']);
      return `${v}${sha ? ` (${sha}${dirty ? '+dirty' : ''})` : ''}`;
    },
    filesArgs(target, out) {
      return {
        cmd: process.execPath,
        args: [keyfenceBin, 'scan', target, '--format', 'json', '--output', out],
      };
    },
    historyArgs(repo, out) {
      return {
        cmd: process.execPath,
        args: [keyfenceBin, 'scan', repo, '--history', '--format', 'json', '--output', out],
      };
    },
    parse(out, root) {
      const doc = readJson(out);
      const findings = Array.isArray(doc) ? doc : (doc?.findings ?? []);
      return findings.map((f) => ({
        file: relToRoot(f.location?.path ?? f.path ?? f.file, root),
        line: f.location?.line ?? f.line ?? 0,
        commit: f.location?.commit,
      }));
    },
  });

  // -------------------------------------------------------------------------
  const gitleaksBin = join(binDir, 'gitleaks');
  const gitleaks = makeTool({
    name: 'gitleaks',
    bin: () => gitleaksBin,
    okCodes: [0, 1],
    async install({ allowInstall = true } = {}) {
      if (existsSync(gitleaksBin)) return { ok: true, cached: true };
      if (!allowInstall) return NOT_INSTALLED;
      if (!which('go')) return { ok: false, reason: 'no Go toolchain on PATH (needed for `go install`)' };
      return inGoQueue(() =>
        timed(async () => {
          const tried = [];
          for (const mod of ['github.com/zricethezav/gitleaks/v8', 'github.com/gitleaks/gitleaks/v8']) {
            const r = await runLogged('go', ['install', `${mod}@latest`], {
              env: goEnv(),
              logFile: installLog('gitleaks'),
              timeoutSec: 900,
            });
            if (r.code === 0 && existsSync(gitleaksBin)) return { ok: true };
            tried.push(
              `${mod}: ${r.timedOut ? 'timed out' : (r.tail.split('\n').pop() ?? `exit ${r.code}`)}`,
            );
          }
          return { ok: false, reason: `go install failed (${tried.join('; ')})` };
        }),
      );
    },
    version() {
      const v = capture(gitleaksBin, ['version']);
      if (v && /^v?\d/.test(v)) return v.startsWith('v') ? v : `v${v}`;
      return goModuleVersion(gitleaksBin) ?? 'unknown';
    },
    filesArgs(target, out) {
      return {
        cmd: gitleaksBin,
        args: [
          'dir',
          target,
          '--no-banner',
          '--log-level',
          'error',
          '--report-format',
          'json',
          '--report-path',
          out,
          '--exit-code',
          '0',
        ],
      };
    },
    historyArgs(repo, out) {
      return {
        cmd: gitleaksBin,
        args: [
          'git',
          repo,
          '--no-banner',
          '--log-level',
          'error',
          '--report-format',
          'json',
          '--report-path',
          out,
          '--exit-code',
          '0',
        ],
      };
    },
    parse(out, root) {
      const doc = readJson(out) ?? [];
      return doc.map((f) => ({
        file: relToRoot(f.File, root),
        line: f.StartLine ?? 0,
        commit: f.Commit || undefined,
      }));
    },
  });

  // -------------------------------------------------------------------------
  // trufflehog's go.mod carries replace directives, which `go install module@version`
  // refuses, and some module proxies do not serve its version list. So: try
  // `go install @latest` first, else download the module source through the Go module
  // proxy (`go mod download`) and `go build` it in place.
  const trufflehogBin = join(binDir, 'trufflehog');
  const trufflehogModule = 'github.com/trufflesecurity/trufflehog/v3';
  const trufflehogPinned = process.env.KEYFENCE_BENCH_TRUFFLEHOG_VERSION ?? 'v3.90.0';
  const trufflehog = makeTool({
    name: 'trufflehog',
    bin: () => trufflehogBin,
    okCodes: [0, 183],
    async install({ allowInstall = true } = {}) {
      if (existsSync(trufflehogBin)) return { ok: true, cached: true };
      if (!allowInstall) return NOT_INSTALLED;
      if (!which('go')) return { ok: false, reason: 'no Go toolchain on PATH (needed for `go build`)' };
      return inGoQueue(() =>
        timed(async () => {
          const logFile = installLog('trufflehog');
          const first = await runLogged('go', ['install', `${trufflehogModule}@latest`], {
            env: goEnv(),
            logFile,
            timeoutSec: 1200,
          });
          if (first.code === 0 && existsSync(trufflehogBin)) return { ok: true };
          const latest = capture('go', ['list', '-m', '-json', `${trufflehogModule}@latest`], {
            env: goEnv(),
          });
          let version = trufflehogPinned;
          try {
            if (latest) version = JSON.parse(latest).Version ?? version;
          } catch {
            // keep the pinned version
          }
          const dl = capture('go', ['mod', 'download', '-json', `${trufflehogModule}@${version}`], {
            env: goEnv(),
            timeout: 600_000,
          });
          let dir = null;
          try {
            dir = dl ? JSON.parse(dl).Dir : null;
          } catch {
            dir = null;
          }
          if (!dir) {
            return {
              ok: false,
              reason: `go install @latest failed (${first.tail.split('\n').pop()}) and \`go mod download ${trufflehogModule}@${version}\` failed`,
            };
          }
          const ldflags = `-s -w -X ${trufflehogModule}/pkg/version.BuildVersion=${version}`;
          const build = await runLogged(
            'go',
            ['build', '-trimpath', '-ldflags', ldflags, '-o', trufflehogBin, '.'],
            {
              cwd: dir,
              env: goEnv(),
              logFile,
              timeoutSec: 1500,
            },
          );
          if (build.code === 0 && existsSync(trufflehogBin)) return { ok: true };
          return {
            ok: false,
            reason: `go build of ${trufflehogModule}@${version} failed: ${build.timedOut ? 'timed out' : build.tail.split('\n').pop()}`,
          };
        }),
      );
    },
    version() {
      const v = capture(trufflehogBin, ['--version'], { withStderr: true });
      const m = v && /v?\d+\.\d+\.\d+\S*/.exec(v);
      return m ? (m[0].startsWith('v') ? m[0] : `v${m[0]}`) : (goModuleVersion(trufflehogBin) ?? 'unknown');
    },
    filesArgs(target) {
      return {
        cmd: trufflehogBin,
        args: ['filesystem', target, '--json', '--no-verification', '--no-update', '--log-level=-1'],
        stdoutToOut: true,
      };
    },
    historyArgs(repo) {
      return {
        cmd: trufflehogBin,
        args: ['git', `file://${repo}`, '--json', '--no-verification', '--no-update', '--log-level=-1'],
        stdoutToOut: true,
      };
    },
    parse(out, root) {
      const findings = [];
      for (const line of readFileSync(out, 'utf8').split('\n')) {
        if (!line.startsWith('{')) continue;
        let rec;
        try {
          rec = JSON.parse(line);
        } catch {
          continue;
        }
        const data = rec.SourceMetadata?.Data ?? {};
        const fsMeta = data.Filesystem ?? data.Git;
        if (!fsMeta) continue;
        findings.push({ file: relToRoot(fsMeta.file, root), line: fsMeta.line ?? 0, commit: fsMeta.commit });
      }
      return findings;
    },
  });

  // -------------------------------------------------------------------------
  const kfVenv = join(toolsDir, 'venv-kingfisher');
  const kingfisherBin = () => {
    // kingfisher-bin ships the native binary inside the Python package; the console
    // script in <venv>/bin is only a Python wrapper around it. Time the native one.
    const lib = join(kfVenv, 'lib');
    if (existsSync(lib)) {
      for (const py of readdirSync(lib)) {
        const p = join(lib, py, 'site-packages', 'kingfisher', 'bin', 'kingfisher');
        if (existsSync(p)) return p;
      }
    }
    const wrapper = join(kfVenv, 'bin', 'kingfisher');
    return existsSync(wrapper) ? wrapper : null;
  };
  const pipInstall = async (name, venv, pkg) => {
    const python = which('python3');
    if (!python) return { ok: false, reason: 'no python3 on PATH (needed for a venv + pip)' };
    const logFile = installLog(name);
    const started = Date.now();
    if (!existsSync(join(venv, 'bin', 'pip'))) {
      const v = await runLogged(python, ['-m', 'venv', venv], { logFile, timeoutSec: 300 });
      if (v.code !== 0) return { ok: false, reason: `python3 -m venv failed: ${v.tail.split('\n').pop()}` };
    }
    const r = await runLogged(
      join(venv, 'bin', 'pip'),
      ['install', '--disable-pip-version-check', '--no-input', '--quiet', pkg],
      { logFile, timeoutSec: 600 },
    );
    const seconds = (Date.now() - started) / 1000;
    if (r.code !== 0)
      return { ok: false, seconds, reason: `pip install ${pkg} failed: ${r.tail.split('\n').pop()}` };
    return { ok: true, seconds };
  };
  const kingfisher = makeTool({
    name: 'kingfisher',
    bin: kingfisherBin,
    okCodes: [0, 200, 205],
    async install({ allowInstall = true } = {}) {
      if (kingfisherBin()) return { ok: true, cached: true };
      if (!allowInstall) return NOT_INSTALLED;
      const r = await pipInstall('kingfisher', kfVenv, 'kingfisher-bin');
      if (r.ok && !kingfisherBin())
        return { ok: false, seconds: r.seconds, reason: 'kingfisher binary not found in venv' };
      return r;
    },
    version() {
      const v = capture(kingfisherBin(), ['--version']);
      const m = v && /\d+\.\d+\.\d+\S*/.exec(v);
      return m ? m[0] : 'unknown';
    },
    filesArgs(target, out) {
      return {
        cmd: kingfisherBin(),
        args: [
          'scan',
          target,
          '--no-validate',
          '--no-update-check',
          '--git-history',
          'none',
          '--no-dedup',
          '--format',
          'json',
          '--output',
          out,
          '--quiet',
          '--rule-cache-dir',
          join(toolsDir, 'kingfisher-rule-cache'),
        ],
      };
    },
    // A local repository path with `--git-history full` scans every blob reachable in it.
    // Deduplicated, it reports a secret once at one blob that has it, often a later commit of
    // the file than the one that added it; --no-dedup also reports the commit that added it.
    historyArgs(repo, out) {
      return {
        cmd: kingfisherBin(),
        args: [
          'scan',
          repo,
          '--no-validate',
          '--no-update-check',
          '--git-history',
          'full',
          '--no-dedup',
          '--format',
          'json',
          '--output',
          out,
          '--quiet',
          '--rule-cache-dir',
          join(toolsDir, 'kingfisher-rule-cache'),
        ],
      };
    },
    parse(out, root) {
      const doc = readJson(out);
      const list = Array.isArray(doc) ? doc : (doc?.findings ?? []);
      return list.map((f) => {
        const x = f.finding ?? f;
        return {
          file: relToRoot(x.git_metadata?.file?.path ?? x.path, root),
          line: x.line ?? 0,
          commit: x.git_metadata?.commit?.id,
        };
      });
    },
  });

  // -------------------------------------------------------------------------
  const dsVenv = join(toolsDir, 'venv-detect-secrets');
  const dsBin = join(dsVenv, 'bin', 'detect-secrets');
  const detectSecrets = makeTool({
    name: 'detect-secrets',
    bin: () => dsBin,
    okCodes: [0],
    async install({ allowInstall = true } = {}) {
      if (existsSync(dsBin)) return { ok: true, cached: true };
      if (!allowInstall) return NOT_INSTALLED;
      const r = await pipInstall('detect-secrets', dsVenv, 'detect-secrets');
      if (r.ok && !existsSync(dsBin))
        return { ok: false, seconds: r.seconds, reason: 'detect-secrets not found in venv' };
      return r;
    },
    version() {
      return capture(dsBin, ['--version']) ?? 'unknown';
    },
    filesArgs(target) {
      // Paths in its report are relative to the working directory, so scan from the root.
      return { cmd: dsBin, args: ['scan', '--all-files', '.'], cwd: target, stdoutToOut: true };
    },
    parse(out, root) {
      const doc = readJson(out) ?? {};
      const findings = [];
      for (const [file, list] of Object.entries(doc.results ?? {})) {
        for (const f of list) findings.push({ file: relToRoot(file, root), line: f.line_number ?? 0 });
      }
      return findings;
    },
  });

  // -------------------------------------------------------------------------
  // secretlint is asked for `@latest` explicitly: with a bare name, npm on Node 20 falls back
  // to secretlint 12 (13 declares Node >= 22 but runs on 20). Releases before 13.0.6 record
  // a performance mark per rule per file and search them linearly (upstream issue #1653),
  // which makes a large scan quadratic; an older cached install is replaced.
  const slDir = join(toolsDir, 'secretlint');
  const slBin = join(slDir, 'node_modules', '.bin', 'secretlint');
  const slRc = join(slDir, '.secretlintrc.json');
  const slPreset = join(slDir, 'node_modules', '@secretlint', 'secretlint-rule-preset-recommend');
  const slSpec = process.env.KEYFENCE_BENCH_SECRETLINT_VERSION ?? 'latest';
  const slMajor = () => Number.parseInt(capture(slBin, ['--version'], { cwd: slDir }) ?? '0', 10) || 0;
  const secretlint = makeTool({
    name: 'secretlint',
    bin: () => slBin,
    okCodes: [0, 1],
    async install({ allowInstall = true } = {}) {
      const writeRc = () =>
        writeFileSync(
          slRc,
          `${JSON.stringify({ rules: [{ id: '@secretlint/secretlint-rule-preset-recommend' }] })}\n`,
        );
      const present = existsSync(slBin) && existsSync(slPreset);
      if (present && (slMajor() >= 13 || process.env.KEYFENCE_BENCH_SECRETLINT_VERSION)) {
        if (!existsSync(slRc)) writeRc();
        return { ok: true, cached: true };
      }
      if (!allowInstall) return NOT_INSTALLED;
      const npm = which('npm');
      if (!npm) return { ok: false, reason: 'no npm on PATH' };
      mkdirSync(slDir, { recursive: true });
      if (!existsSync(join(slDir, 'package.json'))) {
        writeFileSync(
          join(slDir, 'package.json'),
          '{ "name": "keyfence-bench-secretlint", "private": true }\n',
        );
      }
      const started = Date.now();
      const r = await runLogged(
        npm,
        [
          'install',
          '--prefix',
          slDir,
          '--no-audit',
          '--no-fund',
          '--loglevel=error',
          `secretlint@${slSpec}`,
          `@secretlint/secretlint-rule-preset-recommend@${slSpec}`,
        ],
        { cwd: slDir, logFile: installLog('secretlint'), timeoutSec: 600 },
      );
      const seconds = (Date.now() - started) / 1000;
      if (r.code !== 0 || !existsSync(slBin)) {
        return { ok: false, seconds, reason: `npm install failed: ${r.tail.split('\n').pop()}` };
      }
      writeRc();
      return { ok: true, seconds };
    },
    version() {
      return capture(slBin, ['--version'], { cwd: slDir }) ?? 'unknown';
    },
    filesArgs(target, out) {
      return {
        cmd: slBin,
        args: [`${target}/**/*`, '--format', 'json', '--output', out, '--secretlintrc', slRc, '--no-color'],
        cwd: slDir,
      };
    },
    parse(out, root) {
      const doc = readJson(out) ?? [];
      const findings = [];
      for (const file of doc) {
        for (const m of file.messages ?? []) {
          findings.push({ file: relToRoot(file.filePath, root), line: m.loc?.start?.line ?? 0 });
        }
      }
      return findings;
    },
  });

  log(`tools: cache ${toolsDir}`);
  return { keyfence, gitleaks, trufflehog, kingfisher, 'detect-secrets': detectSecrets, secretlint };
}

export const TOOL_ORDER = [
  'keyfence',
  'gitleaks',
  'trufflehog',
  'kingfisher',
  'detect-secrets',
  'secretlint',
];
