// Generators for the secrets planted into the benchmark corpus.
//
// Every value is produced at run time from a byte source (crypto.randomBytes, or a
// SHA-256 counter stream when a seed is given) and written only into the corpus
// folder outside the repository. Nothing generated here is ever committed.

import { spawnSync } from 'node:child_process';
import { createHash, createHmac, generateKeyPairSync, randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const UPPER = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';
export const LOWER = 'abcdefghijklmnopqrstuvwxyz';
export const DIGITS = '0123456789';
export const ALNUM = UPPER + LOWER + DIGITS;
export const HEX = '0123456789abcdef';
export const BASE32 = UPPER + '234567';
export const BASE64 = ALNUM + '+/';
export const BASE64URL = ALNUM + '-_';

/** A byte source: cryptographically random, or a deterministic SHA-256 stream when seeded. */
export class ByteSource {
  constructor(seed) {
    this.seed = seed ?? null;
    this.counter = 0;
  }

  bytes(n) {
    if (this.seed === null) return randomBytes(n);
    const chunks = [];
    let have = 0;
    while (have < n) {
      const block = createHash('sha256')
        .update(`${this.seed}:${this.counter++}`)
        .digest();
      chunks.push(block);
      have += block.length;
    }
    return Buffer.concat(chunks).subarray(0, n);
  }

  /** Uniform integer in [0, max) by rejection sampling on 32-bit words. */
  int(max) {
    const limit = Math.floor(0x100000000 / max) * max;
    for (;;) {
      const v = this.bytes(4).readUInt32BE(0);
      if (v < limit) return v % max;
    }
  }

  /** n characters drawn uniformly from alphabet. */
  chars(alphabet, n) {
    let out = '';
    for (let i = 0; i < n; i++) out += alphabet[this.int(alphabet.length)];
    return out;
  }

  pick(list) {
    return list[this.int(list.length)];
  }

  uuid() {
    if (this.seed === null) return randomUUID();
    const h = this.bytes(16).toString('hex');
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
  }
}

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

function crc32(str) {
  let c = 0xffffffff;
  for (const b of Buffer.from(str, 'utf8')) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

const BASE62 = DIGITS + UPPER + LOWER;

function base62(n, width) {
  let out = '';
  let v = n;
  while (v > 0) {
    out = BASE62[v % 62] + out;
    v = Math.floor(v / 62);
  }
  return out.padStart(width, '0');
}

/** GitHub / npm style token: prefix + 30 random base62 chars + 6-char base62 CRC32 checksum. */
function checksummedToken(rng, prefix) {
  const body = rng.chars(ALNUM, 30);
  return `${prefix}${body}${base62(crc32(body), 6)}`;
}

function b64url(buf) {
  return Buffer.from(buf).toString('base64url');
}

function makeJwt(rng) {
  const now = 1_700_000_000 + rng.int(60_000_000);
  const header = { alg: 'HS256', typ: 'JWT' };
  const payload = {
    iss: 'https://auth.payments.example-corp.io/',
    sub: rng.uuid(),
    aud: 'orders-api',
    name: rng.pick(['Ada Byron', 'Grace Hopper', 'Alan Turing', 'Edsger Dijkstra', 'Barbara Liskov']),
    email: `${rng.chars(LOWER, 7)}@example-corp.io`,
    roles: ['orders:read', 'orders:write'],
    iat: now,
    exp: now + 3600 * 24 * 30,
    jti: rng.chars(ALNUM, 16),
  };
  const signingInput = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(payload))}`;
  const sig = createHmac('sha256', rng.bytes(32)).update(signingInput).digest();
  return `${signingInput}.${b64url(sig)}`;
}

function makeRsaPem() {
  const { privateKey } = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs1', format: 'pem' },
  });
  return privateKey.trimEnd();
}

let sshKeygenChecked = null;
function makeOpenSshKey() {
  if (sshKeygenChecked === false) return null;
  const dir = mkdtempSync(join(tmpdir(), 'kf-bench-ssh-'));
  try {
    const file = join(dir, 'id_ed25519');
    const r = spawnSync(
      'ssh-keygen',
      ['-q', '-t', 'ed25519', '-N', '', '-C', 'deploy@build-01', '-f', file],
      {
        stdio: 'ignore',
      },
    );
    if (r.error || r.status !== 0) {
      sshKeygenChecked = false;
      return null;
    }
    sshKeygenChecked = true;
    return readFileSync(file, 'utf8').trimEnd();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Planted formats. `gen(rng)` returns the secret (or null when it cannot be produced here),
 * `env` / `name` are the variable names used in the surrounding code, `kind` selects templates.
 */
export const FORMATS = [
  {
    id: 'aws-access-key',
    label: 'AWS access key id + secret key',
    kind: 'aws',
    gen: (rng) => ({ id: `AKIA${rng.chars(BASE32, 16)}`, secret: rng.chars(BASE64, 40) }),
  },
  {
    id: 'github-classic-pat',
    label: 'GitHub classic PAT (ghp_)',
    env: 'GITHUB_TOKEN',
    name: 'githubToken',
    gen: (rng) => checksummedToken(rng, 'ghp_'),
  },
  {
    id: 'github-fine-grained-pat',
    label: 'GitHub fine-grained PAT (github_pat_)',
    env: 'GH_PAT',
    name: 'githubPat',
    gen: (rng) => `github_pat_${rng.chars(ALNUM, 22)}_${rng.chars(ALNUM, 59)}`,
  },
  {
    id: 'gitlab-pat',
    label: 'GitLab PAT (glpat-)',
    env: 'GITLAB_TOKEN',
    name: 'gitlabToken',
    gen: (rng) => `glpat-${rng.chars(ALNUM + '-_', 20)}`,
  },
  {
    id: 'slack-bot-token',
    label: 'Slack bot token (xoxb-)',
    env: 'SLACK_BOT_TOKEN',
    name: 'slackBotToken',
    gen: (rng) =>
      `xoxb-${rng.chars(DIGITS, 10 + rng.int(4))}-${rng.chars(DIGITS, 10 + rng.int(4))}-${rng.chars(ALNUM, 24)}`,
  },
  {
    id: 'slack-webhook',
    label: 'Slack incoming webhook URL',
    env: 'SLACK_WEBHOOK_URL',
    name: 'slackWebhookUrl',
    gen: (rng) =>
      `https://hooks.slack.com/services/T${rng.chars(UPPER + DIGITS, 8 + rng.int(3))}/B${rng.chars(
        UPPER + DIGITS,
        8 + rng.int(3),
      )}/${rng.chars(ALNUM, 24)}`,
  },
  {
    id: 'stripe-live-secret',
    label: 'Stripe live secret key (sk_live_)',
    env: 'STRIPE_SECRET_KEY',
    name: 'stripeSecretKey',
    gen: (rng) => `sk_live_${rng.chars(ALNUM, 24 + rng.int(76))}`,
  },
  {
    id: 'sendgrid-api-key',
    label: 'SendGrid API key (SG.)',
    env: 'SENDGRID_API_KEY',
    name: 'sendgridApiKey',
    gen: (rng) => `SG.${rng.chars(BASE64URL, 22)}.${rng.chars(BASE64URL, 43)}`,
  },
  {
    id: 'npm-token',
    label: 'npm access token (npm_)',
    env: 'NPM_TOKEN',
    name: 'npmToken',
    gen: (rng) => checksummedToken(rng, 'npm_'),
  },
  {
    id: 'openai-project-key',
    label: 'OpenAI project key (sk-proj-, 48 chars)',
    env: 'OPENAI_API_KEY',
    name: 'openaiApiKey',
    gen: (rng) => `sk-proj-${rng.chars(BASE64URL, 48)}`,
  },
  {
    id: 'openai-project-key-t3blbkfj',
    label: 'OpenAI project key (sk-proj-, T3BlbkFJ marker)',
    env: 'OPENAI_API_KEY',
    name: 'openaiApiKey',
    gen: (rng) => `sk-proj-${rng.chars(BASE64URL, 74)}T3BlbkFJ${rng.chars(BASE64URL, 74)}`,
  },
  {
    id: 'anthropic-api-key',
    label: 'Anthropic API key (sk-ant-api03-)',
    env: 'ANTHROPIC_API_KEY',
    name: 'anthropicApiKey',
    gen: (rng) => `sk-ant-api03-${rng.chars(BASE64URL, 93)}AA`,
  },
  {
    id: 'huggingface-token',
    label: 'Hugging Face token (hf_)',
    env: 'HF_TOKEN',
    name: 'hfToken',
    gen: (rng) => `hf_${rng.chars(UPPER + LOWER, 34)}`,
  },
  {
    id: 'google-api-key',
    label: 'Google API key (AIza)',
    env: 'GOOGLE_MAPS_API_KEY',
    name: 'googleMapsApiKey',
    gen: (rng) => `AIza${rng.chars(BASE64URL, 35)}`,
  },
  {
    id: 'rsa-private-key',
    label: 'RSA private key (PEM)',
    kind: 'pem',
    gen: () => makeRsaPem(),
  },
  {
    id: 'openssh-private-key',
    label: 'OpenSSH private key',
    kind: 'pem',
    gen: () => makeOpenSshKey(),
  },
  {
    id: 'jwt',
    label: 'JWT (HS256)',
    env: 'SESSION_JWT',
    name: 'serviceJwt',
    gen: (rng) => makeJwt(rng),
  },
  {
    id: 'postgres-uri',
    label: 'PostgreSQL URI with password',
    env: 'DATABASE_URL',
    name: 'databaseUrl',
    gen: (rng) =>
      `postgres://orders_app:${rng.chars(ALNUM, 20)}@db-primary.internal.example-corp.io:5432/orders`,
  },
  {
    id: 'twilio-api-key',
    label: 'Twilio API key (SK + 32 hex)',
    env: 'twilio_api_key',
    name: 'twilioApiKey',
    gen: (rng) => `SK${rng.chars(HEX, 32)}`,
  },
  {
    id: 'mailgun-api-key',
    label: 'Mailgun API key (key-)',
    env: 'MAILGUN_API_KEY',
    name: 'mailgunApiKey',
    gen: (rng) => `key-${rng.chars(HEX, 32)}`,
  },
  {
    id: 'digitalocean-pat',
    label: 'DigitalOcean PAT (dop_v1_)',
    env: 'DIGITALOCEAN_TOKEN',
    name: 'digitaloceanToken',
    gen: (rng) => `dop_v1_${rng.chars(HEX, 64)}`,
  },
  {
    id: 'pypi-token',
    label: 'PyPI upload token (pypi-)',
    env: 'PYPI_API_TOKEN',
    name: 'pypiToken',
    gen: (rng) => `pypi-AgEIcHlwaS5vcmc${rng.chars(BASE64URL, 70)}`,
  },
  {
    id: 'dockerhub-pat',
    label: 'Docker Hub PAT (dckr_pat_)',
    env: 'DOCKERHUB_TOKEN',
    name: 'dockerhubToken',
    gen: (rng) => `dckr_pat_${rng.chars(BASE64URL, 27)}`,
  },
  {
    id: 'databricks-token',
    label: 'Databricks token (dapi)',
    env: 'DATABRICKS_TOKEN',
    name: 'databricksToken',
    gen: (rng) => `dapi${rng.chars(HEX, 32)}`,
  },
  {
    id: 'groq-api-key',
    label: 'Groq API key (gsk_)',
    env: 'GROQ_API_KEY',
    name: 'groqApiKey',
    gen: (rng) => `gsk_${rng.chars(ALNUM, 52)}`,
  },
];
