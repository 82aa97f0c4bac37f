/**
 * Reading parameters the way the original (Flask `request.values`) did:
 * from the query string, or from a form-encoded body.
 */
import type { Context } from 'hono';

/** Largest value we accept for any single parameter (tokens are far smaller). */
export const MAX_PARAM_LENGTH = 8192;

export class ParamTooLongError extends Error {
  constructor(public readonly param: string) {
    super(`parameter ${param} is too long`);
  }
}

/**
 * A parameter from the query string, else from an
 * application/x-www-form-urlencoded or multipart body. Undefined when absent.
 */
export async function param(c: Context, name: string): Promise<string | undefined> {
  let value = c.req.query(name);
  if (value === undefined) {
    const type = c.req.header('content-type') ?? '';
    if (
      c.req.method !== 'GET' &&
      (type.startsWith('application/x-www-form-urlencoded') || type.startsWith('multipart/form-data'))
    ) {
      const body = await c.req.parseBody().catch(() => ({}) as Record<string, unknown>);
      const v = body[name];
      if (typeof v === 'string') value = v;
    }
  }
  if (value !== undefined && value.length > MAX_PARAM_LENGTH) throw new ParamTooLongError(name);
  return value;
}
