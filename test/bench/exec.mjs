// Process helpers for the benchmark: logged commands (installs) and timed runs.
//
// Timed runs go through `/usr/bin/time -f '%e %M'` (wall seconds, max RSS KiB of the
// largest process). A /proc sampler also records the peak summed RSS of the whole process
// tree, which matters for tools that fork workers (detect-secrets); it is the fallback
// when /usr/bin/time is not installed.

import { spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, openSync, readdirSync, readFileSync, rmSync, writeSync } from 'node:fs';

export const TIME_BIN = '/usr/bin/time';
const PAGE_KB = 4;

// Children run in their own process group (so a timeout can kill the whole tree); make
// sure an interrupted harness does not leave them running.
const active = new Set();
let handlersInstalled = false;
function track(pid) {
  active.add(pid);
  if (handlersInstalled) return;
  handlersInstalled = true;
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.on(sig, () => {
      for (const p of active) killGroup(p);
      process.exit(130);
    });
  }
}

export function hasTimeBin() {
  if (!existsSync(TIME_BIN)) return false;
  const r = spawnSync(TIME_BIN, ['-f', '%e %M', 'true'], { stdio: 'ignore' });
  return r.status === 0;
}

/** Whether `cmd` can be executed (found on PATH or as a path). */
export function which(cmd) {
  const r = spawnSync('sh', ['-c', `command -v "$1"`, 'sh', cmd], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : null;
}

/** Runs a command synchronously and returns trimmed stdout, or null on failure. */
export function capture(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 60_000, ...opts });
  if (r.error || r.status !== 0) return null;
  return `${r.stdout ?? ''}${opts.withStderr ? (r.stderr ?? '') : ''}`.trim();
}

/**
 * Runs a command with stdout and stderr appended to logFile.
 * Resolves { code, seconds, timedOut, tail } (never rejects).
 */
export function runLogged(cmd, args, { cwd, env, logFile, timeoutSec = 600 } = {}) {
  return new Promise((resolve) => {
    const fd = openSync(logFile, 'a');
    writeSync(fd, `\n$ ${[cmd, ...args].join(' ')}\n`);
    const started = process.hrtime.bigint();
    let child;
    try {
      child = spawn(cmd, args, { cwd, env: env ?? process.env, stdio: ['ignore', fd, fd], detached: true });
    } catch (err) {
      closeSync(fd);
      resolve({ code: -1, seconds: 0, timedOut: false, tail: String(err.message) });
      return;
    }
    track(child.pid);
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup(child.pid);
    }, timeoutSec * 1000);
    const finish = (code) => {
      active.delete(child.pid);
      clearTimeout(timer);
      closeSync(fd);
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      resolve({ code, seconds, timedOut, tail: tailOf(logFile, 3) });
    };
    child.on('error', (err) => {
      writeSyncSafe(logFile, String(err.message));
      finish(-1);
    });
    child.on('exit', (code, signal) => finish(code ?? (signal ? 128 : -1)));
  });
}

function writeSyncSafe(file, text) {
  try {
    const fd = openSync(file, 'a');
    writeSync(fd, `${text}\n`);
    closeSync(fd);
  } catch {
    // best effort
  }
}

function killGroup(pid) {
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

/** Last n non-empty lines of a text file. */
export function tailOf(file, n) {
  try {
    const lines = readFileSync(file, 'utf8')
      .split('\n')
      .filter((l) => l.trim() !== '');
    return lines.slice(-n).join('\n');
  } catch {
    return '';
  }
}

/** Sums resident memory (KiB) of pid and all its descendants. */
function treeRssKb(rootPid) {
  const parent = new Map();
  let entries;
  try {
    entries = readdirSync('/proc');
  } catch {
    return 0;
  }
  for (const name of entries) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      parent.set(Number(name), Number(rest[1]));
    } catch {
      // process exited meanwhile
    }
  }
  const inTree = new Set([rootPid]);
  let grew = true;
  while (grew) {
    grew = false;
    for (const [pid, ppid] of parent) {
      if (!inTree.has(pid) && inTree.has(ppid)) {
        inTree.add(pid);
        grew = true;
      }
    }
  }
  let kb = 0;
  for (const pid of inTree) {
    try {
      const statm = readFileSync(`/proc/${pid}/statm`, 'utf8').split(' ');
      kb += Number(statm[1]) * PAGE_KB;
    } catch {
      // exited
    }
  }
  return kb;
}

/**
 * Runs one measured command.
 * spec: { cmd, args, cwd, env, stdoutFile, logFile, timeoutSec }
 * Resolves { code, wallSec, peakKb, treePeakKb, timedOut, tail }.
 */
export function timedRun(spec, { useTime = hasTimeBin(), sampleMs = 100 } = {}) {
  const { cmd, args, cwd, env, stdoutFile, logFile, timeoutSec = 1800 } = spec;
  const timeFile = `${logFile}.time`;
  rmSync(timeFile, { force: true });
  return new Promise((resolve) => {
    const errFd = openSync(logFile, 'w');
    writeSync(errFd, `$ ${[cmd, ...args].join(' ')}\n`);
    const outFd = stdoutFile ? openSync(stdoutFile, 'w') : errFd;
    const argv = useTime ? ['-f', '%e %M', '-o', timeFile, cmd, ...args] : args;
    const started = process.hrtime.bigint();
    let child;
    try {
      child = spawn(useTime ? TIME_BIN : cmd, argv, {
        cwd,
        env: env ?? process.env,
        stdio: ['ignore', outFd, errFd],
        detached: true,
      });
    } catch (err) {
      closeSync(errFd);
      if (outFd !== errFd) closeSync(outFd);
      resolve({ code: -1, wallSec: 0, peakKb: 0, treePeakKb: 0, timedOut: false, tail: String(err.message) });
      return;
    }
    track(child.pid);
    let treePeakKb = 0;
    const sampler = setInterval(() => {
      const kb = treeRssKb(child.pid);
      if (kb > treePeakKb) treePeakKb = kb;
    }, sampleMs);
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup(child.pid);
    }, timeoutSec * 1000);
    const done = (code) => {
      active.delete(child.pid);
      clearInterval(sampler);
      clearTimeout(timer);
      const hrWall = Number(process.hrtime.bigint() - started) / 1e9;
      closeSync(errFd);
      if (outFd !== errFd) closeSync(outFd);
      let wallSec = hrWall;
      let peakKb = treePeakKb;
      if (useTime) {
        const parsed = parseTimeFile(timeFile);
        if (parsed) {
          wallSec = parsed.wallSec;
          peakKb = parsed.peakKb;
        }
      }
      resolve({ code, wallSec, peakKb, treePeakKb, timedOut, tail: tailOf(logFile, 3) });
    };
    child.on('error', (err) => {
      writeSyncSafe(logFile, String(err.message));
      done(-1);
    });
    child.on('exit', (code, signal) => done(code ?? (signal ? 128 : -1)));
  });
}

function parseTimeFile(file) {
  try {
    const lines = readFileSync(file, 'utf8').trim().split('\n');
    const m = /^([\d.]+) (\d+)$/.exec(lines[lines.length - 1].trim());
    if (!m) return null;
    return { wallSec: Number(m[1]), peakKb: Number(m[2]) };
  } catch {
    return null;
  }
}
