export {
  type AnnotationLevel,
  type AnnotationProperties,
  addMaskCommands,
  annotationCommand,
  escapeCommandData,
  escapeCommandProperty,
  workflowCommand,
} from './commands.js';
export { looksLikeCommand, neutraliseJson, neutraliseLines, renderUntrusted } from './render.js';
export {
  createRunner,
  keyValueMessage,
  type Runner,
  type RunnerOptions,
  type TextSink,
  writeJson,
  writeText,
} from './runner.js';
