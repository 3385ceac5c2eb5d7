import { describe, expect, it } from 'vitest';
import type { ScanProblem } from '../finding.js';
import { DEFAULT_LIMITS, formatBytes, InputBudget, InputLimitReached, parseBytes } from './limits.js';

describe('limits', () => {
  it('parses and prints sizes in binary units', () => {
    expect(parseBytes('1048576')).toBe(1024 * 1024);
    expect(parseBytes('512MiB')).toBe(512 * 1024 * 1024);
    expect(parseBytes('2GB')).toBe(2 * 1024 ** 3);
    expect(parseBytes('1.5k')).toBe(1536);
    expect(parseBytes('lots')).toBeNaN();
    expect(formatBytes(256 * 1024 * 1024)).toBe('256 MiB');
    expect(formatBytes(1536)).toBe('1.5 KiB');
    expect(formatBytes(900)).toBe('900 B');
  });

  it('stops an input past its entry or byte budget and caps the problems it lists', () => {
    const problems: ScanProblem[] = [];
    const budget = new InputBudget(
      'in.zip',
      { ...DEFAULT_LIMITS, maxEntries: 2, maxTotalBytes: 10 },
      problems,
    );
    budget.countEntry('a');
    budget.countEntry('b');
    expect(() => budget.countEntry('c')).toThrow(InputLimitReached);
    expect(() => budget.countBytes('d', 11)).toThrow(InputLimitReached);
    expect(problems.map((p) => p.kind)).toEqual(['limit', 'limit']);
    for (let i = 0; i < 200; i++) budget.problem({ kind: 'skipped', path: `e${i}`, message: 'x' });
    budget.finish();
    expect(problems).toHaveLength(101);
    expect(problems.at(-1)!.message).toBe('102 more problem(s) in this input were not listed');
  });
});
