import { readFileSync, writeFileSync } from 'node:fs';
import { ErrorCode, KeyfenceError } from '@keyfence/core';
import type { Finding } from './finding.js';

/** A baseline: findings a team has accepted, by fingerprint (rule + secret, so line moves keep it). */
export interface BaselineFile {
  version: 1;
  findings: { fingerprint: string; ruleId: string; path: string; line: number }[];
}

/** Builds the baseline document for a set of findings. */
export function createBaseline(findings: Finding[]): BaselineFile {
  return {
    version: 1,
    findings: findings.map((f) => ({
      fingerprint: f.fingerprint,
      ruleId: f.ruleId,
      path: f.location.path,
      line: f.location.line,
    })),
  };
}

/** Writes a baseline file. */
export function writeBaseline(file: string, findings: Finding[]): void {
  writeFileSync(file, `${JSON.stringify(createBaseline(findings), null, 2)}\n`);
}

/** Reads a baseline file into the set of fingerprints it accepts. */
export function readBaseline(file: string): Set<string> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? 'error';
    throw new KeyfenceError(ErrorCode.INPUT_UNREADABLE, `cannot read baseline ${file} (${code})`, {
      hint: 'create one with `keyfence baseline --output FILE`',
      cause: e,
    });
  }
  return parseBaseline(text, file);
}

/** Parses baseline text (from a file, or from a commit) into the fingerprints it accepts. */
export function parseBaseline(text: string, file: string): Set<string> {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new KeyfenceError(
      ErrorCode.BASELINE_INVALID,
      `baseline ${file} is not valid JSON: ${(e as Error).message}`,
      { hint: 'create one with `keyfence baseline --output FILE`', cause: e },
    );
  }
  const findings = (doc as Partial<BaselineFile>)?.findings;
  if (!Array.isArray(findings) || findings.some((f) => typeof f?.fingerprint !== 'string')) {
    throw new KeyfenceError(
      ErrorCode.BASELINE_INVALID,
      `baseline ${file} has no "findings" list of fingerprints`,
      {
        hint: 'create one with `keyfence baseline --output FILE`',
      },
    );
  }
  return new Set(findings.map((f) => f.fingerprint));
}
