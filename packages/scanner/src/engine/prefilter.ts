/**
 * Keyword prefilter: an Aho-Corasick automaton over lower-cased ASCII, run once over a text for
 * every rule's keywords together, so regexes only run near a keyword hit.
 */
const ALPHABET = 129; // 0..127 ASCII, 128 = any non-ASCII character

export class KeywordMatcher {
  readonly keywords: string[];
  readonly #delta: Int32Array;
  /** For each state, the keyword ids that end there (including through failure links). */
  readonly #outputs: (number[] | undefined)[];

  constructor(keywords: string[]) {
    this.keywords = keywords;
    const goto: Map<number, number>[] = [new Map()];
    const outputs: (number[] | undefined)[] = [undefined];
    keywords.forEach((kw, id) => {
      let s = 0;
      for (const ch of kw.toLowerCase()) {
        const c = symbol(ch.charCodeAt(0));
        let next = goto[s]!.get(c);
        if (next === undefined) {
          next = goto.length;
          goto.push(new Map());
          outputs.push(undefined);
          goto[s]!.set(c, next);
        }
        s = next;
      }
      outputs[s] = [...(outputs[s] ?? []), id];
    });
    // Breadth-first: resolve failure links into a full transition table.
    const n = goto.length;
    const delta = new Int32Array(n * ALPHABET);
    const fail = new Int32Array(n);
    const queue: number[] = [];
    for (let c = 0; c < ALPHABET; c++) {
      const t = goto[0]!.get(c);
      if (t !== undefined) {
        delta[c] = t;
        fail[t] = 0;
        queue.push(t);
      }
    }
    for (let qi = 0; qi < queue.length; qi++) {
      const s = queue[qi]!;
      const f = fail[s]!;
      const inherited = outputs[f];
      if (inherited) outputs[s] = [...(outputs[s] ?? []), ...inherited];
      for (let c = 0; c < ALPHABET; c++) {
        const t = goto[s]!.get(c);
        if (t !== undefined) {
          fail[t] = delta[f * ALPHABET + c]!;
          delta[s * ALPHABET + c] = t;
          queue.push(t);
        } else {
          delta[s * ALPHABET + c] = delta[f * ALPHABET + c]!;
        }
      }
    }
    this.#delta = delta;
    this.#outputs = outputs;
  }

  /**
   * Calls `onHit(keywordId, endIndex)` for every keyword occurrence (endIndex is one past the
   * keyword's last character), in increasing order of endIndex.
   */
  scan(text: string, onHit: (keywordId: number, end: number) => void, from = 0, to = text.length): void {
    const delta = this.#delta;
    const outputs = this.#outputs;
    let s = 0;
    for (let i = from; i < to; i++) {
      let c = text.charCodeAt(i);
      if (c >= 65 && c <= 90) c |= 32;
      else if (c > 127) c = 128;
      s = delta[s * ALPHABET + c]!;
      const out = outputs[s];
      if (out !== undefined) for (const id of out) onHit(id, i + 1);
    }
  }
}

function symbol(code: number): number {
  if (code >= 65 && code <= 90) return code | 32;
  return code > 127 ? 128 : code;
}
