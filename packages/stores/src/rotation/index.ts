export { AwsRotationVault, LOCK_STAGE, type RotationSecretsManagerClient } from './aws.js';
export { canonicalJson, Kv2RotationVault, type Kv2RotationVaultOptions } from './kv2.js';
export {
  type LockInfo,
  type LockResult,
  type PromotionRecord,
  type RotationState,
  RotationStoreErrorCode,
  type RotationVault,
  type RotationVersionRef,
  STAGE,
} from './types.js';
