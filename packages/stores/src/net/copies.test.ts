import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

// identity and stores may not import each other, so each keeps a copy of the proxy-aware HTTP
// code (tested in packages/identity); this keeps the copies from drifting apart.
const here = import.meta.dirname;
const identity = join(here, '../../../identity/src/net');

function body(path: string): string {
  return readFileSync(path, 'utf8').replace(/^\/\/ A copy of this module lives in .*$/m, '');
}

describe('the net/ copies in identity and stores', () => {
  it.each(['proxy.ts', 'http.ts'])('%s is the same in both packages', (file) => {
    expect(body(join(here, file))).toBe(body(join(identity, file)));
  });
});
