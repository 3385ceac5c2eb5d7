// The GitHub runner masks a registered string only where it appears verbatim in a log line.
// A multi-line secret is printed one line at a time, a JSON secret is usually printed field by
// field, and encoded copies look nothing like the original, so each of those forms has to be
// registered on its own.

// Lines of two or three characters are kept: they are typically the tail of a wrapped base64
// body (a PEM key, a JSON-escaped certificate) and still carry key material. Masking them costs
// some log noise, which is cheaper than a leak. A single character is dropped: masking it would
// star out that character throughout the whole log while hiding almost no information.
const MIN_LINE_LENGTH = 2;

// Short lines are not worth their base64 form: the encoding of a 2-7 character fragment is a
// short string that would match unrelated base64 in the log far more often than the secret.
const MIN_LINE_LENGTH_FOR_BASE64 = 8;

function base64(text: string): string {
  return Buffer.from(text, 'utf8').toString('base64');
}

function base64url(text: string): string {
  return Buffer.from(text, 'utf8').toString('base64url');
}

function maskableLines(text: string): string[] {
  // Splitting on a lone '\r' as well as '\n' means no line keeps a stray '\r', whatever the line endings.
  return text.split(/\r\n|\r|\n/).filter((line) => line.length >= MIN_LINE_LENGTH);
}

function parseJsonContainer(text: string): object | undefined {
  const start = text.trimStart()[0];
  // Scalars are excluded: the value itself is already masked, and parsing every secret that
  // happens to look like a number would only add noise.
  if (start !== '{' && start !== '[') return undefined;
  try {
    const parsed: unknown = JSON.parse(text);
    return typeof parsed === 'object' && parsed !== null ? parsed : undefined;
  } catch {
    return undefined;
  }
}

function jsonLeaves(root: object): string[] {
  const leaves: string[] = [];
  // An explicit stack instead of recursion, so a deeply nested document can't overflow the call stack.
  const pending: unknown[] = [root];
  while (pending.length > 0) {
    const node = pending.pop();
    if (typeof node === 'string') {
      leaves.push(node);
    } else if (typeof node === 'number') {
      leaves.push(String(node));
    } else if (typeof node === 'object' && node !== null) {
      // Keys are not masked: they name the fields ("password", "token") and masking them would
      // garble ordinary log output without protecting anything.
      pending.push(...Object.values(node));
    }
  }
  return leaves;
}

/** Every string the runner must mask so the value cannot leak verbatim, line by line, as JSON fields, or encoded; longest first. */
export function maskingForms(value: string): string[] {
  const forms = new Set<string>([value]);
  if (/[\r\n]/.test(value)) {
    for (const line of maskableLines(value)) {
      forms.add(line);
      if (line.length >= MIN_LINE_LENGTH_FOR_BASE64) forms.add(base64(line));
    }
  }

  const json = parseJsonContainer(value);
  if (json !== undefined) {
    for (const leaf of jsonLeaves(json)) {
      if (leaf.length >= MIN_LINE_LENGTH) forms.add(leaf);
      for (const line of maskableLines(leaf)) forms.add(line);
    }
  }

  if (value.length > 0) {
    forms.add(base64(value));
    forms.add(base64url(value));
    forms.add(encodeURIComponent(value));
  }

  forms.delete('');
  // Longest first so that a tool replacing forms one after another never breaks up a longer
  // form by masking a shorter one inside it first. Array#sort is stable, so ties keep insertion order.
  return [...forms].sort((a, b) => b.length - a.length);
}
