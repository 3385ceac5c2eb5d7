// An emulation of how the Actions runner reads a step's stdout and stderr for commands, written
// from its documented behaviour: lines split on CR, LF or CRLF; a line whose text after leading
// whitespace starts with `::` is a command `::name k=v,k=v::data` if the name is registered; a
// line holding `##[name k=v;k=v]data` anywhere is a legacy command; `stop-commands` ignores every
// command until `::TOKEN::` (or `##[TOKEN]`) resumes.

/** A command the runner would act on. */
export interface RunnerCommand {
  command: string;
  properties: Record<string, string>;
  data: string;
  form: 'v2' | 'legacy';
}

const REGISTERED = [
  'add-mask',
  'add-matcher',
  'add-path',
  'debug',
  'echo',
  'endgroup',
  'error',
  'group',
  'internal-set-repo-path',
  'notice',
  'remove-matcher',
  'save-state',
  'set-env',
  'set-output',
  'stop-commands',
  'warning',
];

// Both JavaScript's and .NET's notions of leading whitespace.
const LEADING_BLANK = /^[\s\u0085\u001c-\u001f\u180e]*/;

function unescapeV2(text: string, property: boolean): string {
  let out = text.replaceAll('%0D', '\r').replaceAll('%0A', '\n');
  if (property) out = out.replaceAll('%3A', ':').replaceAll('%2C', ',');
  return out.replaceAll('%25', '%');
}

function unescapeLegacy(text: string): string {
  return text
    .replaceAll('%3B', ';')
    .replaceAll('%0D', '\r')
    .replaceAll('%0A', '\n')
    .replaceAll('%5D', ']')
    .replaceAll('%25', '%');
}

function parseV2(line: string, registered: Set<string>): RunnerCommand | undefined {
  const text = line.slice(LEADING_BLANK.exec(line)?.[0].length ?? 0);
  if (!text.startsWith('::')) return undefined;
  const end = text.indexOf('::', 2);
  if (end < 0) return undefined;
  const info = text.slice(2, end);
  const space = info.indexOf(' ');
  const command = space < 0 ? info : info.slice(0, space);
  if (!registered.has(command.toLowerCase())) return undefined;
  const properties: Record<string, string> = {};
  if (space >= 0) {
    for (const pair of info.slice(space + 1).split(',')) {
      if (pair === '') continue;
      const at = pair.indexOf('=');
      if (at > 0) properties[pair.slice(0, at)] = unescapeV2(pair.slice(at + 1), true);
    }
  }
  return { command, properties, data: unescapeV2(text.slice(end + 2), false), form: 'v2' };
}

function parseLegacy(line: string, registered: Set<string>): RunnerCommand | undefined {
  const start = line.indexOf('##[');
  if (start < 0) return undefined;
  const close = line.indexOf(']', start);
  if (close < 0) return undefined;
  const info = line.slice(start + 3, close);
  const space = info.indexOf(' ');
  const command = space < 0 ? info : info.slice(0, space);
  if (!registered.has(command.toLowerCase())) return undefined;
  const properties: Record<string, string> = {};
  if (space >= 0) {
    for (const pair of info.slice(space + 1).split(';')) {
      const at = pair.indexOf('=');
      if (at > 0) properties[pair.slice(0, at).trim()] = unescapeLegacy(pair.slice(at + 1));
    }
  }
  return { command, properties, data: unescapeLegacy(line.slice(close + 1)), form: 'legacy' };
}

/** Every command the runner would act on in this output, in order (stop-commands and its resume included). */
export function runnerCommands(output: string): RunnerCommand[] {
  const registered = new Set(REGISTERED);
  const out: RunnerCommand[] = [];
  let stopToken: string | undefined;
  for (const line of output.split(/\r\n|\r|\n/)) {
    const command = parseV2(line, registered) ?? parseLegacy(line, registered);
    if (command === undefined) continue;
    const name = command.command.toLowerCase();
    if (stopToken !== undefined) {
      if (name !== stopToken.toLowerCase()) continue;
      registered.delete(name);
      stopToken = undefined;
      out.push(command);
      continue;
    }
    out.push(command);
    if (name === 'stop-commands' && command.data !== '') {
      stopToken = command.data;
      registered.add(stopToken.toLowerCase());
    }
  }
  return out;
}
