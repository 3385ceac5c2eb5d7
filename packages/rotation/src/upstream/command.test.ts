import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SecretValue } from '@keyfence/core';
import { afterAll, describe, expect, it } from 'vitest';
import { RotationErrorCode } from '../errors.js';
import { CommandUpstream } from './command.js';

const dir = mkdtempSync(join(tmpdir(), 'keyfence-command-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function script(name: string, body: string): string[] {
  const path = join(dir, name);
  writeFileSync(path, `#!/bin/sh\n${body}\n`);
  chmodSync(path, 0o700);
  return [path];
}

const marker = `value-${Date.now()}-${Math.random()}`;
const seen = join(dir, 'seen.txt');

describe('CommandUpstream', () => {
  it('hands values to scripts on stdin only, never in argv or the environment', async () => {
    const upstream = new CommandUpstream(
      {
        type: 'command',
        strategy: 'independent',
        create: script('create.sh', `cat > /dev/null; printf 'new-%s' "$$"`),
        set: script('set.sh', `{ cat; echo; echo "ARGS:$*"; env; } > ${seen}`),
        test: script('test.sh', 'grep -q new-'),
        timeoutMs: 10_000,
      },
      { PATH: process.env['PATH'], VAULT_TOKEN: 'vault-token-of-keyfence' },
    );
    const created = await upstream.create(new SecretValue(marker));
    expect(created.reveal()).toMatch(/^new-\d+$/);
    await upstream.set({ target: created, current: new SecretValue(marker), pending: created });
    const [stdin, rest] = readFileSync(seen, 'utf8').split('\nARGS:');
    expect(JSON.parse(stdin ?? '')).toEqual({
      target: created.reveal(),
      current: marker,
      pending: created.reveal(),
    });
    expect(rest).not.toContain(marker);
    expect(rest).not.toContain('vault-token-of-keyfence');
    await expect(upstream.test(created)).resolves.toBeUndefined();
    await expect(upstream.test(new SecretValue('old'))).rejects.toMatchObject({
      code: RotationErrorCode.UPSTREAM_FAILED,
    });
    expect(await upstream.revoke({ previous: new SecretValue('a'), current: created })).toBe(
      'nothing-to-revoke',
    );
  });

  it('maps exit code 75 to "unreachable, try again"', async () => {
    const upstream = new CommandUpstream(
      {
        type: 'command',
        strategy: 'single-user',
        create: ['true'],
        set: script('down.sh', 'exit 75'),
        test: ['true'],
        timeoutMs: 10_000,
      },
      { PATH: process.env['PATH'] },
    );
    const value = new SecretValue('x');
    await expect(upstream.set({ target: value, current: value, pending: value })).rejects.toMatchObject({
      code: RotationErrorCode.UPSTREAM_UNREACHABLE,
    });
  });
});
