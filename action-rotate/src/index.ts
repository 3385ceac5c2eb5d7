// The bundle's entry point; main.ts starts nothing on import.
import { run } from './main.js';

await run();
