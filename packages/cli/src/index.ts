export { EXIT, type Io } from './io.js';
export { main } from './main.js';
export { VERSION } from './version.js';
