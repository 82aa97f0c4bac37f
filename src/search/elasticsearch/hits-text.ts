/**
 * The hits' `_source` texts cut out of an OpenSearch/ElasticSearch `_search`
 * answer, without parsing them. /search/package answers exactly those
 * objects as a JSON array; the catalogue (size=10000) is ~12 MB, and parsing
 * it only to serialise it again cost the Worker most of its time per request
 * (bench/README.md). The scan follows the answer's structure only at the
 * levels it needs (answer → hits → hits[] → _source) and skips everything
 * else by its brackets and strings; the rest of the answer (total,
 * aggregations) is small and parsed as usual. Pure.
 */

/** What the scan found: the answer without its hit list, and the hits' `_source` objects as one JSON array text. */
export interface SplitAnswer {
  /** The parsed answer with `hits.hits` replaced by an empty array. */
  rest: unknown;
  /** `[<_source>,<_source>,…]`, the texts as the index sent them. */
  sources: string;
  count: number;
}

class Unreadable extends Error {
  constructor(at: number) {
    super(`search index: unreadable answer near character ${at}`);
  }
}

const QUOTE = 34;
const BACKSLASH = 92;
const OPEN_OBJECT = 123;
const CLOSE_OBJECT = 125;
const OPEN_ARRAY = 91;
const CLOSE_ARRAY = 93;
const COMMA = 44;
const COLON = 58;

function skipSpace(t: string, i: number): number {
  for (;;) {
    const c = t.charCodeAt(i);
    if (c === 32 || c === 10 || c === 13 || c === 9) i++;
    else return i;
  }
}

/** Index after the string that starts at `i` (a quote). */
function endOfString(t: string, i: number): number {
  let from = i + 1;
  for (;;) {
    const q = t.indexOf('"', from);
    if (q < 0) throw new Unreadable(i);
    let backslashes = 0;
    for (let b = q - 1; t.charCodeAt(b) === BACKSLASH; b--) backslashes++;
    if (backslashes % 2 === 0) return q + 1;
    from = q + 1;
  }
}

/** Index after the JSON value that starts at `i`. */
function endOfValue(t: string, i: number): number {
  const c = t.charCodeAt(i);
  if (c === QUOTE) return endOfString(t, i);
  if (c === OPEN_OBJECT || c === OPEN_ARRAY) {
    let depth = 0;
    for (let j = i; j < t.length; ) {
      const ch = t.charCodeAt(j);
      if (ch === QUOTE) {
        j = endOfString(t, j);
        continue;
      }
      if (ch === OPEN_OBJECT || ch === OPEN_ARRAY) depth++;
      else if (ch === CLOSE_OBJECT || ch === CLOSE_ARRAY) {
        depth--;
        if (depth === 0) return j + 1;
      }
      j++;
    }
    throw new Unreadable(i);
  }
  // A number, true, false or null.
  let j = i;
  for (; j < t.length; j++) {
    const ch = t.charCodeAt(j);
    if (ch === COMMA || ch === CLOSE_OBJECT || ch === CLOSE_ARRAY || ch === 32 || ch === 10 || ch === 13 || ch === 9) break;
  }
  if (j === i) throw new Unreadable(i);
  return j;
}

/**
 * Walks the members of the object at `i`; `visit` gets each key and where its
 * value starts, and answers where the value ends (or null to skip it).
 * Returns the index after the object.
 */
function members(t: string, i: number, visit: (key: string, at: number) => number | null): number {
  if (t.charCodeAt(i) !== OPEN_OBJECT) throw new Unreadable(i);
  let j = skipSpace(t, i + 1);
  if (t.charCodeAt(j) === CLOSE_OBJECT) return j + 1;
  for (;;) {
    if (t.charCodeAt(j) !== QUOTE) throw new Unreadable(j);
    const keyEnd = endOfString(t, j);
    const key = JSON.parse(t.slice(j, keyEnd)) as string;
    j = skipSpace(t, keyEnd);
    if (t.charCodeAt(j) !== COLON) throw new Unreadable(j);
    const at = skipSpace(t, j + 1);
    j = skipSpace(t, visit(key, at) ?? endOfValue(t, at));
    const c = t.charCodeAt(j);
    if (c === CLOSE_OBJECT) return j + 1;
    if (c !== COMMA) throw new Unreadable(j);
    j = skipSpace(t, j + 1);
  }
}

/** Walks the elements of the array at `i`; `visit` answers where each ends. Returns the index after the array. */
function elements(t: string, i: number, visit: (at: number) => number): number {
  if (t.charCodeAt(i) !== OPEN_ARRAY) throw new Unreadable(i);
  let j = skipSpace(t, i + 1);
  if (t.charCodeAt(j) === CLOSE_ARRAY) return j + 1;
  for (;;) {
    j = skipSpace(t, visit(j));
    const c = t.charCodeAt(j);
    if (c === CLOSE_ARRAY) return j + 1;
    if (c !== COMMA) throw new Unreadable(j);
    j = skipSpace(t, j + 1);
  }
}

/** Splits a `_search` answer (see SplitAnswer). Throws on an answer that is not well-formed where it is read. */
export function splitHits(text: string): SplitAnswer {
  const sources: string[] = [];
  let list: [number, number] | null = null;
  const start = skipSpace(text, 0);
  const end = members(text, start, (key, at) => {
    if (key !== 'hits' || list) return null;
    return members(text, at, (inner, listAt) => {
      if (inner !== 'hits' || list) return null;
      const listEnd = elements(text, listAt, (hitAt) =>
        members(text, hitAt, (field, sourceAt) => {
          if (field !== '_source') return null;
          const sourceEnd = endOfValue(text, sourceAt);
          sources.push(text.slice(sourceAt, sourceEnd));
          return sourceEnd;
        }),
      );
      list = [listAt, listEnd];
      return listEnd;
    });
  });
  if (skipSpace(text, end) !== text.length) throw new Unreadable(end);
  const cut = list as [number, number] | null;
  const rest: unknown = JSON.parse(cut ? `${text.slice(0, cut[0])}[]${text.slice(cut[1])}` : text);
  return { rest, sources: `[${sources.join(',')}]`, count: sources.length };
}
