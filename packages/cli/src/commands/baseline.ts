import { resolve } from 'node:path';
import { renderUntrusted, writeText } from '@keyfence/core';
import { writeBaseline } from '@keyfence/scanner';
import { parseCommandArgs } from '../args.js';
import { EXIT, type Io } from '../io.js';
import { checkOutputFile, writeOutputFile } from '../output.js';
import { runScanFromArgs, SCAN_OPTIONS } from './common.js';

const HELP = `Usage: keyfence baseline [PATH...] [--output FILE] [scan options]

Scans like \`keyfence scan\` and writes every finding's fingerprint to a baseline file (default:
.keyfence-baseline.json). \`keyfence scan --baseline FILE\` then reports only new findings.
A fingerprint is a hash of the rule and the secret, so moving a line keeps it accepted.
`;

/** `keyfence baseline`. */
export async function runBaseline(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parseCommandArgs('baseline', argv, {
    ...SCAN_OPTIONS,
    output: { type: 'string', short: 'o' },
  });
  if (values.help) {
    writeText(io.stdout, HELP);
    return EXIT.clean;
  }
  const file = values.output ?? '.keyfence-baseline.json';
  const output = resolve(io.cwd, file);
  checkOutputFile(output, file);
  const result = await runScanFromArgs(values, positionals, io);
  writeOutputFile(output, file, () => writeBaseline(output, result.findings));
  writeText(io.stderr, `keyfence: wrote ${result.findings.length} finding(s) to ${renderUntrusted(file)}\n`);
  return EXIT.clean;
}
