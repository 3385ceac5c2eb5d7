import { describe, expect, it } from 'vitest';
import { runnerCommands } from './support/runner-log.js';

// The emulation the hostile-input tests rely on must itself find what the runner would act on.
describe('runnerCommands (the emulation of the runner parsing a step log)', () => {
  it('reads commands after leading blanks, unescaping data and properties', () => {
    expect(runnerCommands(' \t::error file=a%2Cb%3A1.env,line=3::two%0Alines 50%25\n')).toEqual([
      { command: 'error', properties: { file: 'a,b:1.env', line: '3' }, data: 'two\nlines 50%', form: 'v2' },
    ]);
  });

  it('reads a legacy command anywhere on a line, and splits lines on a lone CR too', () => {
    expect(runnerCommands('path: x##[warning]forged\rnext::notice::not at the start')).toEqual([
      { command: 'warning', properties: {}, data: 'forged', form: 'legacy' },
    ]);
  });

  it('ignores unknown names and honours stop-commands until the token resumes', () => {
    const log = [
      '::nonsense::x',
      '::stop-commands::tok',
      '::error::hidden',
      '::tok::',
      '::notice::seen',
    ].join('\n');
    expect(runnerCommands(log).map((c) => [c.command, c.data])).toEqual([
      ['stop-commands', 'tok'],
      ['tok', ''],
      ['notice', 'seen'],
    ]);
  });
});
