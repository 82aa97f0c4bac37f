/**
 * Reads a response body in large blocks. A fetch body arrives in small
 * network chunks (~4 KiB on loopback); handing each one on costs a promise,
 * a timer and a consumer call per chunk, which was a large part of a load's
 * CPU and of a streamed search answer's time. Here workerd's BYOB
 * `readAtLeast` fills a block of at least `minBytes` in one call; other
 * streams are read normally and joined.
 */

import { concatBytes } from './bytes.ts';
import { withTimeout } from './timeout.ts';

/** Blocks of a body; `null` at the end. */
export interface BlockReader {
  read(): Promise<Uint8Array | null>;
  cancel(): Promise<void>;
}

export interface BlockReaderOptions {
  /** Smallest block returned before the end of the body. */
  minBytes: number;
  /** Largest block (the BYOB buffer size); at least `minBytes`. */
  maxBytes: number;
  /** Longest wait for the next block before the read fails (transient). */
  idleMs: number;
  /** What sends the body, for the idle error ("the data file sent nothing for 60 s"). */
  sender: string;
}

/** workerd's BYOB reader extension (not in the standard typings). */
interface ReadAtLeast {
  readAtLeast(min: number, view: Uint8Array): Promise<ReadableStreamReadResult<Uint8Array>>;
}

/** A block reader over `body` (BYOB when the runtime offers `readAtLeast`). */
export function blockReader(body: ReadableStream<Uint8Array>, options: BlockReaderOptions): BlockReader {
  const { minBytes, idleMs, sender } = options;
  const within = <T>(promise: Promise<T>): Promise<T> => withTimeout(promise, idleMs, `${sender} sent nothing for ${idleMs / 1000} s`);
  const maxBytes = Math.max(minBytes, options.maxBytes);
  let byob: (ReadableStreamBYOBReader & Partial<ReadAtLeast>) | null = null;
  try {
    byob = body.getReader({ mode: 'byob' }) as ReadableStreamBYOBReader & Partial<ReadAtLeast>;
  } catch {
    byob = null; // not a byte stream
  }
  if (byob && typeof byob.readAtLeast === 'function') {
    const reader = byob as ReadableStreamBYOBReader & ReadAtLeast;
    let ended = false;
    return {
      async read() {
        while (!ended) {
          // A fresh buffer each time: the consumer may keep parts of the previous block.
          const { done, value } = await within(reader.readAtLeast(minBytes, new Uint8Array(maxBytes)));
          if (done) ended = true;
          if (value && value.byteLength > 0) return value;
        }
        return null;
      },
      cancel: () => reader.cancel().catch(() => undefined),
    };
  }
  if (byob) byob.releaseLock();
  const reader = body.getReader();
  let ended = false;
  return {
    async read() {
      if (ended) return null;
      const parts: Uint8Array[] = [];
      let size = 0;
      while (size < minBytes) {
        const { done, value } = await within(reader.read());
        if (done) {
          ended = true;
          break;
        }
        if (value.byteLength === 0) continue;
        parts.push(value);
        size += value.byteLength;
      }
      return size === 0 ? null : concatBytes(parts);
    },
    cancel: () => reader.cancel().catch(() => undefined),
  };
}
