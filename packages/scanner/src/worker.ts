import { parentPort, workerData } from 'node:worker_threads';
import type { ScanConfig } from './config.js';
import { createDetector } from './rules/builtin.js';
import type { FileEntry } from './sources/files.js';
import { type FileResult, scanFile } from './sources/read.js';

/** A batch of files sent to a worker. */
export interface WorkerTask {
  id: number;
  files: FileEntry[];
}

/** What a worker sends back for a batch. */
export interface WorkerReply {
  id: number;
  results: FileResult[];
}

const { config, scanBinaries } = workerData as { config: ScanConfig; scanBinaries: boolean };
const detector = createDetector(config);
parentPort!.on('message', (task: WorkerTask) => {
  const results: FileResult[] = [];
  for (const file of task.files) results.push(scanFile(detector, file, scanBinaries));
  parentPort!.postMessage({ id: task.id, results } satisfies WorkerReply);
});
parentPort!.postMessage('ready');
