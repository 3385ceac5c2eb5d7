import { cleanup } from './cleanup.js';
import { reportFailure } from './report.js';
import { createRunner } from './runner.js';

const runner = createRunner();
try {
  cleanup(runner);
} catch (error) {
  reportFailure(runner, error);
}
