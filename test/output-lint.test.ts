import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

// Everything keyfence prints on a runner goes through core's runner module (packages/core/src/runner),
// which renders untrusted text and alone builds workflow commands. This keeps it that way.

const ROOT = resolve(import.meta.dirname, '..');
const RUNNER_MODULE = 'packages/core/src/runner/';

const FORBIDDEN: { pattern: RegExp; what: string }[] = [
  { pattern: /\bconsole\s*\.\s*(log|info|warn|error|debug|trace|dir|table)\s*\(/, what: 'console output' },
  { pattern: /\b(stdout|stderr)\s*\.\s*write\s*\(/, what: 'a direct stdout/stderr write' },
  { pattern: /['"`]::[a-z-]+/, what: 'a hand-made workflow command' },
  { pattern: /['"`]##\[/, what: 'a hand-made legacy command' },
  // A child (git, a credential helper) writing to the runner's stdout/stderr itself would print
  // ref names, paths and remote errors unrendered: children's output is always captured.
  { pattern: /['"`]inherit['"`]/, what: 'a child process inheriting stdout/stderr' },
];

// @actions/core may be used to read inputs only; its printing functions would bypass the module.
const ALLOWED_ACTIONS_CORE = new Set(['getInput', 'getBooleanInput', 'getMultilineInput']);

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...sourceFiles(path));
    else if (/\.(ts|mts|cts|js|mjs)$/.test(entry.name) && !/\.test\.[a-z]+$/.test(entry.name)) out.push(path);
  }
  return out;
}

function sourceRoots(): string[] {
  const roots: string[] = [];
  for (const pkg of readdirSync(join(ROOT, 'packages'))) roots.push(join(ROOT, 'packages', pkg, 'src'));
  for (const name of readdirSync(ROOT)) if (name.startsWith('action-')) roots.push(join(ROOT, name, 'src'));
  return roots;
}

/** Every place outside the runner module that prints or builds a command, as `file:line: what`. */
function violations(): string[] {
  const found: string[] = [];
  for (const root of sourceRoots()) {
    for (const file of sourceFiles(root)) {
      const name = relative(ROOT, file).split('\\').join('/');
      if (name.startsWith(RUNNER_MODULE)) continue;
      const text = readFileSync(file, 'utf8');
      text.split('\n').forEach((line, i) => {
        // Comments may talk about console.log; code may not call it.
        const code = line.replace(/^\s*(\/\/|\*|\/\*).*$/, '');
        for (const { pattern, what } of FORBIDDEN)
          if (pattern.test(code)) found.push(`${name}:${i + 1}: ${what}`);
      });
      for (const m of text.matchAll(/import\s+(type\s+)?\{([^}]*)\}\s+from\s+['"]@actions\/core['"]/g)) {
        if (m[1]) continue;
        for (const imported of m[2]!.split(',').map((s) => s.trim().split(/\s+as\s+/)[0]!)) {
          if (imported && !ALLOWED_ACTIONS_CORE.has(imported.replace(/^type\s+/, '')))
            found.push(`${name}: imports ${imported} from @actions/core`);
        }
      }
      if (
        /import\s+\*\s+as\s+\w+\s+from\s+['"]@actions\/core['"]|require\(['"]@actions\/core['"]\)/.test(text)
      )
        found.push(`${name}: imports all of @actions/core`);
    }
  }
  return found;
}

describe('one way to the runner log', () => {
  it('no source outside core/src/runner prints, writes to stdout/stderr, or builds a workflow command', () => {
    expect(violations()).toEqual([]);
  });

  it('finds the sources it checks (the scan itself is not empty)', () => {
    const files = sourceRoots().flatMap(sourceFiles);
    expect(files.some((f) => f.endsWith(join('action-scan', 'src', 'main.ts')))).toBe(true);
    expect(files.some((f) => f.endsWith(join('cli', 'src', 'commands', 'scan.ts')))).toBe(true);
  });
});
