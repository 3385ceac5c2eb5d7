import { describeOrigin, type NamedSecret } from '@keyfence/stores';
import type { Delivered } from './destinations.js';
import type { Settings } from './inputs.js';

/** What the summary says about the identities used; nothing here is secret. */
export interface IdentitySummary {
  aws?: { roleArn: string; sessionName: string; sessionPolicy: string; assumedRoleArn?: string };
  awsClaims?: string;
  vault?: { url: string; mount: string; role: string; policies: string[]; claims: string };
}

function cell(text: string): string {
  return text.replaceAll('|', '\\|').replaceAll('\n', ' ');
}

function code(text: string): string {
  return `\`${text.replaceAll('`', "'")}\``;
}

/** The job summary: the identities used and every value fetched (name, source, version, destination), never a value. */
export function renderSummary(
  secrets: readonly NamedSecret[],
  settings: Settings,
  identity: IdentitySummary,
  delivered: Delivered,
): string {
  const lines: string[] = ['### keyfence fetch', ''];
  if (identity.aws !== undefined) {
    lines.push(
      `- **AWS**: assumed ${code(identity.aws.assumedRoleArn ?? identity.aws.roleArn)} (session ${code(identity.aws.sessionName)}, ` +
        `session policy: ${identity.aws.sessionPolicy})`,
    );
    if (identity.awsClaims !== undefined) lines.push(`- **OIDC token for AWS**: ${code(identity.awsClaims)}`);
  }
  if (identity.vault !== undefined) {
    lines.push(
      `- **Vault**: ${code(identity.vault.url)}, auth/${identity.vault.mount}, role ${code(identity.vault.role)} ` +
        `(policies: ${identity.vault.policies.map(code).join(', ') || 'none'})`,
    );
    lines.push(`- **OIDC token for Vault**: ${code(identity.vault.claims)}`);
  }
  const where = [...settings.destinations]
    .map((destination) =>
      destination === 'file' && delivered.filesDir !== undefined
        ? `file (${code(delivered.filesDir)})`
        : destination,
    )
    .join(', ');
  lines.push(`- **Delivered to**: ${where}`, '');
  if (secrets.length > 0) {
    lines.push('| Name | Source | Version |', '| --- | --- | --- |');
    for (const secret of secrets) {
      lines.push(
        `| ${code(secret.name)} | ${cell(describeOrigin(secret.origin))} | ${cell(secret.origin.version ?? '')} |`,
      );
    }
  }
  return `${lines.join('\n')}\n`;
}
