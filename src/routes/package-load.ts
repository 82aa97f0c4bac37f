/**
 * POST /package/upload and GET /package/status: start a package load and
 * follow it. The wire shapes are the original's (api.md rows 10-11,
 * quirks 8-9); the work is in src/jobs/accept.ts and src/jobs/status-query.ts.
 * GET /package/status with `Accept: text/event-stream` and
 * GET /package/status/view are the live stream and page (not in the original).
 */
import { createRoute, z } from '@hono/zod-openapi';
import { STATUSES } from '../durable/status-machine.ts';
import { statusBody, wantsEventStream } from '../durable/status-stream.ts';
import { statusPageHtml, statusPagePolicy } from '../http/status-page.ts';
import { jsonError, jsonp, untyped } from '../http/respond.ts';
import { CallbackParam, keyParam, MAX_URL, param, requiredParam } from '../http/params.ts';
import { DETECTED_KEYS } from '../loader/dialect.ts';
import type { App } from '../http/types.ts';
import { acceptUpload } from '../jobs/accept.ts';
import { statusFor, streamFor } from '../jobs/status-query.ts';


const Callback = CallbackParam;

const UploadQuery = z.object({
  datapackage: requiredParam('URL of datapackage.json (the upload_url from /datastore/)', { maxLength: MAX_URL }),
  jwt: requiredParam('Permission token for os.datastore'),
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
  datapackage: requiredParam('The URL given to /package/upload, its normalised form, or a package id', {
    maxLength: MAX_URL,
  }),
  jwt: z
    .string()
    .optional()
    .openapi({ description: "User token: by package id, a private package's status answers only its owner" }),
  callback: Callback,
});

const StatusResponse = z
  .object({
    status: z.enum(STATUSES),
    progress: z.number().min(0).openapi({
      description:
        'Records loaded so far (OS_STATUS_PROGRESS=records, the default) or the share of the load done, 0..1 (OS_STATUS_PROGRESS=fraction)',
    }),
    records: z.number().int().min(0).openapi({ description: 'Records loaded so far, whatever the setting' }),
    fraction: z
      .number()
      .min(0)
      .max(1)
      .openapi({ description: 'Share of the load done, 0..1, whatever the setting: exactly 1 when done, 0 while unknown' }),
    error: z.string().optional(),
    total: z.number().int().optional().openapi({ description: 'Total records, when known' }),
    steps: z.record(z.string(), z.number()).optional().openapi({ description: 'Milliseconds spent per status' }),
    dialect: z
      .object({
        delimiter: z.string(),
        quoteChar: z.string(),
        skipInitialSpace: z.boolean(),
        detected: z.array(z.enum(DETECTED_KEYS)).openapi({
          description: 'Keys detected from the first lines of the file (the others are declared, or defaults)',
        }),
      })
      .optional()
      .openapi({ description: 'The CSV dialect in use, once the load has read the start of the file' }),
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

const StreamDoc = z.string().openapi({
  description:
    'Server-Sent Events, when the request has `Accept: text/event-stream`: `status` events whose data is the JSON ' +
    'polling body plus `bytes`, `bytesTotal` (data file bytes read, size), `startedAt`, `stepStartedAt`, ' +
    '`updatedAt`, `now` (ms since the epoch), with ids `<startedAt>-<n>` growing per change; comment heartbeats; ' +
    'the stream ends after `done` or `fail`. A `Last-Event-ID` of the current state skips it (204 once the load has ended).',
});

const statusRoute = createRoute({
  method: 'get',
  path: '/package/status',
  summary: 'Status of a package load (polling JSON, or a live event stream)',
  request: { query: StatusQuery },
  responses: {
    200: {
      description: 'The load status, or its event stream',
      content: { 'application/json': { schema: StatusResponse }, 'text/event-stream': { schema: StreamDoc } },
    },
    204: { description: 'Event stream asked with the Last-Event-ID of the final event: nothing more will come' },
    400: { description: 'Missing datapackage', content: { 'application/json': { schema: ErrorBody } } },
    404: {
      description: "Unknown key, or a private package's id asked without its owner's user token (plain-text body, as the original)",
      content: { 'text/plain': { schema: z.string() } },
    },
  },
});


const ViewQuery = z.object({
  datapackage: requiredParam('As for /package/status', { maxLength: MAX_URL }),
  jwt: z.string().optional().openapi({ description: 'As for /package/status (the page passes it on to the stream)' }),
});

const viewRoute = createRoute({
  method: 'get',
  path: '/package/status/view',
  summary: 'HTML page following a package load live',
  request: { query: ViewQuery },
  responses: {
    200: { description: 'The page (inline script and style, strict CSP)', content: { 'text/html': { schema: z.string() } } },
    400: { description: 'Missing datapackage', content: { 'application/json': { schema: ErrorBody } } },
    404: { description: 'As for /package/status', content: { 'text/plain': { schema: z.string() } } },
  },
});

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
    const key = keyParam('datapackage', await param(c, 'datapackage'));
    if ('error' in key) return untyped(jsonError(c, 400, key.error));
    const datapackage = key.value;
    const jwt = await param(c, 'jwt');
    if (wantsEventStream(c.req.header('accept'))) {
      const stream = await streamFor(c.env, c.get('config'), datapackage, jwt, c.req.header('last-event-id') ?? null);
      return untyped(stream ?? c.text('Not Found', 404));
    }
    const view = await statusFor(c.env, c.get('config'), datapackage, jwt);
    // Not JSON on purpose: gobble keeps polling on a non-JSON body.
    if (!view) return untyped(c.text('Not Found', 404));
    return untyped(jsonp(c, statusBody(view, c.get('config').OS_STATUS_PROGRESS), 200));
  });

  app.openapi(viewRoute, async (c) => {
    const key = keyParam('datapackage', c.req.query('datapackage'));
    if ('error' in key) return untyped(jsonError(c, 400, key.error));
    // The same visibility as the stream the page reads: no page for a status the caller may not see.
    const view = await statusFor(c.env, c.get('config'), key.value, c.req.query('jwt'));
    if (!view) return untyped(c.text('Not Found', 404));
    return untyped(
      c.html(statusPageHtml(), 200, {
        'Content-Security-Policy': await statusPagePolicy(),
        'Referrer-Policy': 'no-referrer',
        'X-Content-Type-Options': 'nosniff',
        'Cache-Control': 'no-store',
      }),
    );
  });
}
