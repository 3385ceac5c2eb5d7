export {
  createSecretsManagerClient,
  type SecretsManagerClientLike,
  type SecretsManagerClientOptions,
} from './aws/client.js';
export {
  BATCH_GET_LIMIT,
  chunk,
  type FetchedAwsSecret,
  type FetchSecretsOptions,
  fetchSecretsManagerSecrets,
  listSecretsByPrefix,
} from './aws/fetch.js';
export { type NameAwsSecretsOptions, nameAwsSecrets } from './aws/naming.js';
export {
  MAX_SESSION_POLICY_LENGTH,
  type SessionPolicy,
  type SessionPolicyScope,
  secretsReadSessionPolicy,
} from './aws/policy.js';
export {
  parseSecretArn,
  parseSecretIds,
  type SecretArn,
  type SecretsManagerRequest,
} from './aws/secret-ids.js';
export { type OnSecret, StoreErrorCode } from './errors.js';
export {
  checkNames,
  ENV_NAME,
  flattenJsonSecret,
  type JsonLeaf,
  type NameTransformation,
  parseJsonObject,
  toEnvName,
} from './naming.js';
export * from './rotation/index.js';
export { describeOrigin, type NamedSecret, type SecretOrigin, type StoreKind } from './types.js';
export {
  readVaultSecrets,
  secretDataFromResponse,
  type VaultReadOptions,
  type VaultSecretData,
} from './vault/kv.js';
export { normalizeVaultKeyName, parseVaultSecrets, type VaultSecretRequest } from './vault/secrets-syntax.js';
