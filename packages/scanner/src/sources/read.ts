import { closeSync, openSync, readSync } from 'node:fs';
import { StringDecoder } from 'node:string_decoder';
import type { Detector } from '../engine/detector.js';
import type { Finding, ScanProblem } from '../finding.js';
import { type FileEntry, looksBinary } from './files.js';

/** Files up to this size are read whole; larger ones stream in chunks, so memory stays bounded. */
export const CHUNK_BYTES = 8 * 1024 * 1024;
/** Text carried from one chunk into the next, so a secret across a chunk boundary is still seen. */
const OVERLAP_CHARS = 64 * 1024;

export interface FileResult {
  findings: Finding[];
  problems?: ScanProblem[];
  bytes: number;
  binary: boolean;
}

/**
 * Reads one file and runs the detector over it (whole, or chunk by chunk when large). Reads are
 * synchronous on purpose: a scan reads thousands of small files one after another, and a
 * thread-pool round trip per open/read/close left the CPU idle half the time.
 */
export function scanFile(detector: Detector, entry: FileEntry, scanBinaries: boolean): FileResult {
  const result = readAndDetect(detector, entry, scanBinaries);
  // Problems the detector met on the way (a user rule that timed out) travel with the file.
  if (detector.problems.length > 0)
    result.problems = [...(result.problems ?? []), ...detector.problems.splice(0)];
  return result;
}

function readAndDetect(detector: Detector, entry: FileEntry, scanBinaries: boolean): FileResult {
  let fd: number;
  try {
    fd = openSync(entry.abs, 'r');
  } catch (e) {
    return unreadable(entry, e);
  }
  try {
    const first = Buffer.allocUnsafe(Math.min(Math.max(entry.size, 1), CHUNK_BYTES));
    const bytesRead = readSync(fd, first, 0, first.length, 0);
    const head = first.subarray(0, bytesRead);
    const binary = looksBinary(head);
    if (binary && !scanBinaries) return { findings: [], bytes: 0, binary: true };
    const encoding = binary ? 'latin1' : 'utf8';
    if (bytesRead < CHUNK_BYTES) {
      return {
        findings: detector.detect({ text: head.toString(encoding), path: entry.path }),
        bytes: bytesRead,
        binary,
      };
    }
    return scanChunks(detector, entry, fd, head, encoding, binary);
  } catch (e) {
    return unreadable(entry, e);
  } finally {
    closeSync(fd);
  }
}

function scanChunks(
  detector: Detector,
  entry: FileEntry,
  fd: number,
  head: Buffer,
  encoding: 'utf8' | 'latin1',
  binary: boolean,
): FileResult {
  const decoder = new StringDecoder(encoding);
  const findings: Finding[] = [];
  const seen = new Set<string>();
  let carry = '';
  let carryLine = 1; // line number of carry's first character
  let carryColumn = 0; // characters before carry's first character on its line
  let bytes = 0;
  let position = 0;
  let chunk: Buffer = head;
  const buf = Buffer.allocUnsafe(CHUNK_BYTES);
  for (;;) {
    bytes += chunk.length;
    position += chunk.length;
    const text = carry + decoder.write(chunk);
    for (const f of detector.detect({
      text,
      path: entry.path,
      startLine: carryLine,
      startColumn: carryColumn,
    })) {
      const key = `${f.ruleId}:${f.fingerprint}:${f.location.line}:${f.location.column}`;
      if (!seen.has(key)) {
        seen.add(key);
        findings.push(f);
      }
    }
    const bytesRead = readSync(fd, buf, 0, buf.length, position);
    if (bytesRead === 0) break;
    const cut = Math.max(0, text.length - OVERLAP_CHARS);
    const lastNewline = text.lastIndexOf('\n', cut - 1);
    carryColumn = lastNewline < 0 ? carryColumn + cut : cut - lastNewline - 1;
    carryLine += countNewlines(text, 0, cut);
    carry = text.slice(cut);
    chunk = buf.subarray(0, bytesRead);
    if (seen.size > 10_000) seen.clear(); // keys only matter across one overlap
  }
  return { findings, bytes, binary };
}

function countNewlines(text: string, from: number, to: number): number {
  let n = 0;
  for (let i = text.indexOf('\n', from); i >= 0 && i < to; i = text.indexOf('\n', i + 1)) n++;
  return n;
}

function unreadable(entry: FileEntry, e: unknown): FileResult {
  const code = (e as NodeJS.ErrnoException).code ?? 'error';
  return {
    findings: [],
    bytes: 0,
    binary: false,
    problems: [{ kind: 'unreadable', path: entry.path, message: `cannot read (${code})` }],
  };
}
