import { resolve } from 'node:path';
import { renderUntrusted, writeText } from '@keyfence/core';
import { FINGERPRINT_KEY_ENV, readBaseline, rewriteBaseline, writeBaseline } from '@keyfence/scanner';
import { parseCommandArgs } from '../args.js';
import { EXIT, type Io } from '../io.js';
import { checkOutputFile, writeOutputFile } from '../output.js';
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
    writeText(io.stdout, HELP);
    return EXIT.clean;
  }
  const file = values.output ?? '.keyfence-baseline.json';
  const output = resolve(io.cwd, file);
  checkOutputFile(output, file);
  const old = values.baseline ? readBaseline(resolve(io.cwd, values.baseline)) : undefined;
  const result = await runScanFromArgs(values, positionals, io, old);
  const scheme = fingerprintKey(io) === undefined ? 'scrypt' : 'hmac';
  if (old) {
    let kept = 0;
    writeOutputFile(output, file, () => {
      kept = rewriteBaseline(output, old, scheme);
    });
    const left = result.findings.length;
    writeText(
      io.stderr,
      `keyfence: rewrote ${renderUntrusted(values.baseline ?? '')} as ${renderUntrusted(file)}: kept ${kept} accepted finding(s)` +
        `${left > 0 ? `; ${left} finding(s) it does not accept were not added` : ''}
`,
    );
    return EXIT.clean;
  }
  writeOutputFile(output, file, () => writeBaseline(output, result.findings, scheme));
  writeText(
    io.stderr,
    `keyfence: wrote ${result.findings.length} finding(s) to ${renderUntrusted(file)}
`,
  );
  return EXIT.clean;
}
