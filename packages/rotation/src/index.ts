export { createRotationTarget, type RotationTarget } from './connect.js';
export { formatDuration, parseDuration } from './duration.js';
export { type AuditRecord, type AuditSink, JsonlAuditFile, MemoryAudit, teeAudit } from './engine/audit.js';
export {
  type EngineDeps,
  type PromotionEvent,
  RotationEngine,
  type RunbookOutcome,
  type RunbookResult,
} from './engine/engine.js';
export { RotationErrorCode } from './errors.js';
export { createNotifier } from './notify.js';
export {
  type RotateMode,
  type RotateReport,
  type RotateRunbooksOptions,
  reportTable,
  resultLine,
  rotateRunbooks,
  selectRunbooks,
} from './run.js';
export {
  checkRunbooks,
  formatRunbookIssue,
  type LoadedRunbooks,
  loadRunbooks,
  type RunbookIssue,
} from './runbook/load.js';
export type {
  AwsIamUpstreamConfig,
  CommandUpstreamConfig,
  NotifyConfig,
  PostgresUpstreamConfig,
  Runbook,
  StoreConfig,
  Strategy,
  TlsMode,
  UpstreamConfig,
  ValidationConfig,
} from './runbook/types.js';
export {
  AwsIamAccessKeyUpstream,
  type AwsIamUpstreamOptions,
  type CallerIdentity,
  type IamClientLike,
} from './upstream/aws-iam.js';
export { CommandUpstream, EXIT_TEMPFAIL } from './upstream/command.js';
export { generatePassword } from './upstream/password.js';
export {
  type DatabaseSecret,
  PostgresUpstream,
  type PostgresUpstreamOptions,
  parseDatabaseSecret,
} from './upstream/postgres.js';
export { scramSha256Verifier } from './upstream/scram.js';
export type { RevokeOutcome, Upstream } from './upstream/types.js';
