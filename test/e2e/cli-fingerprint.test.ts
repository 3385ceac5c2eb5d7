import { createHash, randomBytes, randomInt } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { keyfence, tempDir } from '../support/cli.js';
import { fake } from '../support/secrets.js';

const WORDS = ['summer', 'winter', 'spring', 'autumn', 'dragon', 'monkey', 'shadow', 'falcon', 'orange'];
const CASES = [(w: string) => w, (w: string) => w[0]!.toUpperCase() + w.slice(1)];
const SUFFIXES = [
  '2023',
  '2024',
  '2025',
  '!',
  '123',
  '1',
  '99',
  '01',
  '2024!',
  '_db',
  '42',
  '007',
  '.',
  '$',
  '+',
  '~',
];

/** 576 guesses a reader of the log would try for a weak database password. */
function guesses(): string[] {
  return WORDS.flatMap((w) => CASES.flatMap((c) => SUFFIXES.flatMap((s) => [c(w) + s, `${c(w)}-${s}`])));
}

const v1 = (rule: string, secret: string) => createHash('sha256').update(`${rule}:${secret}`).digest('hex');

function repoWithWeakPassword(): { dir: string; password: string } {
  const all = guesses();
  const password = all[randomInt(all.length)]!;
  const dir = tempDir();
  writeFileSync(join(dir, '.env'), `DATABASE_URL=postgres://app:${password}@db.internal:5432/app\n`);
  return { dir, password };
}

describe('what a reader of the log can learn', () => {
  it('cannot confirm any of 576 guessed weak passwords from the text report or the JSON report', () => {
    expect(guesses()).toHaveLength(576);
    const { dir, password } = repoWithWeakPassword();
    const text = keyfence(['scan', '.'], dir);
    expect(text.code).toBe(1);
    expect(text.stdout).toContain('postgres-connection-uri');
    const json = keyfence(['scan', '.', '--format', 'json'], dir);
    const [finding] = JSON.parse(json.stdout).findings;
    // Without a key the log shows no fingerprint and no character of the password.
    expect(finding.redacted).toMatch(/^… \(/);
    expect(text.stdout).not.toContain(finding.fingerprint.slice(0, 8));
    const confirmed = guesses().filter((g) => {
      const hash = v1('postgres-connection-uri', g);
      return (
        text.stdout.includes(hash.slice(0, 12)) ||
        json.stdout.includes(hash) ||
        text.stdout.includes(`${g.slice(0, 2)}…`)
      );
    });
    expect(confirmed).toEqual([]);
    expect(text.stdout + json.stdout).not.toContain(password);
  });

  it('reports an entropy that leaves most of 576 guesses standing, for every one of them', () => {
    const all = guesses();
    const dir = tempDir();
    const lines = all.map((g) => `DATABASE_URL=postgres://app:${g}@db.internal:5432/app\n`);
    writeFileSync(join(dir, '.env'), lines.join(''));
    const run = keyfence(['scan', '.', '--format', 'json'], dir);
    const findings = JSON.parse(run.stdout).findings as { location: { line: number }; entropy: number }[];
    expect(findings).toHaveLength(all.length);
    const bits = (s: string): number => {
      const counts = new Map<string, number>();
      for (const c of s) counts.set(c, (counts.get(c) ?? 0) + 1);
      return [...counts.values()].reduce((h, n) => h - (n / s.length) * Math.log2(n / s.length), 0);
    };
    // A reader keeps the guesses whose entropy agrees with the reported value to its last digit.
    const standing = findings.map((f) => {
      const step = 10 ** -(String(f.entropy).split('.')[1] ?? '').length;
      return all.filter((g) => Math.abs(bits(g) - f.entropy) < step).length;
    });
    expect(Math.min(...standing)).toBeGreaterThanOrEqual(all.length / 4);
    expect(all.filter((g) => run.stdout.includes(`:${g}@`) || run.stdout.includes(`"${g}"`))).toEqual([]);
  });

  it('prints a short keyed fingerprint with KEYFENCE_FINGERPRINT_KEY, stable per key, other for another key', () => {
    const { dir } = repoWithWeakPassword();
    const scan = (key: string) =>
      JSON.parse(
        keyfence(['scan', '.', '--format', 'json'], dir, {
          env: { ...process.env, NO_COLOR: '1', KEYFENCE_FINGERPRINT_KEY: key },
        }).stdout,
      ).findings[0];
    const a = scan('org-key-1');
    expect(a.fingerprintScheme).toBe('hmac');
    expect(scan('org-key-1').fingerprint).toBe(a.fingerprint);
    expect(scan('org-key-2').fingerprint).not.toBe(a.fingerprint);
    const text = keyfence(['scan', '.'], dir, {
      env: { ...process.env, NO_COLOR: '1', KEYFENCE_FINGERPRINT_KEY: 'org-key-1' },
    });
    expect(text.stdout).toContain(a.fingerprint.slice(0, 12));
  });
});

describe('a weak fingerprint key', () => {
  it('is warned about, without showing it; a long random key is not', () => {
    const { dir } = repoWithWeakPassword();
    const scan = (key: string) =>
      keyfence(['scan', '.'], dir, { env: { ...process.env, NO_COLOR: '1', KEYFENCE_FINGERPRINT_KEY: key } });
    const weak = scan('acme42');
    expect(weak.stdout + weak.stderr).toContain('the fingerprint key is only 6 characters long');
    expect(weak.stdout + weak.stderr).not.toContain('acme42');
    const strong = scan(randomBytes(32).toString('hex'));
    expect(strong.stdout + strong.stderr).not.toContain('the fingerprint key is only');
  });
});

describe('baseline migration', () => {
  it('still accepts v1 entries with a notice; rewriting keeps exactly them, as v2, which matches silently', () => {
    const token = fake.githubPat();
    const later = fake.githubPat();
    const dir = tempDir();
    writeFileSync(join(dir, 'app.env'), `TOKEN=${token}\n`);
    const old = {
      version: 1,
      findings: [{ fingerprint: v1('github-pat', token), ruleId: 'github-pat', path: 'app.env', line: 1 }],
    };
    writeFileSync(join(dir, 'old.json'), JSON.stringify(old));
    const withOld = keyfence(['scan', '.', '--baseline', 'old.json'], dir);
    expect(withOld.code).toBe(0);
    expect(withOld.stdout).toMatch(
      /old\.json holds 1 v1 fingerprint.*rewrite it with `keyfence baseline --baseline \S*old\.json --output \S*old\.json`/,
    );

    // A leak added since must not slip into the rewritten baseline.
    writeFileSync(join(dir, 'new.env'), `TOKEN=${later}\n`);
    const rewrite = keyfence(['baseline', '.', '--baseline', 'old.json', '--output', 'new.json'], dir);
    expect(rewrite.code).toBe(0);
    expect(rewrite.stderr).toContain(
      'kept 1 accepted finding(s); 1 finding(s) it does not accept were not added',
    );
    const written = JSON.parse(readFileSync(join(dir, 'new.json'), 'utf8'));
    expect(written).toMatchObject({ version: 2, fingerprint: 'scrypt' });
    expect(written.findings.map((f: { path: string }) => f.path)).toEqual(['app.env']);
    expect(written.findings[0].fingerprint).not.toBe(v1('github-pat', token));
    const withNew = JSON.parse(
      keyfence(['scan', '.', '--baseline', 'new.json', '--format', 'json'], dir).stdout,
    );
    expect(withNew.findings.map((f: { location: { path: string } }) => f.location.path)).toEqual(['new.env']);
    expect(withNew.warnings).toEqual([]);
    expect(withNew.stats.baselined).toBe(1);
  });

  it('matches a keyless baseline once a key is set, with a notice, and rewrites it keyed', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'app.env'), `TOKEN=${fake.githubPat()}\n`);
    expect(keyfence(['baseline', '.', '--output', 'b.json'], dir).code).toBe(0);
    const env = { ...process.env, NO_COLOR: '1', KEYFENCE_FINGERPRINT_KEY: randomBytes(32).toString('hex') };
    const keyed = keyfence(['scan', '.', '--baseline', 'b.json'], dir, { env });
    expect(keyed.code).toBe(0);
    expect(keyed.stdout).toMatch(/b\.json was written without a fingerprint key; its entries still match/);
    expect(keyfence(['baseline', '.', '--baseline', 'b.json', '--output', 'b.json'], dir, { env }).code).toBe(
      0,
    );
    expect(JSON.parse(readFileSync(join(dir, 'b.json'), 'utf8'))).toMatchObject({
      version: 2,
      fingerprint: 'hmac',
    });
    const again = keyfence(['scan', '.', '--baseline', 'b.json'], dir, { env });
    expect(again.code).toBe(0);
    expect(again.stdout).not.toContain('warning');
    // Without the key, none of a keyed baseline can match, and the scan says why.
    const unkeyed = keyfence(['scan', '.', '--baseline', 'b.json'], dir);
    expect(unkeyed.code).toBe(1);
    expect(unkeyed.stdout).toMatch(
      /b\.json was written with hmac fingerprints, but this scan makes scrypt ones/,
    );
  });
});
