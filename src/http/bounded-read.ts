/**
 * Reading a whole body into memory, but never more than a cap: the one
 * place that does it for request bodies and for small files we fetch.
 */
import { concatBytes } from './bytes.ts';

/** Thrown when a body is (or announces being) larger than the cap. */
export class TooLargeError extends Error {
  constructor(public readonly limit: number) {
    super(`larger than ${limit} bytes`);
  }
}

/**
 * The bytes of `body`; throws TooLargeError as soon as more than `limit`
 * bytes are announced (`declaredLength`) or have arrived. The rest of the
 * stream is cancelled, never read.
 */
export async function readBounded(
  body: ReadableStream<Uint8Array> | null,
  limit: number,
  declaredLength?: string | null,
): Promise<Uint8Array> {
  if (Number(declaredLength ?? 0) > limit) {
    await body?.cancel();
    throw new TooLargeError(limit);
  }
  if (!body) return new Uint8Array(0);
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel();
      throw new TooLargeError(limit);
    }
    chunks.push(value);
  }
  return concatBytes(chunks);
}
