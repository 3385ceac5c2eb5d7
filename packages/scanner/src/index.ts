export {
  Baseline,
  type BaselineFile,
  createBaseline,
  fingerprintSettings,
  parseBaseline,
  readBaseline,
  rewriteBaseline,
  writeBaseline,
} from './baseline.js';
export {
  type AllowEntrySpec,
  CONFIG_FILE_NAMES,
  defaultConfig,
  findConfigFile,
  loadConfig,
  parseConfig,
  type ScanConfig,
} from './config.js';
export {
  type CheckoutSettingsOptions,
  type ConfigInForce,
  checkoutSource,
  configChanges,
  describeSource,
  folderOf,
  loadCheckoutSettings,
  loadTrustedSettings,
  type SettingsOrigin,
  type SettingsSource,
  type TrustedSettingsOptions,
} from './config-source.js';
export { Detector, type Fragment } from './engine/detector.js';
export { shannonEntropy } from './engine/entropy.js';
export {
  FINGERPRINT_KEY_ENV,
  Fingerprinter,
  type FingerprintScheme,
  type FingerprintSettings,
} from './engine/fingerprint.js';
export type { Confidence, Finding, Location, ScanProblem } from './finding.js';
export { mergeScanResults } from './merge.js';
export {
  type Annotation,
  findingAnnotations,
  findingsToGithubSummary,
  GITHUB_ANNOTATIONS_PER_STEP,
  GITHUB_SUMMARY_MAX_BYTES,
  type GithubRepoContext,
  type GithubSummaryOptions,
  markdownText,
} from './report/github.js';
export { findingsToJson } from './report/json.js';
export { findingsToSarif, SARIF_MAX_RESULTS, sarifResultCount } from './report/sarif.js';
export { findingsToText } from './report/text.js';
export { BUILTIN_RULES, createDetector, selectRules } from './rules/builtin.js';
export { compileRule, isLinearSafe, validateRuleSpec } from './rules/compile.js';
export type { CompiledRule, RuleSpec } from './rules/types.js';
export { type ScanOptions, type ScanResult, type ScanStats, scanPaths } from './scan.js';
export { type ArchiveInput, type ArchiveScanOptions, scanArchives } from './scan-archive.js';
export { type GitScanOptions, scanGit } from './scan-git.js';
export { DEFAULT_PLATFORM, type ImageScanOptions, scanImages } from './scan-image.js';
export type { InputScanSettings } from './scan-inputs.js';
export { CHAIN_SEPARATOR } from './sources/archive.js';
export { dockerCredentials, type RegistryCredential } from './sources/docker-config.js';
export { ensureCommit, ensureRange, type GitRange, gitFragments, gitTopLevel } from './sources/git.js';
export {
  type GithubEventInput,
  pullRequestBase,
  resolveNewRef,
  resolvePushRange,
  resolveScanTarget,
  SCAN_MODES,
  type ScanMode,
  type ScanTarget,
} from './sources/github-event.js';
export { type ArchiveMatches, isArchiveGlob, matchArchiveArgs } from './sources/globs.js';
export { CONFIG_PATHS, Whiteouts } from './sources/image.js';
export { type ArchiveLimits, DEFAULT_LIMITS, formatBytes, parseBytes } from './sources/limits.js';
export { type Platform, parsePlatform } from './sources/oci.js';
export { type ImageReference, parseImageReference } from './sources/registry.js';
