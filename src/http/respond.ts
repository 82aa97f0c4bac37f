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
  return jsonpBody(c, JSON.stringify(data), status);
}

/** jsonp for a body that is JSON already: text, or a stream of it. */
export function jsonpBody(c: Context, body: string | ReadableStream<Uint8Array>, status: ContentfulStatusCode = 200): Response {
  const callback = c.req.query('callback');
  if (callback === undefined || callback === '') {
    return c.body(body, status, { 'Content-Type': 'application/json' });
  }
  if (callback.length > 128 || !CALLBACK_NAME.test(callback)) {
    if (typeof body !== 'string') void body.cancel();
    return c.json({ error: 'invalid callback name' }, 400);
  }
  const wrapped = typeof body === 'string' ? `/**/${callback}(${body});` : wrapStream(`/**/${callback}(`, body, ');');
  return c.body(wrapped, status, {
    'Content-Type': 'application/javascript; charset=utf-8',
    'X-Content-Type-Options': 'nosniff',
  });
}

/** `before`, the stream's bytes, then `after`. */
function wrapStream(before: string, body: ReadableStream<Uint8Array>, after: string): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  const reader = body.getReader();
  let started = false;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (!started) {
        started = true;
        controller.enqueue(encoder.encode(before));
        return;
      }
      const { done, value } = await reader.read();
      if (done) {
        controller.enqueue(encoder.encode(after));
        controller.close();
      } else controller.enqueue(value);
    },
    cancel: (reason) => reader.cancel(reason),
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
