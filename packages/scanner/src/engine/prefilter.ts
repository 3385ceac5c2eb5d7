/**
 * Keyword prefilter: an Aho-Corasick automaton over lower-cased ASCII, run once over a text for
 * every rule's keywords together, so regexes only run near a keyword hit.
 */
const ALPHABET = 129; // 0..127 ASCII, 128 = any non-ASCII character

export class KeywordMatcher {
  readonly keywords: string[];
  /** Transitions, indexed by state * ALPHABET + symbol, holding the next state * ALPHABET. */
  readonly #delta: Int32Array;
  /** 1 where a state (indexed by state * ALPHABET) ends a keyword: a cheap check in the hot loop. */
  readonly #accepts: Uint8Array;
  /** For each state, the keyword ids that end there (including through failure links). */
  readonly #outputs: number[][];

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
    // Pre-multiply targets so the scan loop does one add per character instead of a multiply.
    for (let i = 0; i < delta.length; i++) delta[i]! *= ALPHABET;
    this.#delta = delta;
    this.#accepts = new Uint8Array(n * ALPHABET);
    this.#outputs = [];
    outputs.forEach((out, state) => {
      if (out) {
        this.#accepts[state * ALPHABET] = 1;
        this.#outputs[state * ALPHABET] = out;
      }
    });
  }

  /**
   * Calls `onHit(keywordId, endIndex)` for every keyword occurrence (endIndex is one past the
   * keyword's last character), in increasing order of endIndex.
   */
  scan(text: string, onHit: (keywordId: number, end: number) => void, from = 0, to = text.length): void {
    const delta = this.#delta;
    const accepts = this.#accepts;
    let s = 0;
    for (let i = from; i < to; i++) {
      const c = text.charCodeAt(i);
      s = delta[s + (c < 128 ? LOWER[c]! : 128)]!;
      if (accepts[s] === 1) for (const id of this.#outputs[s]!) onHit(id, i + 1);
    }
  }
}

const LOWER = Uint8Array.from({ length: 128 }, (_, c) => (c >= 65 && c <= 90 ? c | 32 : c));

function symbol(code: number): number {
  if (code >= 65 && code <= 90) return code | 32;
  return code > 127 ? 128 : code;
}
