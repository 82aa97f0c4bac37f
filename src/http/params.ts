/**
 * Reading parameters the way the original (Flask `request.values`) did:
 * from the query string, or from a form-encoded body.
 */
import type { Context } from 'hono';
import { formFields } from './request-body.ts';
import type { AppEnv } from './types.ts';

/** Largest value we accept for any single parameter (tokens are far smaller). */
export const MAX_PARAM_LENGTH = 8192;

export class ParamTooLongError extends Error {
  constructor(public readonly param: string) {
    super(`parameter ${param} is too long`);
  }
}

/**
 * A parameter from the query string, else from an
 * application/x-www-form-urlencoded or multipart body (read within the
 * route's cap, see request-body.ts). Undefined when absent.
 */
export async function param(c: Context<AppEnv>, name: string): Promise<string | undefined> {
  let value = c.req.query(name);
  if (value === undefined && c.req.method !== 'GET' && c.req.method !== 'HEAD') {
    value = (await formFields(c)).get(name);
  }
  if (value !== undefined && value.length > MAX_PARAM_LENGTH) throw new ParamTooLongError(name);
  return value;
}
