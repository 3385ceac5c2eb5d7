import { ARN_SUFFIX, type SecretsManagerRequest } from './secret-ids.js';

/** AWS's limit on the plain text of a session policy (inline plus managed). */
export const MAX_SESSION_POLICY_LENGTH = 2048;

/** What the secrets' ARNs are built from when only a name was given. */
export interface SessionPolicyScope {
  /** `aws`, `aws-cn`, `aws-us-gov`, ...: take it from the role ARN. */
  partition: string;
  /** The role's account; `*` when unknown. */
  accountId?: string;
  /** The region of secrets given by name or prefix; `*` when unknown. */
  region?: string;
}

/** A session policy document and what it allows. */
export interface SessionPolicy {
  /** The policy as minified JSON, ready for the STS `Policy` parameter. */
  document: string;
  /** The secret ARN patterns GetSecretValue is allowed on. */
  resources: string[];
  /** True when exact patterns were merged into wider prefixes to fit the size limit. */
  widened: boolean;
}

function resourcesFor(request: SecretsManagerRequest, scope: SessionPolicyScope): string[] {
  if (request.kind === 'arn') {
    // A full ARN ends in the 6-character suffix; a partial one does not, and a name may itself end in
    // `-abcdef`, so an ARN that looks full is allowed both as written and with a suffix.
    return ARN_SUFFIX.test(request.arn.resourceName)
      ? [request.id, `${request.id}-??????`]
      : [`${request.id}-??????`];
  }
  const base = `arn:${scope.partition}:secretsmanager:${scope.region || '*'}:${scope.accountId || '*'}:secret:`;
  return request.kind === 'prefix' ? [`${base}${request.prefix}*`] : [`${base}${request.id}-??????`];
}

function render(resources: readonly string[], listSecrets: boolean): string {
  return JSON.stringify({
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'ReadRequestedSecrets',
        Effect: 'Allow',
        Action: 'secretsmanager:GetSecretValue',
        Resource: resources,
      },
      {
        // BatchGetSecretValue is authorised per secret through GetSecretValue above; ListSecrets
        // (names and metadata, no values) has no resource-level permissions and is only needed for prefixes.
        Sid: 'BatchAndList',
        Effect: 'Allow',
        Action: listSecrets
          ? ['secretsmanager:BatchGetSecretValue', 'secretsmanager:ListSecrets']
          : 'secretsmanager:BatchGetSecretValue',
        Resource: '*',
      },
      {
        // Secrets encrypted with a customer-managed key need kms:Decrypt, but only through Secrets Manager.
        Sid: 'DecryptThroughSecretsManager',
        Effect: 'Allow',
        Action: 'kms:Decrypt',
        Resource: '*',
        Condition: { StringLike: { 'kms:ViaService': 'secretsmanager.*' } },
      },
    ],
  });
}

function literalPrefixLength(pattern: string): number {
  const wildcard = pattern.search(/[*?]/);
  return wildcard === -1 ? pattern.length : wildcard;
}

function commonPrefixLength(a: string, b: string): number {
  const limit = Math.min(literalPrefixLength(a), literalPrefixLength(b));
  let length = 0;
  while (length < limit && a[length] === b[length]) length++;
  return length;
}

/** Merges the two most similar patterns (and all others sharing their prefix) into `prefix*`. */
function widenOnce(resources: readonly string[]): string[] {
  const sorted = [...resources].sort();
  let best = -1;
  let bestIndex = 0;
  for (let index = 0; index + 1 < sorted.length; index++) {
    const length = commonPrefixLength(sorted[index]!, sorted[index + 1]!);
    if (length > best) {
      best = length;
      bestIndex = index;
    }
  }
  const prefix = sorted[bestIndex]!.slice(0, Math.max(0, best));
  return [...sorted.filter((resource) => !resource.startsWith(prefix)), `${prefix}*`];
}

/**
 * The least-privilege session policy for reading exactly the requested secrets: GetSecretValue on
 * their ARNs (names become `NAME-??????`, prefixes `PREFIX*`), BatchGetSecretValue, ListSecrets only
 * for prefixes, and kms:Decrypt only via Secrets Manager. When the exact list is over AWS's 2048
 * characters, the most similar patterns are merged into common prefixes until it fits.
 */
export function secretsReadSessionPolicy(
  requests: readonly SecretsManagerRequest[],
  scope: SessionPolicyScope,
  maxLength = MAX_SESSION_POLICY_LENGTH,
): SessionPolicy {
  const listSecrets = requests.some((request) => request.kind === 'prefix');
  let resources = [...new Set(requests.flatMap((request) => resourcesFor(request, scope)))];
  let widened = false;
  let document = render(resources, listSecrets);
  while (document.length > maxLength && resources.length > 1) {
    resources = widenOnce(resources);
    widened = true;
    document = render(resources, listSecrets);
  }
  return { document, resources, widened };
}
