import { resolve } from 'node:path';
import { FINGERPRINT_KEY_ENV, writeBaseline } from '@keyfence/scanner';
import { parseCommandArgs } from '../args.js';
import { EXIT, type Io } from '../io.js';
import { fingerprintKey, runScanFromArgs, SCAN_OPTIONS } from './common.js';

const HELP = `Usage: keyfence baseline [PATH...] [--output FILE] [scan options]

Scans like \`keyfence scan\` and writes every finding's fingerprint to a baseline file (default:
.keyfence-baseline.json). \`keyfence scan --baseline FILE\` then reports only new findings.
A fingerprint is a hash of the rule and the secret, so moving a line keeps it accepted. Set
${FINGERPRINT_KEY_ENV} (the same value wherever the baseline is used) for keyed fingerprints;
without it they are slow, salted hashes. Running this again rewrites an old (v1) baseline.
`;

/** `keyfence baseline`. */
export async function runBaseline(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parseCommandArgs('baseline', argv, {
    ...SCAN_OPTIONS,
    output: { type: 'string', short: 'o' },
  });
  if (values.help) {
    io.stdout.write(HELP);
    return EXIT.clean;
  }
  const result = await runScanFromArgs(values, positionals, io);
  const file = values.output ?? '.keyfence-baseline.json';
  const scheme = fingerprintKey(io) === undefined ? 'scrypt' : 'hmac';
  writeBaseline(resolve(io.cwd, file), result.findings, scheme);
  io.stderr.write(`keyfence: wrote ${result.findings.length} finding(s) to ${file}\n`);
  return EXIT.clean;
}
