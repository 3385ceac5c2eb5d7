/** configure-aws-credentials' default, kept so trust policies that match on the session name keep working. */
export const DEFAULT_ROLE_SESSION_NAME = 'GitHubActions';

const MIN_LENGTH = 2;
const MAX_LENGTH = 64;

/**
 * Turns any string into a valid STS role session name: 2 to 64 characters from `[A-Za-z0-9_=,.@+-]`.
 * Runs of other characters become one `_`; a result shorter than 2 falls back to the default.
 */
export function sanitizeRoleSessionName(name: string): string {
  const cleaned = name
    .trim()
    .replace(/[^\w+=,.@-]+/g, '_')
    .slice(0, MAX_LENGTH);
  return cleaned.length >= MIN_LENGTH ? cleaned : DEFAULT_ROLE_SESSION_NAME;
}
