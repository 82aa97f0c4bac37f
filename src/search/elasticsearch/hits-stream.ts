/**
 * The hits' `_source` objects of an OpenSearch/ElasticSearch `_search`
 * answer, streamed as one JSON array while the answer arrives, without
 * parsing them. /search/package answers exactly those objects; the
 * catalogue (size=10000) is ~12 MB, and reading it whole, parsing it and
 * serialising it again made the Worker 1.4–2.6 times slower than the index
 * itself (bench/README.md). The scan follows the answer's structure only at
 * the levels it needs (answer → hits → hits[] → _source), copies each
 * `_source` byte for byte, and reads the total from the part of the answer
 * before the list (the index writes `total` before `hits`). Pure bytes in,
 * bytes out; no I/O but the given stream.
 */

import { blockReader } from '../../http/block-reader.ts';
import { concatBytes } from '../../http/bytes.ts';
import { DEFAULT_TIMEOUT_MS } from './client.ts';

/**
 * The answer is scanned in blocks of at least this size: in the network's
 * ~4 KiB chunks, the read and the output piece per chunk cost more than
 * the scan (a 12.5 MB catalogue: ~3,100 chunks).
 */
export const HITS_BLOCK_BYTES = 64 * 1024;

const QUOTE = 34;
const BACKSLASH = 92;
const OPEN_OBJECT = 123;
const CLOSE_OBJECT = 125;
const OPEN_ARRAY = 91;
const CLOSE_ARRAY = 93;
const COMMA = 44;
const COLON = 58;

const ENCODER = new TextEncoder();
const OPEN_LIST = ENCODER.encode('[');
const SEPARATOR = ENCODER.encode(',');
const CLOSE_LIST = ENCODER.encode(']');

/** What a container of the answer is to the scan. */
type Role = 'top' | 'hitsObject' | 'hitsList' | 'hit' | 'other';

interface Frame {
  object: boolean;
  role: Role;
  expectKey: boolean;
  /** The key whose value comes next (only where roles are decided). */
  key: string | null;
}

/** A byte-level scanner of one answer, fed chunk by chunk. */
export class HitsScanner {
  private readonly stack: Frame[] = [];
  private inString = false;
  private escaped = false;
  /** The key being read (raw bytes as Latin-1; the keys that matter are ASCII), or null. */
  private keyText: string | null = null;
  /**
   * Brackets open in the `_source` being copied, its own included; 0 when
   * none is. A `_source` and what it holds are not stacked: only its end matters.
   */
  private sourceOpen = 0;
  private copied = 0;
  private readonly prefix: Uint8Array[] = [];
  /** The answer up to the hit list, with the list empty and closed (JSON), once found. */
  head: string | null = null;
  /** The hit list has ended: the rest of the answer is not needed. */
  finished = false;

  /** Scans `chunk` and appends the output bytes (sources and separators) to `out`. */
  push(chunk: Uint8Array, out: Uint8Array[]): void {
    let copyFrom = this.sourceOpen > 0 ? 0 : -1;
    const n = chunk.length;
    // Where the next quote and backslash are (found once per stretch, natively: most bytes are inside strings).
    let nextQuote = -1;
    let nextBackslash = -1;
    for (let i = 0; i < n; i++) {
      if (this.sourceOpen > 0) {
        // Inside a _source: a tight loop on locals to its end, strings skipped, brackets counted.
        let open = this.sourceOpen;
        let inString = this.inString;
        let escaped = this.escaped;
        for (; i < n; i++) {
          const c = chunk[i] as number;
          if (inString) {
            if (escaped) escaped = false;
            else if (c === BACKSLASH) escaped = true;
            else if (c === QUOTE) inString = false;
          } else if (c === QUOTE) inString = true;
          else if (c === OPEN_OBJECT || c === OPEN_ARRAY) open++;
          else if ((c === CLOSE_OBJECT || c === CLOSE_ARRAY) && --open === 0) break;
        }
        this.sourceOpen = open;
        this.inString = inString;
        this.escaped = escaped;
        if (i >= n) break;
        // The _source's closing bracket.
        out.push(chunk.subarray(copyFrom, i + 1));
        copyFrom = -1;
        continue;
      }
      if (this.inString && !this.escaped && this.keyText === null) {
        if (nextQuote < i) {
          nextQuote = chunk.indexOf(QUOTE, i);
          if (nextQuote < 0) nextQuote = n;
        }
        if (nextBackslash < i) {
          nextBackslash = chunk.indexOf(BACKSLASH, i);
          if (nextBackslash < 0) nextBackslash = n;
        }
        const stop = Math.min(nextQuote, nextBackslash);
        if (stop >= n) break;
        i = stop;
      }
      const c = chunk[i] as number;
      if (this.inString) {
        if (this.escaped) this.escaped = false;
        else if (c === BACKSLASH) this.escaped = true;
        else if (c === QUOTE) {
          this.inString = false;
          if (this.keyText !== null) {
            (this.stack[this.stack.length - 1] as Frame).key = this.keyText;
            this.keyText = null;
          }
        } else if (this.keyText !== null) this.keyText += String.fromCharCode(c);
        continue;
      }
      if (c === QUOTE) {
        this.inString = true;
        const top = this.stack[this.stack.length - 1];
        if (top?.object && top.expectKey && top.role !== 'other') this.keyText = '';
      } else if (c === OPEN_OBJECT || c === OPEN_ARRAY) {
        const parent = this.stack[this.stack.length - 1];
        const object = c === OPEN_OBJECT;
        let role: Role = 'other';
        if (!parent) role = 'top';
        else if (parent.role === 'top' && object && parent.key === 'hits') role = 'hitsObject';
        else if (parent.role === 'hitsObject' && !object && parent.key === 'hits' && this.head === null) {
          role = 'hitsList';
          this.head = this.headText(chunk.subarray(0, i));
        } else if (parent.role === 'hitsList' && object) role = 'hit';
        else if (parent.role === 'hit' && object && parent.key === '_source') {
          this.sourceOpen = 1;
          if (this.copied++ > 0) out.push(SEPARATOR);
          copyFrom = i;
          continue;
        }
        this.stack.push({ object, role, expectKey: object, key: null });
      } else if (c === CLOSE_OBJECT || c === CLOSE_ARRAY) {
        const frame = this.stack.pop();
        if (!frame) throw new Error(`search index: unreadable answer (a closing bracket at byte ${i})`);
        if (frame.role === 'hitsList') {
          this.finished = true;
          return;
        }
      } else if (c === COLON) {
        const top = this.stack[this.stack.length - 1];
        if (top?.object) top.expectKey = false;
      } else if (c === COMMA) {
        const top = this.stack[this.stack.length - 1];
        if (top?.object) {
          top.expectKey = true;
          top.key = null;
        }
      }
    }
    if (copyFrom >= 0) out.push(chunk.subarray(copyFrom));
    if (this.head === null) this.prefix.push(chunk);
  }

  /** The answer before the list, closed after an empty list. */
  private headText(last: Uint8Array): string {
    this.prefix.push(last);
    const text = this.wholeText();
    this.prefix.length = 0;
    // Open here: the answer's object and its `hits` object.
    return `${text}[]}}`;
  }

  /** What was read before any hit list, as text (when the answer has no list, all of it; it is then small). */
  wholeText(): string {
    const decoder = new TextDecoder();
    let text = '';
    for (const part of this.prefix) text += decoder.decode(part, { stream: true });
    return text + decoder.decode();
  }
}

interface Head {
  hits?: { total?: { value?: number } | number };
}

/** `hits.total` of a `_search` answer: a number (ES 6) or `{value}` (ES 7+, OpenSearch). */
export function totalOf(head: unknown): number {
  const t = (head as Head | null)?.hits?.total;
  const n = typeof t === 'number' ? t : t?.value;
  if (typeof n !== 'number') throw new Error('search index: the answer has no hits.total');
  return n;
}

/**
 * Reads `body` up to its hit list and answers the total and a stream of the
 * hits' `_source` objects as a JSON array (the rest of the answer is read
 * as it comes and dropped once the list ended). A body that ends inside the
 * list errors the stream. `blockBytes` is the smallest block scanned at once
 * (tests make it small to cut answers anywhere).
 */
export async function openHits(
  body: ReadableStream<Uint8Array>,
  blockBytes = HITS_BLOCK_BYTES,
): Promise<{ total: number; sources: ReadableStream<Uint8Array> }> {
  // The index request's signal bounds the whole body; the idle bound is only a backstop.
  const reader = blockReader(body, { minBytes: blockBytes, maxBytes: blockBytes, idleMs: DEFAULT_TIMEOUT_MS, sender: 'the search index' });
  const scanner = new HitsScanner();
  const pending: Uint8Array[] = [OPEN_LIST];
  try {
    while (scanner.head === null) {
      const block = await reader.read();
      if (!block) {
        // No hit list at all: a small answer; its total, and no hits.
        return { total: totalOf(JSON.parse(scanner.wholeText())), sources: noHits() };
      }
      scanner.push(block, pending);
    }
  } catch (err) {
    await reader.cancel();
    throw err;
  }
  const total = totalOf(JSON.parse(scanner.head));
  // The answer is read at the index's pace, not the client's: the index
  // request's timeout bounds the reading, and a slow client must not make it
  // run out (what waits for the client is the sources, never more than the answer).
  const pump = async (controller: ReadableStreamDefaultController<Uint8Array>): Promise<void> => {
    try {
      while (!scanner.finished) {
        const block = await reader.read();
        if (!block) throw new Error('search index: the answer ended inside the hit list');
        const out: Uint8Array[] = [];
        scanner.push(block, out);
        // One piece per block read: the sources' many small slices would each be a write.
        if (out.length > 0) controller.enqueue(concatBytes(out));
      }
      controller.enqueue(CLOSE_LIST);
      controller.close();
      await reader.cancel();
    } catch (err) {
      await reader.cancel();
      try {
        controller.error(err);
      } catch {
        // The client went away (the stream was cancelled).
      }
    }
  };
  const sources = new ReadableStream<Uint8Array>({
    start(controller) {
      for (const p of pending) controller.enqueue(p);
      void pump(controller);
    },
    async cancel() {
      await reader.cancel();
    },
  });
  return { total, sources };
}

/** The stream of an empty hit list. */
export function noHits(): ReadableStream<Uint8Array> {
  return new ReadableStream({
    start(controller) {
      controller.enqueue(OPEN_LIST);
      controller.enqueue(CLOSE_LIST);
      controller.close();
    },
  });
}
