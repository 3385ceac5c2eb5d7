export {
  bypassesProxy,
  createHttpSend,
  type HttpRequest,
  type HttpResponse,
  type HttpSend,
  HttpTransportError,
  proxyAgentsFromEnv,
  proxySettingsFromEnv,
} from '@keyfence/core';
export { parseRoleArn, type RoleArn } from './aws/role-arn.js';
export { DEFAULT_ROLE_SESSION_NAME, sanitizeRoleSessionName } from './aws/session-name.js';
export {
  type AssumeRoleParams,
  type AwsCredentials,
  assumeRoleWithCurrentCredentials,
  assumeRoleWithWebIdentity,
  createStsClient,
  DEFAULT_STS_RETRY,
  type StsCallOptions,
  type StsClientLike,
  type StsClientOptions,
} from './aws/sts.js';
export { explainStsError, isRetryableStsError, type StsFailureSituation } from './aws/sts-errors.js';
export { IdentityErrorCode, type OnSecret } from './errors.js';
export { describeClaims, readTokenClaims, type TokenClaims } from './github/claims.js';
export {
  assertIdTokenAvailable,
  type GitHubIdToken,
  type IdTokenOptions,
  isRetryableTokenRequestError,
  requestGitHubIdToken,
} from './github/id-token.js';
export {
  type AssumedJobRole,
  type AwsRoleInputs,
  assertIdTokenForInputs,
  assumeJobRole,
  awsCredentialsEnv,
  type IdentityInputs,
  type JobIdentityOptions,
  loginToVaultAsJob,
  readIdentityInputs,
  type VaultLoginInputs,
} from './job.js';
export {
  type VaultJwtLoginParams,
  type VaultLoginOptions,
  type VaultToken,
  vaultJwtLogin,
} from './vault/jwt-login.js';
