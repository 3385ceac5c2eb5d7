import { formatUserError, isKeyfenceError, writeText } from '@keyfence/core';
import { usageError } from './args.js';
import { runBaseline } from './commands/baseline.js';
import { runRotate } from './commands/rotate.js';
import { runRules } from './commands/rules.js';
import { runScan } from './commands/scan.js';
import { EXIT, type Io } from './io.js';
import { VERSION } from './version.js';

const HELP = `keyfence ${VERSION}: the secrets boundary for CI/CD

Usage:
  keyfence scan [PATH...] [options]     find leaked secrets in folders and files (default: .)
  keyfence baseline [PATH...] [options] write a baseline of today's findings, to accept them
  keyfence rules [--format text|json]   list the built-in rules
  keyfence rotate --runbooks FILE       rotate the credentials a runbook file names (crash-safe)

Run \`keyfence <command> --help\` for a command's options.
Exit codes: 0 nothing found, 1 findings, 2 usage, config or input error, 3 internal error.
`;

/** Runs the CLI; returns the exit code. The one top-level catch maps errors to exit codes. */
export async function main(argv: string[], io: Io): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case 'scan':
        return await runScan(rest, io);
      case 'baseline':
        return await runBaseline(rest, io);
      case 'rules':
        return runRules(rest, io);
      case 'rotate':
        return await runRotate(rest, io);
      case '--version':
      case '-V':
        writeText(io.stdout, `${VERSION}\n`);
        return EXIT.clean;
      case undefined:
      case '--help':
      case '-h':
      case 'help':
        writeText(io.stdout, HELP);
        return EXIT.clean;
      default:
        throw usageError(
          `unknown command "${command}"`,
          'commands: scan, baseline, rules, rotate; see `keyfence --help`',
        );
    }
  } catch (e) {
    const f = formatUserError(e);
    if (isKeyfenceError(e)) {
      writeText(io.stderr, `keyfence: error: ${f.message}\n${f.hint ? `  hint: ${f.hint}\n` : ''}`);
      return e.exitCode;
    }
    writeText(
      io.stderr,
      `keyfence: internal error: ${f.message}\n${f.stack ?? ''}\nPlease report this as a bug.\n`,
    );
    return EXIT.internal;
  }
}
