import type { OnSecret } from '../errors.js';
import { flattenJsonSecret, type NameTransformation, parseJsonObject, toEnvName } from '../naming.js';
import type { NamedSecret, SecretOrigin } from '../types.js';
import type { FetchedAwsSecret } from './fetch.js';

export interface NameAwsSecretsOptions {
  /** `parse-json-secrets`: one name per JSON leaf, nested keys joined with `_`. */
  parseJson: boolean;
  transformation: NameTransformation;
  onSecret: OnSecret;
}

/**
 * The base name of a fetched secret, as aws-secretsmanager-get-secrets names it: the alias, else the
 * secret's name. A prefix with an alias that matched several secrets (an error there) names each one
 * ALIAS_REST, REST being the name after the prefix.
 */
function baseName(
  secret: FetchedAwsSecret,
  transformation: NameTransformation,
  matches: number,
): string | undefined {
  const { request } = secret;
  if (request.alias !== undefined && request.alias !== '') {
    if (request.kind === 'prefix' && matches > 1) {
      return `${request.alias}_${toEnvName(secret.name.slice(request.prefix.length), transformation)}`;
    }
    return request.alias;
  }
  return undefined;
}

/** Names fetched Secrets Manager values the way aws-secretsmanager-get-secrets does, so workflows keep working. */
export function nameAwsSecrets(
  fetched: readonly FetchedAwsSecret[],
  options: NameAwsSecretsOptions,
): NamedSecret[] {
  const matchesPerRequest = new Map<unknown, number>();
  for (const secret of fetched)
    matchesPerRequest.set(secret.request, (matchesPerRequest.get(secret.request) ?? 0) + 1);
  const named: NamedSecret[] = [];
  for (const secret of fetched) {
    const origin: SecretOrigin = {
      store: 'aws-secrets-manager',
      requested: secret.request.kind === 'prefix' ? secret.name : secret.request.id,
      location: secret.arn,
    };
    if (secret.versionId !== undefined) origin.version = secret.versionId;
    const alias = baseName(secret, options.transformation, matchesPerRequest.get(secret.request) ?? 1);
    const json = options.parseJson ? parseJsonObject(secret.value.reveal()) : undefined;
    if (json !== undefined) {
      // A blank alias (`,secret-id`) names the leaves by their keys alone.
      const prefix =
        secret.request.alias === '' ? '' : (alias ?? toEnvName(secret.name, options.transformation));
      for (const leaf of flattenJsonSecret(json, prefix, options.transformation, options.onSecret)) {
        named.push({ name: leaf.name, value: leaf.value, origin: { ...origin, field: leaf.keyPath } });
      }
      continue;
    }
    named.push({
      name: alias ?? toEnvName(secret.name, options.transformation),
      value: secret.value,
      origin,
    });
  }
  return named;
}
