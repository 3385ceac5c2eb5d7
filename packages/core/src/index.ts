export type { FormattedError, KeyfenceErrorOptions, SettingNames } from './errors.js';
export {
  ErrorCode,
  FLAG_NAMES,
  formatUserError,
  InternalError,
  isKeyfenceError,
  KeyfenceError,
  USER_ERROR_EXIT_CODE,
} from './errors.js';
export { maskingForms } from './masking.js';
export {
  createHttpSend,
  type HttpRequest,
  type HttpResponse,
  type HttpSend,
  HttpTransportError,
  parseJsonBody,
} from './net/http.js';
export { bypassesProxy, proxyAgentsFromEnv, proxySettingsFromEnv } from './net/proxy.js';
export type { RetryOptions } from './retry.js';
export { isRetryableHttpStatus, retry } from './retry.js';
export {
  type AnnotationLevel,
  type AnnotationProperties,
  addMaskCommands,
  annotationCommand,
  createRunner,
  escapeCommandData,
  escapeCommandProperty,
  keyValueMessage,
  looksLikeCommand,
  neutraliseJson,
  neutraliseLines,
  type Runner,
  type RunnerOptions,
  renderUntrusted,
  type TextSink,
  workflowCommand,
  writeJson,
  writeText,
} from './runner/index.js';
export { REDACTED, SecretValue } from './secret.js';
