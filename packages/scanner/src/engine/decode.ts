/** An encoded segment of a text and what it decodes to. */
export interface DecodedSegment {
  start: number;
  end: number;
  encoding: 'base64' | 'percent';
  text: string;
}

const MIN_BASE64 = 24;
// Longer runs are data blobs (images, fonts in data: URIs), not a credential worth decoding.
const MAX_BASE64 = 8192;
const MIN_PERCENT_ESCAPES = 2;
const MAX_PERCENT = 4096;

// Character classes as a lookup table: one pass over the text, no regex backtracking.
const B64 = 1; // A-Z a-z 0-9 + / - _
const URLCH = 2; // characters that may appear in a percent-encoded token
const CLASS = new Uint8Array(128);
for (let c = 0; c < 128; c++) {
  const ch = String.fromCharCode(c);
  if (/[A-Za-z0-9+/_-]/.test(ch)) CLASS[c]! |= B64;
  if (/[A-Za-z0-9._~+:/@!$&'()*,;=?#%[\]-]/.test(ch)) CLASS[c]! |= URLCH;
}

/**
 * Finds base64 and percent-encoded segments in `text` whose decoded form is printable text, so
 * the engine can scan them again (a secret base64'd into a Kubernetes manifest is still a secret).
 */
export function findEncodedSegments(text: string): DecodedSegment[] {
  const out: DecodedSegment[] = [];
  findBase64(text, out);
  if (text.includes('%')) findPercent(text, out);
  return out;
}

function findBase64(text: string, out: DecodedSegment[]): void {
  const n = text.length;
  // Skip-ahead search: a run of MIN_BASE64 class characters starting at or after i must cover
  // position i + MIN_BASE64 - 1, so when that character is not in the class, jump past it. On
  // ordinary text (short words, punctuation) this reads a fraction of the characters.
  // Invariant: text[i - 1] is not a base64 character (or i is 0).
  let i = 0;
  while (i + MIN_BASE64 <= n) {
    const probe = i + MIN_BASE64 - 1;
    if (!isBase64Char(text.charCodeAt(probe))) {
      i = probe + 1;
      continue;
    }
    let start = probe;
    while (start > i && isBase64Char(text.charCodeAt(start - 1))) start--;
    let runEnd = probe + 1;
    while (runEnd < n && isBase64Char(text.charCodeAt(runEnd))) runEnd++;
    const len = runEnd - start;
    if (len >= MIN_BASE64 && len <= MAX_BASE64 && mixesClasses(text, start, runEnd)) {
      let end = runEnd;
      while (end < n && end - runEnd < 2 && text.charCodeAt(end) === 61) end++; // '=' padding
      const decoded = decodeBase64(text.slice(start, end));
      if (decoded !== undefined) out.push({ start, end, encoding: 'base64', text: decoded });
    }
    i = runEnd + 1;
  }
}

function isBase64Char(c: number): boolean {
  return c < 128 && (CLASS[c]! & B64) !== 0;
}

/** Words and identifiers are letters only; base64 of text mixes cases with digits or symbols. */
function mixesClasses(text: string, start: number, end: number): boolean {
  let upper = false;
  let lower = false;
  let other = false;
  for (let i = start; i < end; i++) {
    const d = text.charCodeAt(i);
    if (d >= 65 && d <= 90) upper = true;
    else if (d >= 97 && d <= 122) lower = true;
    else other = true;
    if (upper && lower && other) return true;
  }
  return false;
}

function findPercent(text: string, out: DecodedSegment[]): void {
  let from = 0;
  for (let p = text.indexOf('%', from); p >= 0; p = text.indexOf('%', from)) {
    if (!isHex(text.charCodeAt(p + 1)) || !isHex(text.charCodeAt(p + 2))) {
      from = p + 1; // a modulo operator or a literal percent sign, not an escape
      continue;
    }
    // Never walk back over text an earlier segment already covered: keeps the pass linear.
    let start = p;
    while (start > from && p - start < MAX_PERCENT && isUrlChar(text.charCodeAt(start - 1))) start--;
    let end = p;
    let escapes = 0;
    while (end < text.length && end - start < MAX_PERCENT && isUrlChar(text.charCodeAt(end))) {
      if (text.charCodeAt(end) === 37 && isHex(text.charCodeAt(end + 1)) && isHex(text.charCodeAt(end + 2)))
        escapes++;
      end++;
    }
    from = Math.max(end, p + 1);
    if (escapes < MIN_PERCENT_ESCAPES) continue;
    try {
      const raw = text.slice(start, end);
      const decoded = decodeURIComponent(raw.replace(/\+/g, ' '));
      if (decoded !== raw) out.push({ start, end, encoding: 'percent', text: decoded });
    } catch {
      // Not valid percent-encoding: nothing to decode.
    }
  }
}

function isUrlChar(c: number): boolean {
  return c < 128 && (CLASS[c]! & URLCH) !== 0;
}

function isHex(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 70) || (c >= 97 && c <= 102);
}

function decodeBase64(raw: string): string | undefined {
  const body = raw.replace(/=+$/, '');
  if (body.length % 4 === 1) return undefined;
  const buf = Buffer.from(body.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
  if (buf.length < 16) return undefined;
  let printable = 0;
  for (const b of buf) if ((b >= 32 && b < 127) || b === 9 || b === 10 || b === 13) printable++;
  if (printable / buf.length < 0.95) return undefined;
  return buf.toString('latin1');
}
