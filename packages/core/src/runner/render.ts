// How text that keyfence did not write (file names, archive entries, image refs, authors, rule
// descriptions from a config, messages quoting input) is made safe for a runner's log.
//
// The runner reads stdout and stderr line by line, splitting on CR, LF and CRLF. A line whose
// text, after leading whitespace is trimmed, starts with `::` is a workflow command; a line that
// contains `##[` anywhere may be a legacy one. So, visibly and reversibly for a reader:
// - control characters (CR, LF, tab, ESC, C1, U+2028/9) become `\r`, `\n`, `\t`, `\xNN`, `\uNNNN`:
//   an untrusted field is always one line, and cannot restyle a terminal either;
// - `##[` becomes `#\#[`;
// - a line (or field) whose first non-blank characters are `::` gets a `\` before them: `\::`.

// Leading whitespace as either side counts it: JavaScript's \s and .NET's char.IsWhiteSpace
// differ on U+0085, U+001C-U+001F, U+180E and U+FEFF, so the union is trimmed.
const LEADING_BLANK = /^[\s\u0085\u001c-\u001f\u180e]*/;

// C0 and C1 controls, DEL, and the Unicode line and paragraph separators.
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g;

const NAMED: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

function visibleControl(ch: string): string {
  const named = NAMED[ch];
  if (named !== undefined) return named;
  const code = ch.charCodeAt(0);
  return code <= 0xff
    ? `\\x${code.toString(16).padStart(2, '0')}`
    : `\\u${code.toString(16).padStart(4, '0')}`;
}

/** `##[` anywhere becomes `#\#[`: no legacy command or log-viewer marker survives. */
export function neutraliseLegacyMarkers(text: string): string {
  return text.replaceAll('##[', '#\\#[');
}

/** A `\` before a leading `::` (after any blanks), so the line cannot be read as a workflow command. */
function neutraliseLeadingCommand(line: string): string {
  const blank = LEADING_BLANK.exec(line)?.[0] ?? '';
  return line.startsWith('::', blank.length) ? `${blank}\\${line.slice(blank.length)}` : line;
}

/** True when the runner would try to read this one line as a workflow command (new or legacy form). */
export function looksLikeCommand(line: string): boolean {
  const blank = LEADING_BLANK.exec(line)?.[0] ?? '';
  return line.startsWith('::', blank.length) || line.includes('##[');
}

/** An untrusted value as one safe line of log text: controls visible, no `##[`, no leading `::`. */
export function renderUntrusted(value: string): string {
  return neutraliseLeadingCommand(neutraliseLegacyMarkers(value.replace(CONTROL, visibleControl)));
}

/** Any text bound for the log, line by line: no line can start a command and no `##[` survives. Lines end in LF. */
export function neutraliseLines(text: string): string {
  return text
    .split(/\r\n|\r|\n/)
    .map((line) => neutraliseLeadingCommand(neutraliseLegacyMarkers(line)))
    .join('\n');
}

/**
 * JSON bound for the log: `#` before `[` is written `\u0023`, which any JSON reader decodes back.
 * Pretty-printed JSON cannot start a line with `::` (strings hold no raw newline), so `##[` is all
 * that needs care.
 */
export function neutraliseJson(json: string): string {
  return json.replaceAll('#[', '\\u0023[');
}
