// Bundles the action in the current folder (npm runs a workspace's scripts there) from its tsc
// output into committed single files, with ncc: `node ../scripts/bundle-action.mjs [ENTRY=OUTDIR...]`,
// by default `lib/index.js=dist` (dist/index.js). Only each bundle, its package.json (ESM) and the
// third-party licences are written: assets that ncc copies along for code a bundle never runs (the
// scanner's worker-thread module, which a single-file bundle cannot start, so scans there stay on
// one thread) are left out. The output depends only on the sources and the lock file.
import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, relative, resolve } from 'node:path';

const ncc = createRequire(import.meta.url)('@vercel/ncc');
const KEEP = new Set(['package.json', 'licenses.txt']);
const dir = process.cwd();
const targets = (process.argv.length > 2 ? process.argv.slice(2) : ['lib/index.js=dist']).map((arg) => {
  const [entry, out] = arg.split('=');
  if (!entry || !out) throw new Error(`expected ENTRY=OUTDIR, got "${arg}"`);
  return { entry: resolve(dir, entry), out: resolve(dir, out) };
});

const tsc = spawnSync('npx', ['tsc', '-b', 'tsconfig.json'], { cwd: dir, stdio: 'inherit' });
if (tsc.status !== 0) process.exit(tsc.status ?? 1);
for (const { out } of targets) rmSync(out, { recursive: true, force: true });
for (const { entry, out } of targets) {
  const { code, assets } = await ncc(entry, {
    cache: false,
    license: 'licenses.txt',
    target: 'es2022',
    quiet: true,
  });
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, 'index.js'), code);
  for (const [name, asset] of Object.entries(assets)) {
    if (KEEP.has(name)) writeFileSync(join(out, name), asset.source);
  }
  console.log(
    `${relative(dir, entry)} -> ${relative(dir, join(out, 'index.js'))}: ${(code.length / 1024).toFixed(0)} kB`,
  );
}
