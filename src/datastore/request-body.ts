/**
 * Reading a request body with a size cap, whatever its Content-Type: the
 * datastore's clients send JSON as text/plain (os-packager), without a
 * Content-Type (os-cli) or as application/json (gobble, vulekamali).
 */

export class BodyTooLargeError extends Error {
  constructor(public readonly limit: number) {
    super(`request body is larger than ${limit} bytes`);
  }
}

/**
 * The body as UTF-8 text; throws BodyTooLargeError as soon as more than
 * `limit` bytes are announced or have arrived (the rest is not read).
 */
export async function readLimitedText(request: Request, limit: number): Promise<string> {
  const announced = Number(request.headers.get('content-length') ?? '0');
  if (announced > limit) throw new BodyTooLargeError(limit);
  if (!request.body) return '';
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel();
      throw new BodyTooLargeError(limit);
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  // Invalid UTF-8 becomes U+FFFD and then fails JSON parsing or validation.
  return new TextDecoder().decode(bytes);
}
