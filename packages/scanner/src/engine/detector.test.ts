import { createHash, randomInt } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ALNUM, fake, randomString } from '../../../../test/support/secrets.js';
import { defaultConfig } from '../config.js';
import { createDetector } from '../rules/builtin.js';
import { compileRule } from '../rules/compile.js';
import type { RuleSpec } from '../rules/types.js';
import { type AllowEntry, Detector } from './detector.js';

const SPECS: RuleSpec[] = [
  {
    id: 'github-pat',
    description: 'GitHub personal access token',
    keywords: ['ghp_'],
    regex: '(ghp_[A-Za-z0-9]{36})(?![A-Za-z0-9])',
  },
  {
    id: 'private-key',
    description: 'Private key',
    keywords: ['private key-----'],
    regex:
      '(-----BEGIN (?:RSA |EC )?PRIVATE KEY-----[\\s\\S]{64,8192}?-----END (?:RSA |EC )?PRIVATE KEY-----)',
    multiline: true,
  },
  {
    id: 'generic-secret-assignment',
    description: 'Secret assigned to a secret-like name',
    keywords: ['token', 'secret', 'password'],
    regex: '(?:token|secret|password)["\']?\\s*[:=]\\s*["\']([^"\'\\s]{8,128})["\']',
    flags: 'i',
    confidence: 'medium',
    entropy: 3,
  },
];

function detector(allowlist: AllowEntry[] = []): Detector {
  return new Detector(
    SPECS.map((spec) => compileRule(spec)),
    { allowlist },
  );
}

describe('Detector', () => {
  it('reports a token with its line and column, and never the token itself', () => {
    const token = fake.githubPat();
    const findings = detector().detect({ text: `a\nb\n  const t = '${token}';\n`, path: 'src/a.ts' });
    expect(findings).toHaveLength(1);
    expect(findings[0]).toMatchObject({
      ruleId: 'github-pat',
      location: { path: 'src/a.ts', line: 3, column: 14 },
    });
    expect(JSON.stringify(findings)).not.toContain(token);
    expect(findings[0]!.redacted).toBe('ghp_… (32-63 chars)');
  });

  it("shows only a format's public prefix: none of a password's characters", () => {
    // A digit and both cases: letters alone can read as a word, which the generic rule rightly drops.
    const password = `${randomString(9)}${randomInt(10)}aZ`;
    const findings = detector().detect({ text: `password = "${password}"\n`, path: 'x' });
    expect(findings.map((f) => [f.ruleId, f.redacted])).toEqual([
      ['generic-secret-assignment', '… (8-15 chars)'],
    ]);
  });

  it('fingerprints with HMAC under a key, else scrypt; never the unsalted sha256 of rule and secret', () => {
    const token = fake.githubPat();
    const v1 = createHash('sha256').update(`github-pat:${token}`).digest('hex');
    const keyed = (key: string) =>
      new Detector(
        SPECS.map((spec) => compileRule(spec)),
        { fingerprint: { key } },
      ).detect({ text: token, path: 'a' })[0]!;
    const a = keyed('key-one');
    expect(a.fingerprintScheme).toBe('hmac');
    expect(a.fingerprint).toMatch(/^[0-9a-f]{64}$/);
    expect(keyed('key-one').fingerprint).toBe(a.fingerprint);
    expect(keyed('key-two').fingerprint).not.toBe(a.fingerprint);
    const slow = detector().detect({ text: token, path: 'a' })[0]!;
    expect(slow.fingerprintScheme).toBe('scrypt');
    expect(slow.fingerprint).toMatch(/^[0-9a-f]{64}$/);
    expect(detector().detect({ text: ` ${token}`, path: 'b' })[0]!.fingerprint).toBe(slow.fingerprint);
    for (const f of [a, slow]) {
      expect(f.fingerprint).not.toBe(v1);
      expect(f.legacyFingerprint).toBeUndefined();
    }
  });

  it('gives one finding per secret when a generic rule overlaps a provider rule', () => {
    const token = fake.githubPat();
    const findings = detector().detect({ text: `token = "${token}"`, path: 'x' });
    expect(findings.map((f) => f.ruleId)).toEqual(['github-pat']);
  });

  it('gives the same fingerprint to the same secret wherever it is', () => {
    const token = fake.githubPat();
    const a = detector().detect({ text: token, path: 'a' });
    const b = detector().detect({ text: `\n\n x ${token}`, path: 'b' });
    expect(a[0]!.fingerprint).toBe(b[0]!.fingerprint);
  });

  it.each(['keyfence:allow', 'gitleaks:allow', 'trufflehog:ignore', 'pragma: allowlist secret'])(
    'honours the inline marker %s on the line',
    (marker) => {
      const token = fake.githubPat();
      const text = `t1 = "${token}" # ${marker}\nt2 = "${fake.githubPat()}"\n`;
      const findings = detector().detect({ text, path: 'x' });
      expect(findings.map((f) => f.location.line)).toEqual([2]);
    },
  );

  it('finds a multi-line private key', () => {
    const pem = fake.rsaPrivateKey();
    const findings = detector().detect({ text: `# key\n${pem}`, path: 'id_rsa' });
    expect(findings).toMatchObject([{ ruleId: 'private-key', location: { line: 2 } }]);
    expect(findings[0]!.location.endLine).toBeGreaterThan(10);
  });

  it('decodes base64 and percent-encoded values and scans them again', () => {
    const token = fake.githubPat();
    const b64 = Buffer.from(`{"auth":"${token}"}`).toString('base64');
    const pct = encodeURIComponent(`password="${fake.password()}"`);
    const findings = detector().detect({ text: `data: ${b64}\nurl=${pct}\n`, path: 'k8s.yaml' });
    expect(findings.map((f) => [f.location.line, f.location.decodedFrom])).toEqual([
      [1, ['base64']],
      [2, ['percent']],
    ]);
  });

  it('drops placeholders, documentation examples and low-entropy generic values', () => {
    const text = [
      `token = "ghp_${'x'.repeat(36)}"`,
      'password = "${DB_PASSWORD}"',
      'secret = "<your-secret-here>"',
      'password = "aaaaaaaaaaaa"',
      'token: "changeme-now"',
      'secret = "EXAMPLEKEY12345678"',
    ].join('\n');
    expect(detector().detect({ text, path: 'x' })).toEqual([]);
  });

  it('reports generic assignments of random values', () => {
    const findings = detector().detect({ text: `password = "${fake.password()}"`, path: 'x' });
    expect(findings).toMatchObject([{ ruleId: 'generic-secret-assignment', confidence: 'medium' }]);
  });

  it('applies allowlist regexes, stopwords and path limits', () => {
    const token = fake.githubPat();
    const other = fake.githubPat();
    const entries: AllowEntry[] = [
      { regexes: [new RegExp(token.slice(0, 12))], regexTarget: 'secret', stopwords: [] },
      {
        regexes: [],
        regexTarget: 'secret',
        stopwords: [other.slice(4, 14).toLowerCase()],
        paths: (p) => p === 'b',
      },
    ];
    const text = `${token}\n${other}\n`;
    expect(
      detector(entries)
        .detect({ text, path: 'a' })
        .map((f) => f.location.line),
    ).toEqual([2]);
    expect(detector(entries).detect({ text, path: 'b' })).toEqual([]);
  });

  it('scans only near keywords, so a long line without one costs no regex work', () => {
    const text = `${randomString(200_000)} ${fake.githubPat()}`;
    expect(detector().detect({ text, path: 'min.js' })).toHaveLength(1);
  });

  it('offsets lines by the fragment start line', () => {
    const findings = detector().detect({ text: `\n${fake.githubPat()}`, path: 'x', startLine: 100 });
    expect(findings[0]!.location.line).toBe(101);
  });
});

describe('the built-in rules and random tokens that hold a placeholder word by chance', () => {
  it('reports GitHub PATs with xxxx, dummy or example inside their random part', () => {
    const detect = createDetector(defaultConfig());
    for (const word of ['xxxx', 'XXXX', 'dummy', 'DUMMY', 'example', 'EXAMPLE', 'Example']) {
      const body = Array.from({ length: 36 }, () => ALNUM[randomInt(ALNUM.length)]).join('');
      // 4..(36 - word - 4): well inside, away from the prefix and the token's end.
      const at = 4 + randomInt(36 - word.length - 8);
      const token = `ghp_${body.slice(0, at)}${word}${body.slice(at + word.length)}`;
      const findings = detect.detect({ text: `GITHUB_TOKEN=${token}\n`, path: '.env' });
      expect(findings.map((f) => f.ruleId)).toEqual(['github-pat']);
    }
    expect(detect.detect({ text: `GITHUB_TOKEN=ghp_${'x'.repeat(36)}\n`, path: '.env' })).toEqual([]);
  });

  it('reports bearer tokens whose random part holds a short stopword of the rule (your, xxxx) by chance', () => {
    const detect = createDetector(defaultConfig());
    for (const word of ['your', 'YOUR', 'xxxx', 'XXXX']) {
      for (let i = 0; i < 20; i++) {
        // Upper, lower and digit at the front: the token looks random, as real ones do.
        const body = `aB3${Array.from({ length: 37 }, () => ALNUM[randomInt(ALNUM.length)]).join('')}`;
        const at = 6 + randomInt(body.length - word.length - 12);
        const token = `${body.slice(0, at)}${word}${body.slice(at + word.length)}`;
        const findings = detect.detect({
          text: `curl -H "Authorization: Bearer ${token}" api\n`,
          path: 'run.sh',
        });
        expect(
          findings.map((f) => f.ruleId),
          token,
        ).toContain('http-bearer-authorization-header');
      }
    }
    expect(
      detect.detect({
        text: 'curl -H "Authorization: Bearer your-token-goes-here-1234" api\n',
        path: 'a.sh',
      }),
    ).toEqual([]);
  });
});
