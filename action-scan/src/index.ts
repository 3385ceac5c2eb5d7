// The bundle's entry point; tests import run() from main.ts, which starts nothing on import.
import { run } from './main.js';

await run();
