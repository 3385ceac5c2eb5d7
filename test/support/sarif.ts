import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

// The SARIF project's own validator (its Linux build ships in an npm package).
const MULTITOOL = resolve(
  import.meta.dirname,
  '../../node_modules/@microsoft/sarif-multitool-linux/Sarif.Multitool',
);

interface ValidationResult {
  level?: string;
  ruleId?: string;
  message?: { text?: string };
}

/**
 * Validates a SARIF file against the SARIF 2.1.0 schema and the multitool's rules; returns the
 * error-level results (an empty list means valid). Throws if the validator cannot run.
 */
export function sarifValidationErrors(file: string): ValidationResult[] {
  if (!existsSync(MULTITOOL)) throw new Error(`the SARIF multitool is not installed at ${MULTITOOL}`);
  chmodSync(MULTITOOL, 0o755);
  const dir = mkdtempSync(join(tmpdir(), 'keyfence-sarif-'));
  try {
    const out = join(dir, 'validation.sarif');
    const v = spawnSync(MULTITOOL, ['validate', file, '--output', out], {
      encoding: 'utf8',
      env: { ...process.env, DOTNET_SYSTEM_GLOBALIZATION_INVARIANT: '1' },
    });
    if (v.status !== 0) throw new Error(`the SARIF multitool failed (${v.status}): ${v.stderr}${v.stdout}`);
    const results = JSON.parse(readFileSync(out, 'utf8')).runs.flatMap(
      (r: { results?: ValidationResult[] }) => r.results ?? [],
    ) as ValidationResult[];
    return results.filter((r) => r.level === 'error');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
