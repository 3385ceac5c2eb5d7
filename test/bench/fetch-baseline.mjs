// The baseline of the fetch benchmark: what aws-secretsmanager-get-secrets does today, as a step
// the runner starts with `node`. For each line of INPUT_SECRET-IDS, in order: a name or ARN is one
// GetSecretValue call; a prefix ending in `*` is expanded with ListSecrets (name filter, every
// page) and then each match is one GetSecretValue call. Each value is masked (`::add-mask::`)
// and exported to GITHUB_ENV as the runner's toolkit does, one secret after another, no batching.
//
// The harness bundles this file with ncc (as that action ships a bundle) and runs the bundle;
// it takes the region, endpoint and credentials from the environment like the SDK always does.

import { randomUUID } from 'node:crypto';
import { appendFileSync } from 'node:fs';
import {
  GetSecretValueCommand,
  ListSecretsCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';

const client = new SecretsManagerClient({});

function envName(secretName) {
  return secretName.toUpperCase().replace(/[^A-Z0-9_]/g, '_');
}

function exportVariable(name, value) {
  const delimiter = `ghadelimiter_${randomUUID()}`;
  appendFileSync(process.env.GITHUB_ENV, `${name}<<${delimiter}\n${value}\n${delimiter}\n`);
}

async function expand(id) {
  if (!id.endsWith('*')) return [id];
  const prefix = id.slice(0, -1);
  const names = [];
  let NextToken;
  do {
    const page = await client.send(
      new ListSecretsCommand({ Filters: [{ Key: 'name', Values: [prefix] }], MaxResults: 100, NextToken }),
    );
    for (const s of page.SecretList ?? []) if (s.Name?.startsWith(prefix)) names.push(s.Name);
    NextToken = page.NextToken;
  } while (NextToken);
  return names;
}

async function main() {
  const ids = (process.env['INPUT_SECRET-IDS'] ?? '')
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  let count = 0;
  for (const id of ids) {
    for (const name of await expand(id)) {
      const r = await client.send(new GetSecretValueCommand({ SecretId: name }));
      const value = r.SecretString ?? Buffer.from(r.SecretBinary ?? []).toString('utf8');
      process.stdout.write(`::add-mask::${value}\n`);
      exportVariable(envName(r.Name ?? name), value);
      count++;
    }
  }
  process.stdout.write(`Fetched ${count} secrets\n`);
}

main().catch((err) => {
  process.stdout.write(`::error::${err.message}\n`);
  process.exitCode = 1;
});
