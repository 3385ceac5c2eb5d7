#!/usr/bin/env node

// keyfence benchmark harness: `npm run bench [-- options]`.
//
// Installs the peer scanners into a cache outside the repository, builds a corpus of
// real code with generated secrets planted in it, runs keyfence and each available peer
// over the same input one after another, and prints a markdown table.
//
// A benchmark case is { name, title, prepare(ctx), tools: { toolName -> entry }, skip? } where an
// entry is `(tool, target, out) => spec` ({ cmd, args, cwd?, stdoutToOut? }) or
// `{ spec, parse }` when the tool's report differs from its plain-folder one, and `skip` maps
// a tool that has no mode for the case to the one-line reason shown instead of a result.
// prepare() returns { target, root, bytes, files, planted, plantedPrefix, warmTarget, describe }
// and optionally commits (adds a commits/s column), score(findings) (replaces the per-file
// scoring) and groups (a breakdown of planted secrets found).
// A case may instead be { name, title, run(ctx) } and measure something else than scanners: it
// returns { body, summary } (its doc section and its JSON record).
// Cases: "files" (a plain folder), "history" (every commit of a generated git repository,
// history.mjs), "image" (a generated container image archive, image.mjs) and "fetch" (action-fetch
// against one GetSecretValue per secret, through a counting proxy in front of moto, fetch.mjs).
// Each gets its own `<!-- bench:<name>:start -->` section in docs/benchmarks.md;
// `--write-docs` replaces only the sections of the cases that ran.

import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, totalmem } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureCorpus, PLANTED_DIR, sumBytes, warmCorpus } from './corpus.mjs';
import { hasTimeBin } from './exec.mjs';
import { FETCH_LATENCY_MS, FETCH_SECRETS, runFetchCase } from './fetch.mjs';
import { ensureHistoryRepo, HISTORY_COMMITS, HISTORY_GROUPS, scoreHistory } from './history.mjs';
import { CONFIG_ENV, CONFIG_HISTORY, ensureImage, IMAGE_GROUPS, scoreImage } from './image.mjs';
import { createTools, defaultCacheDir, TOOL_ORDER } from './peers.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
const REPO_ROOT = resolve(HERE, '..', '..');
const DOC_PATH = join(REPO_ROOT, 'docs', 'benchmarks.md');

const USAGE = `usage: npm run bench -- [options]

  --tools a,b,c     tools to run (default: ${TOOL_ORDER.join(',')})
  --cases a,b       benchmark cases: files, history, image, fetch (default: files)
  --runs N          timed runs per tool; the median is reported (default 1)
  --timeout SEC     per-run time limit (default 1800)
  --seed STRING     generate the planted secrets deterministically from STRING
  --source DIR      code to copy into the corpus (default: <repo>/node_modules)
  --commits N       commits in the history case's generated repository (default ${HISTORY_COMMITS})
  --latency MS      fetch case: delay the proxy adds to each request (default ${FETCH_LATENCY_MS})
  --secrets N       fetch case: secrets seeded and fetched (default ${FETCH_SECRETS})
  --no-install      do not install missing peers, only use what is cached
  --write-docs      write the results into docs/benchmarks.md
  -h, --help        this text

env KEYFENCE_BENCH_CACHE   cache folder (default ~/.cache/keyfence-bench)`;

export function parseArgs(argv) {
  const opts = {
    tools: [...TOOL_ORDER],
    cases: ['files'],
    runs: 1,
    timeoutSec: 1800,
    seed: null,
    source: join(REPO_ROOT, 'node_modules'),
    commits: HISTORY_COMMITS,
    latencyMs: FETCH_LATENCY_MS,
    secrets: FETCH_SECRETS,
    install: true,
    writeDocs: false,
    help: false,
  };
  const list = (v) =>
    String(v ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i].includes('=') ? argv[i].split(/=(.*)/s) : [argv[i], undefined];
    const value = () => inline ?? argv[++i];
    switch (flag) {
      case '--tools':
        opts.tools = list(value());
        break;
      case '--cases':
        opts.cases = list(value());
        break;
      case '--runs':
        opts.runs = Math.max(1, Number.parseInt(value(), 10) || 1);
        break;
      case '--timeout':
        opts.timeoutSec = Math.max(1, Number(value()) || 1800);
        break;
      case '--seed':
        opts.seed = value();
        break;
      case '--source':
        opts.source = resolve(value());
        break;
      case '--commits':
        opts.commits = Math.max(100, Number.parseInt(value(), 10) || HISTORY_COMMITS);
        break;
      case '--latency':
        opts.latencyMs = Math.max(0, Number(value()) || 0);
        break;
      case '--secrets':
        opts.secrets = Math.max(1, Number.parseInt(value(), 10) || FETCH_SECRETS);
        break;
      case '--no-install':
        opts.install = false;
        break;
      case '--write-docs':
        opts.writeDocs = true;
        break;
      case '-h':
      case '--help':
        opts.help = true;
        break;
      default:
        throw new Error(`unknown option ${argv[i]}\n\n${USAGE}`);
    }
  }
  const unknown = opts.tools.filter((t) => !TOOL_ORDER.includes(t));
  if (unknown.length)
    throw new Error(`unknown tool(s): ${unknown.join(', ')} (known: ${TOOL_ORDER.join(', ')})`);
  const badCases = opts.cases.filter((c) => !CASES[c]);
  if (badCases.length)
    throw new Error(`unknown case(s): ${badCases.join(', ')} (known: ${Object.keys(CASES).join(', ')})`);
  return opts;
}

// ---------------------------------------------------------------------------
// Cases

const filesArgs = (tool, target, out) => tool.filesArgs(target, out);
const historyArgs = (tool, repo, out) => tool.historyArgs(repo, out);

function displaySource(dir) {
  const rel = relative(REPO_ROOT, dir);
  return rel && !rel.startsWith('..') ? rel : dir;
}

export const CASES = {
  files: {
    name: 'files',
    title: 'Plain folder scan (no git, no network verification)',
    /** Builds (or reuses) the corpus; returns what the runner needs to score tools. */
    prepare(ctx) {
      const { dir, manifest } = ensureCorpus({
        cacheDir: ctx.cacheDir,
        sourceDir: ctx.opts.source,
        seed: ctx.opts.seed,
        log: ctx.log,
      });
      const { bytes, files } = sumBytes(dir);
      return {
        target: dir,
        root: dir,
        bytes,
        files,
        planted: manifest.planted,
        plantedPrefix: `${PLANTED_DIR}/`,
        warmTarget: join(dir, PLANTED_DIR),
        describe: `${(bytes / 1e6).toFixed(1)} MB in ${files} files (${manifest.copies} cop${
          manifest.copies === 1 ? 'y' : 'ies'
        } of ${displaySource(manifest.source)}, symlinks and binaries > 1 MB skipped), ${manifest.planted.length} planted files over ${
          manifest.formats
        } formats${manifest.missingFormats.length ? ` (not generated here: ${manifest.missingFormats.map((m) => m.format).join(', ')})` : ''}`,
      };
    },
    tools: {
      keyfence: filesArgs,
      gitleaks: filesArgs,
      trufflehog: filesArgs,
      kingfisher: filesArgs,
      'detect-secrets': filesArgs,
      secretlint: filesArgs,
    },
  },
  history: {
    name: 'history',
    title: 'Git history scan (every commit on every branch, no network verification)',
    /** Builds (or reuses) the generated repository; scoring is by planted (file, commit). */
    prepare(ctx) {
      const {
        repo,
        warmRepo,
        manifest: m,
      } = ensureHistoryRepo({
        cacheDir: ctx.cacheDir,
        sourceDir: ctx.opts.source,
        seed: ctx.opts.seed,
        commits: ctx.opts.commits,
        log: ctx.log,
      });
      const merged = m.branches.filter((b) => b.merged).length;
      const removed = m.secrets.filter((s) => s.removed).length;
      const onBranches = m.secrets.filter((s) => s.branch !== 'main').length;
      return {
        target: repo,
        root: repo,
        bytes: m.logBytes,
        files: m.headFiles,
        commits: m.commits,
        planted: m.secrets,
        score: (findings) => scoreHistory(findings, m.secrets, m.branches),
        groups: HISTORY_GROUPS,
        warmTarget: warmRepo,
        inputLabel: 'Repository',
        targetLabel: '<repo>',
        describe: `${m.commits} commits (main and ${m.branches.length} branches, ${merged} merged back with merge commits, ${
          m.branches.length - merged
        } not merged), ${(m.logBytes / 1e6).toFixed(1)} MB of history (MB = size of the \`git log -p --all\` output; the pack is ${(
          m.packBytes / 1e6
        ).toFixed(1)} MB), ${m.headFiles} files at the tip of main, mostly real code from ${displaySource(
          m.source,
        )} edited by each commit; ${m.secrets.length} planted secrets over ${m.formats} formats${
          m.missingFormats.length
            ? ` (not generated here: ${m.missingFormats.map((x) => x.format).join(', ')})`
            : ''
        }, ${removed} of them removed again in a later commit, ${onBranches} only on branches, one committed twice. No checkout (only \`.git\`), so each tool scans history only`,
      };
    },
    tools: {
      keyfence: historyArgs,
      gitleaks: historyArgs,
      trufflehog: historyArgs,
      kingfisher: historyArgs,
    },
    skip: {
      'detect-secrets': 'no git-history mode (it scans files, or what is staged, not past commits)',
      secretlint: 'no git-history mode (it scans files only)',
    },
  },
  image: {
    name: 'image',
    title: 'Container image archive scan (every layer and the config, no network verification)',
    /** Builds (or reuses) the generated image; scoring is by planted path inside the image. */
    async prepare(ctx) {
      const {
        tar,
        warmTar,
        manifest: m,
      } = await ensureImage({
        cacheDir: ctx.cacheDir,
        sourceDir: ctx.opts.source,
        seed: ctx.opts.seed,
        log: ctx.log,
      });
      const configHex = m.configDigest.slice('sha256:'.length);
      const inLayers = m.planted.filter((p) => p.where === 'file');
      const layersOf = new Set(inLayers.map((p) => p.layer));
      const mb = (n) => (n / 1e6).toFixed(1);
      const [base, depsLayer, tools] = m.layers;
      const biggest = [...m.toolBinaries]
        .sort((a, b) => b.bytes - a.bytes)
        .slice(0, 3)
        .map((b) => `\`${b.rel.split('/').pop()}\``);
      const binaryBytes = m.runtimeBinary.bytes + m.toolBinaries.reduce((a, b) => a + b.bytes, 0);
      return {
        target: tar,
        root: tar,
        bytes: m.layerBytes,
        files: m.files,
        planted: m.planted,
        score: (findings) => scoreImage(findings, m.planted),
        groups: IMAGE_GROUPS,
        groupsTitle: 'by where they are in the image',
        configHex,
        warmTarget: warmTar,
        ratios: ['trufflehog', 'kingfisher'],
        notes: [
          `- ${mb(binaryBytes)} MB of the layers are executables and native modules (layers 1 and 3): keyfence skips binary files by default, as in the folder case (\`--scan-binaries\` reads them too); Kingfisher scans them`,
          "- trufflehog reads the config's history but not its Env; Kingfisher reads the config blob as a plain file (one JSON line), so its findings there are attributed by rule: an AWS rule to the Env pair, a GitHub rule to the history token",
          '- Kingfisher first unpacks the archive and every layer into a temporary folder (several hundred MB written for this image) and then scans the files; on this machine most of its time is system time spent on that',
        ],
        inputLabel: 'Image',
        targetLabel: '<image.tar>',
        describe: `\`${m.tag}\` written without Docker as \`docker save\` (Docker 25 and later) writes it: one tar that is both an OCI image layout and a classic \`manifest.json\`, ${
          m.layers.length
        } gzip'd layers holding ${m.files} files, ${mb(m.layerBytes)} MB of layer tars (the MB of MB/s: uncompressed layers), ${mb(
          m.archiveBytes,
        )} MB archive. Layer 1 is a small base with the \`node\` binary that ran the harness (${mb(base.tarBytes)} MB), layer 2 the project's node_modules (${mb(
          depsLayer.tarBytes,
        )} MB, ${depsLayer.files} files, binaries over 1 MB left out, \`node_modules\` renamed \`deps\`), layer 3 holds ${
          m.toolBinaries.length
        } of the binaries left out of layer 2 (${mb(tools.tarBytes)} MB; the largest ${biggest.join(', ')}), then three small application layers. ${
          m.planted.length
        } planted secrets over ${m.formats} formats${
          m.missingFormats.length
            ? ` (not generated here: ${m.missingFormats.map((x) => x.format).join(', ')})`
            : ''
        }: ${inLayers.length} in files spread over layers ${[...layersOf].sort().join(', ')}, one in \`app/.env.production\` that layer 6 deletes again with a \`.wh.\` whiteout (still in layer 5), an AWS key pair in the config's \`Env\`, and a GitHub token in the \`created_by\` of a build step in the config's history`,
      };
    },
    tools: {
      keyfence: {
        spec: (tool, tar, out) => ({
          cmd: process.execPath,
          args: [tool.bin(), 'scan', '--image-archive', tar, '--format', 'json', '--output', out],
        }),
        // Paths are inside the image; the config's Env and history are image-config/Env and /history.
        parse: (out) =>
          (JSON.parse(readFileSync(out, 'utf8')).findings ?? []).map((f) => ({
            file: f.location?.path ?? '',
            line: f.location?.line ?? 0,
            layer: f.location?.layerIndex,
          })),
      },
      trufflehog: {
        spec: (tool, tar) => ({
          cmd: tool.bin(),
          args: [
            'docker',
            '--image',
            `file://${tar}`,
            '--json',
            '--no-verification',
            '--no-update',
            '--log-level=-1',
          ],
          stdoutToOut: true,
        }),
        // Layer files are /absolute; a history entry is image-metadata:history:<n>:created-by. It does
        // not read the config's Env.
        parse: (out) =>
          readFileSync(out, 'utf8')
            .split('\n')
            .filter((l) => l.startsWith('{'))
            .map((l) => JSON.parse(l).SourceMetadata?.Data?.Docker)
            .filter(Boolean)
            .map((d) => ({
              file: String(d.file ?? '').startsWith('image-metadata:history:')
                ? CONFIG_HISTORY
                : String(d.file ?? '').replace(/^\/+/, ''),
              line: 0,
            })),
      },
      kingfisher: {
        spec: (tool, tar, out) => ({
          cmd: tool.bin(),
          args: [
            'scan',
            'docker',
            '--archive',
            tar,
            '--no-validate',
            '--no-update-check',
            '--no-dedup',
            '--format',
            'json',
            '--output',
            out,
            '--quiet',
            '--rule-cache-dir',
            join(defaultCacheDir(), 'tools', 'kingfisher-rule-cache'),
          ],
        }),
        // Paths are `<archive> | <path in the layer>`. It reads the config blob as a file (one JSON
        // line), so a finding there is attributed by its rule: an AWS rule to the planted Env pair,
        // a GitHub rule to the token in the history.
        parse: (out, _root, prepared) => {
          const doc = JSON.parse(readFileSync(out, 'utf8') || '{}');
          const list = Array.isArray(doc) ? doc : (doc.findings ?? []);
          return list.map((f) => {
            const x = f.finding ?? f;
            const rule = String(f.rule?.id ?? '');
            const path = String(x.path ?? '');
            const inner = path.includes(' | ') ? path.slice(path.indexOf(' | ') + 3) : path;
            if (inner === `blobs/sha256/${prepared.configHex}`) {
              const file = /aws/i.test(rule)
                ? CONFIG_ENV
                : /github/i.test(rule)
                  ? CONFIG_HISTORY
                  : 'image-config';
              return { file, line: x.line ?? 0 };
            }
            return { file: inner.replace(/^\/+/, ''), line: x.line ?? 0 };
          });
        },
      },
    },
    skip: {
      gitleaks:
        "no image mode; `dir --max-archive-depth` opens the tar but not the gzip'd layer blobs in it (no file extension), so it sees only the config",
      'detect-secrets': 'no image or archive mode (it scans files)',
      secretlint: 'no image or archive mode (it scans files)',
    },
  },
  fetch: {
    name: 'fetch',
    title: 'Fetching secrets from AWS Secrets Manager (moto behind a proxy with a fixed latency)',
    run: (ctx) => runFetchCase(ctx),
  },
};

// ---------------------------------------------------------------------------
// Measurement

function median(values) {
  const v = [...values].sort((a, b) => a - b);
  if (v.length === 0) return Number.NaN;
  const mid = Math.floor(v.length / 2);
  return v.length % 2 ? v[mid] : (v[mid - 1] + v[mid]) / 2;
}

/** Scores parsed findings against the planted manifest. */
export function score(findings, planted, plantedPrefix) {
  const hitFiles = new Set(findings.map((f) => f.file));
  const foundFiles = planted.filter((p) => hitFiles.has(p.file)).map((p) => p.file);
  const clean = findings.filter((f) => !f.file.startsWith(plantedPrefix));
  const byFormat = {};
  for (const p of planted) {
    byFormat[p.format] ??= { found: 0, total: 0 };
    byFormat[p.format].total++;
    if (hitFiles.has(p.file)) byFormat[p.format].found++;
  }
  return {
    findings: findings.length,
    plantedFound: foundFiles.length,
    plantedTotal: planted.length,
    cleanFindings: clean.length,
    cleanFiles: new Set(clean.map((f) => f.file)).size,
    byFormat,
  };
}

async function measureTool(tool, kase, prepared, ctx) {
  const outDir = join(ctx.cacheDir, 'results', kase.name);
  mkdirSync(outDir, { recursive: true });
  const entry = kase.tools[tool.name];
  const spec = (target, out) => (typeof entry === 'function' ? entry : entry.spec)(tool, target, out);
  const parse = typeof entry === 'function' || !entry.parse ? (o, r) => tool.parse(o, r) : entry.parse;

  // Untimed warm-up over the planted folder only: checks the tool runs at all and lets
  // tools that compile a rule cache on first use (kingfisher) do so outside the timing.
  const warmOut = join(outDir, `${tool.name}.warmup.out`);
  const warm = await tool.run(prepared.warmTarget, warmOut, {
    spec: spec(prepared.warmTarget, warmOut),
    timeoutSec: Math.min(600, ctx.opts.timeoutSec),
  });
  if (warm.timedOut || !tool.okCodes.includes(warm.code)) {
    return {
      ok: false,
      reason: `warm-up run failed (exit ${warm.code}${warm.timedOut ? ', timed out' : ''}): ${
        warm.tail.split('\n').pop() || 'no output'
      } [log: ${warmOut}.log]`,
    };
  }

  const runs = [];
  for (let i = 0; i < ctx.opts.runs; i++) {
    const out = join(outDir, `${tool.name}.out`);
    const s = spec(prepared.target, out);
    const r = await tool.run(prepared.target, out, { spec: s, timeoutSec: ctx.opts.timeoutSec });
    if (r.timedOut) return { ok: false, reason: `timed out after ${ctx.opts.timeoutSec}s [log: ${out}.log]` };
    if (!tool.okCodes.includes(r.code)) {
      return {
        ok: false,
        reason: `exit ${r.code}: ${r.tail.split('\n').pop() || 'no output'} [log: ${out}.log]`,
      };
    }
    let findings;
    try {
      findings = parse(out, prepared.root, prepared);
    } catch (err) {
      return { ok: false, reason: `could not parse its report ${out}: ${err.message}` };
    }
    runs.push({ ...r, findings, out, command: [s.cmd, ...s.args], cwd: s.cwd, stdoutToOut: !!s.stdoutToOut });
    ctx.log(
      `  ${tool.name} run ${i + 1}/${ctx.opts.runs}: ${r.wallSec.toFixed(2)} s, ${(r.peakKb / 1024).toFixed(0)} MB peak, ${
        findings.length
      } findings`,
    );
  }
  const last = runs[runs.length - 1];
  const scored = prepared.score
    ? prepared.score(last.findings)
    : score(last.findings, prepared.planted, prepared.plantedPrefix);
  const wallSec = median(runs.map((r) => r.wallSec));
  const peakKb = median(runs.map((r) => r.peakKb));
  const treePeakKb = median(runs.map((r) => r.treePeakKb));
  return {
    ok: true,
    wallSec,
    wallRuns: runs.map((r) => r.wallSec),
    mbPerSec: prepared.bytes / 1e6 / wallSec,
    commitsPerSec: prepared.commits ? prepared.commits / wallSec : undefined,
    peakMb: peakKb / 1024,
    treePeakMb: treePeakKb / 1024,
    ...scored,
    command: last.command,
    cwd: last.cwd,
    stdoutToOut: last.stdoutToOut,
    report: last.out,
  };
}

// ---------------------------------------------------------------------------
// Reporting

function machineInfo() {
  let cpuModel = cpus()[0]?.model ?? 'unknown';
  try {
    const m = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'));
    if (m) cpuModel = m[1].trim();
  } catch {
    // keep os.cpus()
  }
  return {
    nproc: availableParallelism(),
    cpuModel,
    node: process.version,
    memGb: totalmem() / 1024 ** 3,
    platform: `${process.platform}-${process.arch}`,
  };
}

const fmt = (n, d = 1) => (Number.isFinite(n) ? n.toFixed(d) : 'n/a');

function displayCommand(r, target, cacheDir, label = '<corpus>') {
  const shorten = (a) =>
    String(a)
      .split(target)
      .join(label)
      .split(r.report)
      .join('<out>')
      .split(join(cacheDir, 'tools'))
      .join('<cache>/tools')
      .split(process.execPath)
      .join('node')
      .split(REPO_ROOT)
      .join('.');
  const cmd = r.command.map(shorten).map((a) => (/[\s*]/.test(a) ? `"${a}"` : a));
  const cwd = r.cwd ? `(cd ${shorten(r.cwd)} && ` : '';
  return `${cwd}${cmd.join(' ')}${r.stdoutToOut ? ' > <out>' : ''}${cwd ? ')' : ''}`;
}

function ratio(results, a, b) {
  const ra = results[a];
  const rb = results[b];
  if (!ra?.ok) return `n/a (${a} did not run)`;
  if (!rb?.ok) return `n/a (${b} did not run)`;
  return `${(ra.mbPerSec / rb.mbPerSec).toFixed(2)}x`;
}

export function renderCase(kase, prepared, results, versions, ctx) {
  const m = ctx.machine;
  const lines = [];
  lines.push(`### ${kase.title}`, '');
  lines.push(
    `Machine: ${m.nproc} CPUs (${m.cpuModel}), ${fmt(m.memGb, 0)} GiB RAM, ${m.platform}, Node ${m.node}. ` +
      `Measured ${ctx.date}, median of ${ctx.opts.runs} run${ctx.opts.runs === 1 ? '' : 's'}.`,
    '',
    `${prepared.inputLabel ?? 'Corpus'}: ${prepared.describe}.`,
    '',
  );
  const perCommit = Number.isFinite(prepared.commits);
  const unit = prepared.plantedUnit ?? (prepared.score ? 'secrets' : 'files');
  lines.push(
    `| tool | version |${perCommit ? ' commits/s |' : ''} MB/s | wall s | peak MB | planted found | clean-code findings |`,
  );
  lines.push(`| --- | --- |${perCommit ? ' ---: |' : ''} ---: | ---: | ---: | ---: | ---: |`);
  const notes = [];
  for (const name of ctx.opts.tools) {
    const r = results[name];
    if (!r) continue;
    if (r.skipped) {
      notes.push(`- ${name}: not run in this case: ${r.reason}`);
      continue;
    }
    if (!r.ok) {
      lines.push(`| ${name} | ${versions[name] ?? '-'} |${perCommit ? ' - |' : ''} - | - | - | - | - |`);
      notes.push(`- ${name}: not measured: ${r.reason}`);
      continue;
    }
    const multiProc = r.treePeakMb > r.peakMb * 1.2;
    if (r.plantedOther) {
      notes.push(
        `- ${name}: ${r.plantedOther} finding${r.plantedOther === 1 ? '' : 's'} in planted files at commits where nothing was planted (not counted either way)`,
      );
    }
    lines.push(
      `| ${name} | ${versions[name]} |${perCommit ? ` ${fmt(r.commitsPerSec, 0)} |` : ''} ${fmt(r.mbPerSec)} | ${fmt(
        r.wallSec,
        2,
      )} | ${fmt(r.peakMb, 0)}${
        multiProc ? ` (${fmt(r.treePeakMb, 0)} all processes)` : ''
      } | ${r.plantedFound}/${r.plantedTotal} | ${r.cleanFindings}${
        r.cleanFindings ? ` in ${r.cleanFiles} file${r.cleanFiles === 1 ? '' : 's'}` : ''
      } |`,
    );
  }
  lines.push('');
  for (const peer of prepared.ratios ?? ['gitleaks', 'kingfisher'])
    lines.push(`- keyfence / ${peer} throughput: ${ratio(results, 'keyfence', peer)}`);
  const spread = ctx.opts.tools
    .filter((t) => results[t]?.ok && results[t].wallRuns?.length > 1)
    .map((t) => ({ t, lo: Math.min(...results[t].wallRuns), hi: Math.max(...results[t].wallRuns) }))
    .filter((x) => x.hi > x.lo * 1.2);
  if (spread.length) {
    lines.push(
      `- wall times varied between runs (the machine is shared with other jobs, so figures are noisy; the median is shown): ${spread
        .map((x) => `${x.t} ${fmt(x.lo, 2)}–${fmt(x.hi, 2)} s`)
        .join(', ')}`,
    );
  }
  lines.push(...(prepared.notes ?? []));
  lines.push(...notes);
  lines.push('');

  const ran = ctx.opts.tools.filter((t) => results[t]?.ok);
  if (ran.length) {
    const formats = [...new Set(prepared.planted.map((p) => p.format))];
    if (prepared.groups) {
      lines.push(
        `<details><summary>Planted ${unit} found, ${prepared.groupsTitle ?? 'by where they are in history'}</summary>`,
        '',
      );
      lines.push(`| planted | ${ran.join(' | ')} |`);
      lines.push(`| --- | ${ran.map(() => '---:').join(' | ')} |`);
      for (const [key, label] of Object.entries(prepared.groups)) {
        const cells = ran.map((t) => results[t].byGroup?.[key]);
        if (!cells[0]?.total) continue;
        lines.push(`| ${label} | ${cells.map((b) => `${b.found}/${b.total}`).join(' | ')} |`);
      }
      lines.push('', '</details>', '');
    }
    lines.push(`<details><summary>Planted ${unit} found, per format</summary>`, '');
    lines.push(`| format | ${ran.join(' | ')} |`);
    lines.push(`| --- | ${ran.map(() => '---:').join(' | ')} |`);
    for (const f of formats) {
      lines.push(
        `| ${f} | ${ran
          .map((t) => {
            const b = results[t].byFormat[f];
            return `${b.found}/${b.total}`;
          })
          .join(' | ')} |`,
      );
    }
    lines.push('', '</details>', '');
    lines.push('<details><summary>Commands</summary>', '');
    for (const t of ran)
      lines.push(
        `- ${t}: \`${displayCommand(results[t], prepared.target, ctx.cacheDir, prepared.targetLabel)}\``,
      );
    lines.push('', '</details>', '');
  }
  return lines.join('\n');
}

const DOC_INTRO = `# Benchmarks

\`npm run bench\` compares keyfence with other secret scanners on the same input, one tool
after another on the same machine. For each tool it measures:

- **MB/s**: corpus bytes (every file offered to the tool, MB = 10^6 bytes) divided by the wall time;
- **wall s**: wall-clock seconds of the scan (\`/usr/bin/time\`);
- **peak MB**: peak resident memory of the largest process (\`/usr/bin/time\` max RSS, in MiB); for tools
  that fork workers the summed peak of all their processes is shown beside it;
- **planted found**: files with a generated secret in them (under \`__planted__/\`) in which the tool
  reported at least one finding;
- **clean-code findings**: findings anywhere else, i.e. in real third-party code, which are
  false positives or at best test fixtures.

The corpus is the project's own \`node_modules\` (real JavaScript, TypeScript declarations, JSON,
Markdown; symlinks and binaries over 1 MB skipped, \`node_modules\` path segments renamed so that no
tool's default exclusion applies), copied several times when it is small, plus secrets of more than
twenty formats generated at run time and planted one per file in realistic code and config files.
Nothing generated is committed; the corpus and its manifest live in the benchmark cache, and are
rebuilt (with new secret values) when \`node_modules\` changes. Random values can make a pattern-based
tool miss one planted file more or less between two corpora; \`--seed STRING\` makes them repeatable.

Before the timed runs every corpus file is read once (warm page cache), and every tool does one
untimed run over the planted folder (checks that it works, lets rule caches be compiled).
Peers run without git, without network verification, and with JSON reports.

## Git history case

\`npm run bench -- --cases history\` scans the history of a generated git repository instead of a
folder. It has 5,000 commits (\`--commits N\` to change), written by one \`git fast-import\` process:
the first commit imports a few hundred text files from \`node_modules\` under \`lib/\`, and each later
commit edits one to five of them with one to three hunks of real code taken from other files (or
changes a number); a few commits add, delete or move a file. Beside that code sits a small
application (\`.env.production\`, YAML, TypeScript, JavaScript, Python, properties, compose and
shell files) into which about thirty secrets of the generated formats are committed at chosen
commits, in the same kind of lines as in the folder corpus. There are three branches: two are merged
back with merge commits, one is left unmerged; a third of the secrets on main are removed again in a
later commit (replaced by an environment lookup, or the key file deleted), and one secret is
committed a second time, much later, in another file. The repository is repacked as for a clone and
has no checkout, so every tool reads history only. It is built in the benchmark cache (20–30 s) and
reused while the generator version, the seed, the commit count and the list of source files are
unchanged; its \`manifest.json\` records each planted secret's format, commit, file and line, never
the value. In this case:

- **MB** is the size of the \`git log -p --all\` output (the patches of every commit; the pack is
  smaller), and **commits/s** is the commit count divided by the wall time (the ratio between two tools
  is the same with either);
- **planted found** counts secrets, not files: a secret counts when the tool reports its file at the
  commit that added it (either copy of the secret committed twice); findings in a planted file at
  another commit are noted apart, and **clean-code findings** are findings in any other file;
- keyfence runs \`scan --history\`, gitleaks \`git\`, trufflehog \`git file://…\` and Kingfisher \`scan\` with
  \`--git-history full\`; detect-secrets and secretlint have no history mode and are not run.

## Reproduce

\`\`\`sh
npm ci && npm run build
npm run bench -- --write-docs               # all tools
npm run bench -- --tools keyfence,gitleaks --runs 3
npm run bench -- --cases history --runs 3 --write-docs   # git history only
\`\`\`

Peer tools are installed on first use into a cache outside the repository
(\`~/.cache/keyfence-bench/tools\`, or \`$KEYFENCE_BENCH_CACHE/tools\`): gitleaks and trufflehog are
built from their Go modules, Kingfisher (\`kingfisher-bin\`) and detect-secrets are installed with pip
into virtual environments, secretlint with its recommended preset via \`npm install --prefix\`. A tool
that cannot be installed is skipped with a one-line reason. The first install of trufflehog is a long
Go build (up to about 15 minutes on two cores); later runs reuse it.

Notes on the peers:

- trufflehog's module has \`replace\` directives, which \`go install module@version\` refuses; the
  harness then fetches the module source with \`go mod download\` and runs \`go build\` in it
  (version \`$KEYFENCE_BENCH_TRUFFLEHOG_VERSION\` when the module proxy does not answer \`@latest\`).
- Kingfisher is timed as its native binary (shipped inside the \`kingfisher-bin\` wheel), not the
  Python wrapper script, and with \`--no-dedup\` so that every planted file can count. In history it
  scans every blob; deduplicated, it reports a secret once at a commit of one blob that has it, often
  a later commit of the file, so \`--no-dedup\` is kept there too (it then also reports the later
  blobs, counted in the note on findings at commits where nothing was planted).
- secretlint is installed as \`@latest\` explicitly: releases before 13.0.6 time every rule on every
  file and search those records linearly, which makes large scans quadratic.
- Memory of tools that run several processes (trufflehog re-executes itself under a supervisor,
  detect-secrets forks workers) is shown twice: the largest process, and all processes together.

## Results
`;

export function writeDocs(sections) {
  let doc = existsSync(DOC_PATH) ? readFileSync(DOC_PATH, 'utf8') : DOC_INTRO;
  for (const { name, body } of sections) {
    const start = `<!-- bench:${name}:start -->`;
    const end = `<!-- bench:${name}:end -->`;
    const block = `${start}\n${body.trimEnd()}\n${end}`;
    const i = doc.indexOf(start);
    const j = doc.indexOf(end);
    if (i >= 0 && j > i) doc = doc.slice(0, i) + block + doc.slice(j + end.length);
    else doc = `${doc.trimEnd()}\n\n${block}\n`;
  }
  mkdirSync(dirname(DOC_PATH), { recursive: true });
  writeFileSync(DOC_PATH, doc.endsWith('\n') ? doc : `${doc}\n`);
}

// ---------------------------------------------------------------------------

export async function main(argv = process.argv.slice(2)) {
  const opts = parseArgs(argv);
  if (opts.help) {
    console.log(USAGE);
    return 0;
  }
  const cacheDir = defaultCacheDir();
  mkdirSync(cacheDir, { recursive: true });
  const log = (msg) => console.error(`[bench] ${msg}`);
  const ctx = { opts, cacheDir, log, machine: machineInfo(), date: new Date().toISOString().slice(0, 10) };
  if (!hasTimeBin()) log('note: /usr/bin/time not found; timing with process.hrtime and /proc sampling');

  // Cases with their own run() (fetch) do not use the scanners: no installs for them alone.
  const scannerCases = opts.cases.filter((c) => !CASES[c].run);
  const tools = scannerCases.length ? createTools({ repoRoot: REPO_ROOT, cacheDir, log }) : {};
  const selected = scannerCases.length ? opts.tools.map((n) => tools[n]) : [];

  // Installs run in the background (Go builds one at a time) while the corpus is built.
  if (selected.length) log(`installing/checking: ${opts.tools.join(', ')}`);
  const installs = new Map(
    selected.map((t) => {
      const p = Promise.resolve()
        .then(() => t.install({ allowInstall: opts.install }))
        .catch((err) => ({ ok: false, reason: `install error: ${err.message}` }))
        .then((r) => {
          if (r.ok) log(`${t.name}: ${r.cached ? 'ready (cached)' : `installed in ${fmt(r.seconds, 0)} s`}`);
          else log(`${t.name}: SKIPPED: ${r.reason}`);
          return r;
        });
      return [t.name, p];
    }),
  );

  const prepared = {};
  for (const name of scannerCases) prepared[name] = await CASES[name].prepare(ctx);

  const installResults = {};
  for (const [name, p] of installs) installResults[name] = await p;
  const versions = {};
  for (const t of selected) if (installResults[t.name].ok) versions[t.name] = t.version();

  const allResults = {};
  const sections = [];
  for (const caseName of opts.cases) {
    const kase = CASES[caseName];
    if (kase.run) {
      log(`case ${caseName}: ${kase.title}`);
      const { body, summary } = await kase.run(ctx);
      allResults[caseName] = summary;
      sections.push({ name: caseName, body });
      console.log(body);
      continue;
    }
    const prep = prepared[caseName];
    log(`case ${caseName}: ${prep.describe}`);
    log('warming the page cache (untimed read of every file)');
    warmCorpus(prep.target);
    const results = {};
    for (const t of selected) {
      if (!installResults[t.name].ok) {
        results[t.name] = { ok: false, reason: installResults[t.name].reason };
        continue;
      }
      if (kase.skip?.[t.name]) {
        results[t.name] = { ok: false, skipped: true, reason: kase.skip[t.name] };
        log(`${t.name}: not run in case ${caseName}: ${kase.skip[t.name]}`);
        continue;
      }
      if (!kase.tools[t.name]) {
        results[t.name] = { ok: false, reason: `no arguments for case ${caseName}` };
        continue;
      }
      log(`running ${t.name} ${versions[t.name]}`);
      results[t.name] = await measureTool(t, kase, prep, ctx);
      if (!results[t.name].ok) log(`${t.name}: FAILED: ${results[t.name].reason}`);
    }
    allResults[caseName] = results;
    const body = renderCase(kase, prep, results, versions, ctx);
    sections.push({ name: caseName, body });
    console.log(body);
  }

  const summary = {
    date: new Date().toISOString(),
    machine: ctx.machine,
    opts,
    installs: installResults,
    versions,
    cases: Object.fromEntries(
      opts.cases.map((c) => [
        c,
        CASES[c].run
          ? allResults[c]
          : {
              corpus: {
                dir: prepared[c].target,
                bytes: prepared[c].bytes,
                files: prepared[c].files,
                commits: prepared[c].commits,
              },
              results: allResults[c],
            },
      ]),
    ),
  };
  const resultsDir = join(cacheDir, 'results');
  mkdirSync(resultsDir, { recursive: true });
  writeFileSync(join(resultsDir, 'latest.json'), `${JSON.stringify(summary, null, 2)}\n`);
  log(`results: ${join(resultsDir, 'latest.json')}`);

  if (opts.writeDocs) {
    writeDocs(sections);
    log(`wrote ${DOC_PATH}`);
  }
  return 0;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().then(
    (code) => {
      process.exitCode = code;
    },
    (err) => {
      console.error(`[bench] error: ${err.message}`);
      process.exitCode = 2;
    },
  );
}
