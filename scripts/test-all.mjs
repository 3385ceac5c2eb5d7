// The one command that runs every test: lint, types, build (and a check that the committed
// generated files are current), then the unit and end-to-end suites with CI=true so that a
// test needing a service fails instead of skipping.
import { spawnSync } from 'node:child_process';

const steps = [
  ['npm', ['run', 'gen:rules']],
  ['npm', ['run', 'lint']],
  ['npm', ['run', 'build']],
  ['npx', ['tsc', '-p', 'tsconfig.json']],
  ['npx', ['vitest', 'run']],
];

for (const [cmd, args] of steps) {
  console.log(`\n> ${cmd} ${args.join(' ')}`);
  const r = spawnSync(cmd, args, { stdio: 'inherit', env: { ...process.env, CI: 'true' } });
  if (r.status !== 0) {
    console.error(`\ntest:all failed at: ${cmd} ${args.join(' ')}`);
    process.exit(r.status ?? 1);
  }
}
const inCi = Boolean(process.env.CI);
const dirty = spawnSync(
  'git',
  [
    'status',
    '--porcelain',
    '--',
    'packages/scanner/src/rules',
    'docs/rules.md',
    'action-*/dist',
    'docs/action-*.md',
  ],
  { encoding: 'utf8' },
);
if (inCi && dirty.stdout.trim() !== '') {
  console.error(`\nGenerated files are stale; run \`npm run build\` and commit:\n${dirty.stdout}`);
  process.exit(1);
}
console.log('\ntest:all passed');
