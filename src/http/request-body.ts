/**
 * Request bodies: the one place the service reads them. Every route has a
 * cap (ROUTE_BODY_LIMITS, else DEFAULT_BODY_LIMIT); a Content-Length over it
 * is answered 413 before any handler runs (nothing is read), and a body
 * without one (chunked) is cut at the cap and refused with 413 the same way.
 * The bytes are read once, through readBounded, and shared by whoever needs
 * them (form parameters, the datastore's JSON, update_params).
 */
import type { Context, MiddlewareHandler } from 'hono';
import { MAX_BODY_BYTES } from '../datastore/schema.ts';
import { readBounded, TooLargeError } from './bounded-read.ts';
import type { AppEnv } from './types.ts';

/**
 * Form and multipart bodies only carry parameters (a jwt is at most
 * MAX_PARAM_LENGTH = 8 KiB, the rest far smaller).
 */
export const DEFAULT_BODY_LIMIT = 32 * 1024;

/** Routes that take a real body, with their caps in bytes. */
export const ROUTE_BODY_LIMITS: Readonly<Record<string, number>> = {
  '/datastore/': MAX_BODY_BYTES,
  '/datastore/authorize': MAX_BODY_BYTES,
  // Resume may carry the per-part digests again (10,000 of them); the others share the datastore's cap.
  '/datastore/multipart/complete': MAX_BODY_BYTES,
  '/datastore/multipart/abort': MAX_BODY_BYTES,
  '/datastore/multipart/resume': MAX_BODY_BYTES,
  '/package/update_params': 64 * 1024,
};

/** The cap of the route at `path`. */
export function bodyLimit(path: string): number {
  return Object.hasOwn(ROUTE_BODY_LIMITS, path) ? (ROUTE_BODY_LIMITS[path] as number) : DEFAULT_BODY_LIMIT;
}

/** A body over its route's cap; answered 413 by the app's error handler. */
export class BodyTooLargeError extends Error {
  constructor(public readonly limit: number) {
    super(`request body is larger than ${limit} bytes`);
  }
}

/** Refuses a declared Content-Length over the route's cap with 413, unread. */
export function bodyCap(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const limit = bodyLimit(c.req.path);
    if (Number(c.req.header('content-length') ?? 0) > limit) {
      await c.req.raw.body?.cancel().catch(() => undefined);
      return c.json({ error: new BodyTooLargeError(limit).message }, 413);
    }
    await next();
  };
}

const bodies = new WeakMap<Request, Promise<Uint8Array>>();

/** The body bytes (empty for GET/HEAD), read once with the route's cap; throws BodyTooLargeError. */
export function requestBody(c: Context<AppEnv>): Promise<Uint8Array> {
  const request = c.req.raw;
  let body = bodies.get(request);
  if (!body) {
    const limit = bodyLimit(c.req.path);
    body = readBounded(request.body, limit, request.headers.get('content-length')).catch((err: unknown) => {
      throw err instanceof TooLargeError ? new BodyTooLargeError(limit) : err;
    });
    bodies.set(request, body);
  }
  return body;
}

/**
 * The body as UTF-8 text, whatever its Content-Type (the datastore's clients
 * send JSON as text/plain, without a Content-Type, or as application/json).
 * Invalid UTF-8 becomes U+FFFD and then fails JSON parsing or validation.
 */
export async function requestText(c: Context<AppEnv>): Promise<string> {
  return new TextDecoder().decode(await requestBody(c));
}

/**
 * The string fields of an application/x-www-form-urlencoded or
 * multipart/form-data body ({} for any other type, or a malformed body).
 */
export async function formFields(c: Context<AppEnv>): Promise<Map<string, string>> {
  const header = c.req.header('content-type') ?? '';
  const type = header.toLowerCase();
  const fields = new Map<string, string>();
  if (type.startsWith('application/x-www-form-urlencoded')) {
    for (const [k, v] of new URLSearchParams(await requestText(c))) if (!fields.has(k)) fields.set(k, v);
  } else if (type.startsWith('multipart/form-data')) {
    const bytes = await requestBody(c);
    const form = await new Response(bytes, { headers: { 'content-type': header } }).formData().catch(() => null);
    for (const [k, v] of form ?? []) if (typeof v === 'string' && !fields.has(k)) fields.set(k, v);
  }
  return fields;
}
