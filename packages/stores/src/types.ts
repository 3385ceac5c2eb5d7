import type { SecretValue } from '@keyfence/core';

export type StoreKind = 'aws-secrets-manager' | 'vault';

/** Where a named value came from; printed in summaries and collision errors, never the value. */
export interface SecretOrigin {
  store: StoreKind;
  /** How the user asked for it: a secret name, an ARN, `path key` for Vault. */
  requested: string;
  /** The resolved location: the secret's ARN, or the Vault path. */
  location: string;
  /** A JSON key path or Vault key inside the secret, when the value is one field of it. */
  field?: string;
  version?: string;
}

/** One value ready to be handed out under a name (an env var, an output, a file). */
export interface NamedSecret {
  name: string;
  value: SecretValue;
  origin: SecretOrigin;
}

/** A short human description of an origin, e.g. `aws-secrets-manager "prod/db" (JSON key user)`. */
export function describeOrigin(origin: SecretOrigin): string {
  const field =
    origin.field === undefined ? '' : ` (${origin.store === 'vault' ? 'key' : 'JSON key'} ${origin.field})`;
  return `${origin.store} "${origin.requested}"${field}`;
}
