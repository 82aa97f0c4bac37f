/**
 * Reading a request body with a size cap, whatever its Content-Type: the
 * datastore's clients send JSON as text/plain (os-packager), without a
 * Content-Type (os-cli) or as application/json (gobble, vulekamali).
 */
import { readBounded, TooLargeError } from '../http/bounded-read.ts';

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
  try {
    const bytes = await readBounded(request.body, limit, request.headers.get('content-length'));
    // Invalid UTF-8 becomes U+FFFD and then fails JSON parsing or validation.
    return new TextDecoder().decode(bytes);
  } catch (err) {
    if (err instanceof TooLargeError) throw new BodyTooLargeError(limit);
    throw err;
  }
}
