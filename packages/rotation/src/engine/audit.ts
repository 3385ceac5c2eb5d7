import { appendFileSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';

/** One line of the audit log: what a step did to which versions, and how long it took. Never a value. */
export interface AuditRecord {
  time: string;
  /** The run's id, shared by every record of one `keyfence rotate` invocation. */
  run: string;
  runbook: string;
  step: string;
  outcome: 'ok' | 'skipped' | 'failed' | 'warning';
  versions?: { current?: string; pending?: string; previous?: string };
  durationMs?: number;
  message?: string;
  code?: string;
}

/** Where audit records go. */
export interface AuditSink {
  write(record: AuditRecord): void;
}

/** Appends one JSON line per record, synchronously, so a crash loses at most the record being written. */
export class JsonlAuditFile implements AuditSink {
  readonly path: string;

  constructor(path: string) {
    this.path = path;
    mkdirSync(dirname(path), { recursive: true });
  }

  write(record: AuditRecord): void {
    appendFileSync(this.path, `${JSON.stringify(record)}\n`, { mode: 0o600 });
  }
}

/** Keeps records in memory (for summaries and tests). */
export class MemoryAudit implements AuditSink {
  readonly records: AuditRecord[] = [];

  write(record: AuditRecord): void {
    this.records.push(record);
  }
}

/** Writes every record to each sink. */
export function teeAudit(...sinks: AuditSink[]): AuditSink {
  return {
    write: (record) => {
      for (const sink of sinks) sink.write(record);
    },
  };
}
