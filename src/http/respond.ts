/**
 * Response helpers that keep the original service's wire format.
 */
import type { Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';

/** A JavaScript identifier path such as `cb`, `jQuery123_456` or `ns.fn`. */
const CALLBACK_NAME = /^[A-Za-z_$][\w$]*(\.[A-Za-z_$][\w$]*)*$/;

/**
 * JSON, or JSONP when the query has `callback` (flask-jsonpify behaviour):
 * `cb(<json>);` served as application/javascript. Invalid callback names
 * are refused rather than echoed, so the endpoint cannot serve attacker
 * script.
 */
export function jsonp(c: Context, data: unknown, status: ContentfulStatusCode = 200): Response {
  return jsonpText(c, JSON.stringify(data), status);
}

/** jsonp for a body that is JSON text already. */
export function jsonpText(c: Context, body: string, status: ContentfulStatusCode = 200): Response {
  const callback = c.req.query('callback');
  if (callback === undefined || callback === '') {
    return c.body(body, status, { 'Content-Type': 'application/json' });
  }
  if (callback.length > 128 || !CALLBACK_NAME.test(callback)) {
    return c.json({ error: 'invalid callback name' }, 400);
  }
  return c.body(`/**/${callback}(${body});`, status, {
    'Content-Type': 'application/javascript; charset=utf-8',
    'X-Content-Type-Options': 'nosniff',
  });
}

/** `{"error": message}` with the given status. */
export function jsonError(c: Context, status: ContentfulStatusCode, message: string): Response {
  return c.json({ error: message }, status);
}

/**
 * JSONP, error bodies and plain-text answers are not Hono typed responses;
 * the route schemas still document them for the OpenAPI document.
 */
export function untyped(res: Response): never {
  return res as never;
}
