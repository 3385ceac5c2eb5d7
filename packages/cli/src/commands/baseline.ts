import { resolve } from 'node:path';
import { FINGERPRINT_KEY_ENV, readBaseline, rewriteBaseline, writeBaseline } from '@keyfence/scanner';
import { parseCommandArgs } from '../args.js';
import { EXIT, type Io } from '../io.js';
import { fingerprintKey, runScanFromArgs, SCAN_OPTIONS } from './common.js';

const HELP = `Usage: keyfence baseline [PATH...] [--output FILE] [scan options]

Scans like \`keyfence scan\` and writes every finding's fingerprint to a baseline file (default:
.keyfence-baseline.json). \`keyfence scan --baseline FILE\` then reports only new findings.
A fingerprint is a hash of the rule and the secret, so moving a line keeps it accepted. Set
${FINGERPRINT_KEY_ENV} (the same value wherever the baseline is used) for keyed fingerprints;
without it they are slow, salted hashes.

With --baseline OLD, rewrites OLD in the current format instead: exactly the findings it accepts
today (an old v1 baseline, or one made with another key setting), none it does not.
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
  const old = values.baseline ? readBaseline(resolve(io.cwd, values.baseline)) : undefined;
  const result = await runScanFromArgs(values, positionals, io, old);
  const file = values.output ?? '.keyfence-baseline.json';
  const scheme = fingerprintKey(io) === undefined ? 'scrypt' : 'hmac';
  if (old) {
    const kept = rewriteBaseline(resolve(io.cwd, file), old, scheme);
    const left = result.findings.length;
    io.stderr.write(
      `keyfence: rewrote ${values.baseline} as ${file}: kept ${kept} accepted finding(s)` +
        `${left > 0 ? `; ${left} finding(s) it does not accept were not added` : ''}\n`,
    );
    return EXIT.clean;
  }
  writeBaseline(resolve(io.cwd, file), result.findings, scheme);
  io.stderr.write(`keyfence: wrote ${result.findings.length} finding(s) to ${file}\n`);
  return EXIT.clean;
}
