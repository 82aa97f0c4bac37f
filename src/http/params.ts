/**
 * Reading parameters the way the original (Flask `request.values`) did:
 * from the query string, or from a form-encoded body.
 */
import { z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { formFields } from './request-body.ts';
import type { AppEnv } from './types.ts';

/** Largest value we accept for any single parameter (tokens are far smaller). */
export const MAX_PARAM_LENGTH = 8192;

/** Largest datapackage URL or package id the package endpoints take. */
export const MAX_URL = 2048;

/**
 * A required key parameter (a datapackage URL or a package id) checked
 * against MAX_URL: the value, or the 400 message that names the parameter.
 */
export function keyParam(name: string, value: string | undefined): { value: string } | { error: string } {
  if (!value) return { error: `missing ${name} parameter` };
  if (value.length > MAX_URL) return { error: `${name} parameter is too long` };
  return { value };
}

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

/**
 * `callback` as the OpenAPI document shows it: a JavaScript function path,
 * or empty for plain JSON. respond.ts enforces it (400 otherwise).
 */
export const CALLBACK_DOC = {
  description: 'JSONP callback name (empty: plain JSON); the answer is then application/javascript',
  pattern: '^([A-Za-z_$][A-Za-z0-9_$]*(\\.[A-Za-z_$][A-Za-z0-9_$]*)*)?$',
  maxLength: 128,
};
export const CallbackParam = z.string().optional().openapi(CALLBACK_DOC);

/**
 * A parameter the handler requires, read with `param` from the query or a
 * form body: the document shows it required in the query (where every real
 * client sends it) while the validator lets it be absent there, so a form
 * body still works; the handler answers its own 400/403 when it is missing.
 */
export function requiredParam(description: string, schema: { pattern?: string; maxLength?: number } = {}) {
  return z
    .string()
    .optional()
    .openapi({
      description: `${description}; query or form body`,
      param: { required: true },
      minLength: 1,
      maxLength: schema.maxLength ?? MAX_PARAM_LENGTH,
      ...(schema.pattern ? { pattern: schema.pattern } : {}),
    });
}
