/**
 * POST /package/upload and GET /package/status: start a package load and
 * follow it. The wire shapes are the original's (api.md rows 10-11,
 * quirks 8-9); the work is in src/jobs/accept.ts and src/jobs/status-query.ts.
 */
import { createRoute, z } from '@hono/zod-openapi';
import type { StatusView } from '../durable/package-status.ts';
import { STATUSES } from '../durable/status-machine.ts';
import { jsonError, jsonp } from '../http/respond.ts';
import { param } from '../http/params.ts';
import type { App } from '../http/types.ts';
import { acceptUpload } from '../jobs/accept.ts';
import { statusFor } from '../jobs/status-query.ts';

const MAX_URL = 2048;

const Callback = z.string().optional().openapi({ description: 'JSONP callback name' });

const UploadQuery = z.object({
  datapackage: z
    .string()
    .optional()
    .openapi({ description: 'URL of datapackage.json (the upload_url from /datastore/); query or form body' }),
  jwt: z.string().optional().openapi({ description: 'Permission token for os.datastore (query or form body)' }),
  callback: Callback,
});

const UploadParams = z.object({
  datapackage: z.string().min(1).max(MAX_URL),
  jwt: z.string().min(1),
});

const UploadResponse = z
  .union([
    z.object({ progress: z.literal(0), status: z.literal('queued') }),
    z.object({ status: z.literal('fail'), error: z.string() }),
  ])
  .openapi('UploadResponse');

const ErrorBody = z.object({ error: z.string() }).openapi('Error');

const StatusQuery = z.object({
  datapackage: z
    .string()
    .optional()
    .openapi({ description: 'The URL given to /package/upload, its normalised form, or a package id' }),
  jwt: z
    .string()
    .optional()
    .openapi({ description: "User token: by package id, a private package's status answers only its owner" }),
  callback: Callback,
});

const StatusResponse = z
  .object({
    status: z.enum(STATUSES),
    progress: z.number().int().openapi({ description: 'Records loaded so far' }),
    error: z.string().optional(),
    total: z.number().int().optional().openapi({ description: 'Total records, when known' }),
    fraction: z.number().min(0).max(1).optional().openapi({ description: 'Share of the load done, 0..1' }),
    steps: z.record(z.string(), z.number()).optional().openapi({ description: 'Milliseconds spent per status' }),
  })
  .openapi('LoadStatus');

const uploadRoute = createRoute({
  method: 'post',
  path: '/package/upload',
  summary: 'Load a fiscal data package into the database',
  description:
    'Validates the permission token and the URL, queues the load and answers at once. A bad token answers HTTP 200 {"status":"fail","error":"unauthorized"} as the original did; every later failure shows in /package/status.',
  request: { query: UploadQuery },
  responses: {
    200: { description: 'Queued, or failed', content: { 'application/json': { schema: UploadResponse } } },
    400: { description: 'Missing datapackage', content: { 'application/json': { schema: ErrorBody } } },
    403: { description: 'Missing jwt', content: { 'application/json': { schema: ErrorBody } } },
  },
});

const statusRoute = createRoute({
  method: 'get',
  path: '/package/status',
  summary: 'Status of a package load',
  request: { query: StatusQuery },
  responses: {
    200: { description: 'The load status', content: { 'application/json': { schema: StatusResponse } } },
    400: { description: 'Missing datapackage', content: { 'application/json': { schema: ErrorBody } } },
    404: {
      description: "Unknown key, or a private package's id asked without its owner's user token (plain-text body, as the original)",
      content: { 'text/plain': { schema: z.string() } },
    },
  },
});

/**
 * JSONP and the plain-text 404 are not Hono typed responses; the route
 * schemas above still document them for the OpenAPI document.
 */
function untyped(res: Response): never {
  return res as never;
}

/** The public view of a status (no job id, key or private metadata). */
export function statusBody(view: StatusView): z.infer<typeof StatusResponse> {
  const body: z.infer<typeof StatusResponse> = { status: view.status, progress: view.progress };
  if (view.status === 'fail') body.error = view.error ?? 'load failed';
  if (view.total !== null) body.total = view.total;
  if (view.fraction !== null) body.fraction = Math.min(1, Math.max(0, view.fraction));
  body.steps = view.steps as Record<string, number>;
  return body;
}

export function registerPackageLoadRoutes(app: App): void {
  app.openapi(uploadRoute, async (c) => {
    const parsed = UploadParams.safeParse({ datapackage: await param(c, 'datapackage'), jwt: await param(c, 'jwt') });
    if (!parsed.success) {
      const missing = parsed.error.issues[0]?.path[0];
      if (missing === 'datapackage') return untyped(jsonError(c, 400, 'missing or too long datapackage parameter'));
      return untyped(jsonError(c, 403, 'missing jwt parameter'));
    }
    const answer = await acceptUpload(c.env, c.get('config'), parsed.data.datapackage, parsed.data.jwt);
    return untyped(jsonp(c, answer, 200));
  });

  app.openapi(statusRoute, async (c) => {
    const datapackage = await param(c, 'datapackage');
    if (!datapackage) return untyped(jsonError(c, 400, 'missing datapackage parameter'));
    if (datapackage.length > MAX_URL) return untyped(jsonError(c, 400, 'datapackage parameter is too long'));
    const view = await statusFor(c.env, c.get('config'), datapackage, await param(c, 'jwt'));
    // Not JSON on purpose: gobble keeps polling on a non-JSON body.
    if (!view) return untyped(c.text('Not Found', 404));
    return untyped(jsonp(c, statusBody(view), 200));
  });
}
