import { resolve } from 'node:path';
import { renderUntrusted, writeJson, writeText } from '@keyfence/core';
import { findingsToJson, findingsToSarif, findingsToText } from '@keyfence/scanner';
import { parseCommandArgs, parseFormat } from '../args.js';
import { EXIT, type Io } from '../io.js';
import { checkOutputFile, writeReportFile } from '../output.js';
import { VERSION } from '../version.js';
import { runScanFromArgs, SCAN_OPTIONS } from './common.js';

const HELP = `Usage: keyfence scan [PATH...] [options]

Finds leaked secrets in folders and files (default: the current folder). Reports never contain a
secret: only its format's public prefix and a fingerprint (keyed with KEYFENCE_FINGERPRINT_KEY
when set; a slow salted hash, not printed in text reports, otherwise).

Sources (default: the files under PATH):
  --diff BASE..HEAD          the lines each commit in the range added (a pull request)
  --history                  every commit reachable from any ref; each secret once, at its first commit
  --since REV                with --history: only commits not reachable from REV
  --staged                   what is staged for the next commit (for a pre-commit hook)
  --image REF                a registry image, HOST[:PORT]/REPO[:TAG][@DIGEST]: its config (Env,
                             Labels, history) and every layer, deleted files included (repeatable)
  --image-archive FILE       an OCI layout (folder or tar) or a \`docker save\` tar (repeatable)
  --archive FILE             zip, jar, war, ear, whl, nupkg, tar, tar.gz, tar.zst, and archives
                             nested in them; a quoted glob matches many (repeatable)
  Folders are scanned too when PATH is given; without PATH, only the images and archives are.

Images:
  --platform OS/ARCH[/VAR]   the image picked from a multi-platform index (default: linux/amd64)
  --insecure-registry HOST   reach HOST[:PORT] over plain HTTP (repeatable; HTTPS otherwise)
                             credentials come from $DOCKER_CONFIG/config.json or ~/.docker/config.json

Limits, per archive or image (a limit hit is reported and the scan goes on):
  --archive-max-depth N          nesting levels opened (default: 5)
  --archive-max-total-size SIZE  uncompressed bytes read (default: 4GiB)
  --archive-max-entry-size SIZE  size of one entry (default: 256MiB)
  --archive-max-entries N        entries, nested ones included (default: 1000000)
  --archive-max-ratio N          expansion ratio of compressed data, judged past 1 MiB (default: 100)

Options:
  --format text|json|sarif   report format (default: text)
  --output FILE              write the report to FILE instead of stdout
  --config FILE              config file (default: .keyfence.yaml at the first folder scanned)
  --baseline FILE            leave out findings recorded in this baseline (see keyfence baseline)
  --no-ignore                scan files that .gitignore excludes too
  --include-lockfiles        scan dependency lock files too (skipped by default)
  --scan-binaries            scan binary files too (skipped by default)
  --follow-symlinks          follow symbolic links out of the folders scanned (skipped and named
                             by default; links that stay inside are followed, each file once)
  --workers N                worker threads (default: by input size and cores; 0 = one thread)
  --shard K/N                scan only the K-th of N shards of the files (for matrix jobs)
  --no-color                 no colour in text output (colour is only used on a terminal anyway)

Exit codes: 0 nothing found, 1 findings, 2 usage, config or input error.
`;

const FORMATS = ['text', 'json', 'sarif'] as const;

/** `keyfence scan`. */
export async function runScan(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parseCommandArgs('scan', argv, {
    ...SCAN_OPTIONS,
    format: { type: 'string', short: 'f' },
    output: { type: 'string', short: 'o' },
    'no-color': { type: 'boolean' },
  });
  if (values.help) {
    writeText(io.stdout, HELP);
    return EXIT.clean;
  }
  const format = parseFormat(values.format, FORMATS, 'text');
  const output = values.output === undefined ? undefined : resolve(io.cwd, values.output);
  if (output) checkOutputFile(output, values.output!);
  const result = await runScanFromArgs(values, positionals, io, undefined, format !== 'text');
  const toFile = values.output !== undefined;
  const color = !toFile && !values['no-color'] && io.stdout.isTTY === true && !io.env?.NO_COLOR;
  const report =
    format === 'json'
      ? findingsToJson(result)
      : format === 'sarif'
        ? `${JSON.stringify(findingsToSarif(result, { toolVersion: VERSION }), null, 2)}\n`
        : findingsToText(result, { color });
  if (toFile) {
    writeReportFile(output!, values.output!, report);
    // The summary still goes to stderr, so a CI log says what happened.
    const n = result.findings.length;
    writeText(
      io.stderr,
      `keyfence: ${n === 0 ? 'no leaks found' : `${n} leak${n === 1 ? '' : 's'} found`}; report written to ${renderUntrusted(values.output!)}\n`,
    );
  } else {
    if (format === 'text') writeText(io.stdout, report);
    else writeJson(io.stdout, report);
  }
  if (format !== 'text') {
    for (const w of result.warnings) writeText(io.stderr, `keyfence: warning: ${renderUntrusted(w)}\n`);
  }
  return result.findings.length > 0 ? EXIT.findings : EXIT.clean;
}
