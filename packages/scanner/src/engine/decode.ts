/** An encoded segment of a text and what it decodes to. */
export interface DecodedSegment {
  start: number;
  end: number;
  encoding: 'base64' | 'percent';
  text: string;
}

// Bounded lengths keep these linear and skip huge data blobs (images, fonts in data: URIs).
const BASE64 = /(?<![A-Za-z0-9+/_-])[A-Za-z0-9+/_-]{24,8192}={0,2}(?![A-Za-z0-9+/_=-])/g;
const PERCENT =
  /[A-Za-z0-9._~+:/@!$&'()*,;=?#[\]-]{0,512}(?:%[0-9A-Fa-f]{2}[A-Za-z0-9._~+:/@!$&'()*,;=?#[\]-]{0,512}){2,256}/g;

/**
 * Finds base64 and percent-encoded segments in `text` whose decoded form is printable text, so
 * the engine can scan them again (a secret base64'd into a Kubernetes manifest is still a secret).
 */
export function findEncodedSegments(text: string): DecodedSegment[] {
  const out: DecodedSegment[] = [];
  for (const m of text.matchAll(BASE64)) {
    const raw = m[0];
    // A run of letters only is a word or identifier, not base64 worth decoding.
    if (!/[0-9+/=_-]/.test(raw) || !/[A-Z]/.test(raw) || !/[a-z]/.test(raw)) continue;
    const decoded = decodeBase64(raw);
    if (decoded !== undefined)
      out.push({ start: m.index, end: m.index + raw.length, encoding: 'base64', text: decoded });
  }
  if (text.includes('%')) {
    for (const m of text.matchAll(PERCENT)) {
      try {
        const decoded = decodeURIComponent(m[0].replace(/\+/g, ' '));
        if (decoded !== m[0]) {
          out.push({ start: m.index, end: m.index + m[0].length, encoding: 'percent', text: decoded });
        }
      } catch {
        // Not valid percent-encoding: nothing to decode.
      }
    }
  }
  return out;
}

function decodeBase64(raw: string): string | undefined {
  const body = raw.replace(/=+$/, '');
  if (body.length % 4 === 1) return undefined;
  const buf = Buffer.from(raw.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
  if (buf.length < 16) return undefined;
  let printable = 0;
  for (const b of buf) if ((b >= 32 && b < 127) || b === 9 || b === 10 || b === 13) printable++;
  if (printable / buf.length < 0.95) return undefined;
  return buf.toString('latin1');
}
