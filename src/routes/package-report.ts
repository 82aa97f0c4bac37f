/**
 * GET /package/report and GET /package/history: a load's validation report
 * (by the keys /package/status takes, with its visibility) and a package's
 * load history. The work is in src/jobs/history.ts.
 */
import { createRoute, z } from '@hono/zod-openapi';
import { getSigningKeys } from '../auth/keys.ts';
import { verifyUserToken } from '../auth/tokens.ts';
import { withDb } from '../db/client.ts';
import { historyAccess, jobReport, packageHistory, recordOf } from '../jobs/history.ts';
import { getJob } from '../jobs/lifecycle.ts';
import { statusFor } from '../jobs/status-query.ts';
import { ERROR_TYPES } from '../loader/report.ts';
import { CallbackParam, keyParam, MAX_URL, param, requiredParam } from '../http/params.ts';
import { jsonError, jsonp, untyped } from '../http/respond.ts';
import type { App } from '../http/types.ts';
import { getPackage } from '../registry/registry.ts';

const ErrorBody = z.object({ error: z.string() }).openapi('Error');

const ReportError = z
  .object({
    type: z.enum(Object.keys(ERROR_TYPES) as [keyof typeof ERROR_TYPES, ...Array<keyof typeof ERROR_TYPES>]),
    title: z.string(),
    description: z.string(),
    message: z.string().openapi({ description: "The loader's words, as /package/status says them (rows counted without the header)" }),
    tags: z.array(z.string()),
    note: z.string(),
    rowNumber: z.number().int().optional().openapi({ description: "Frictionless's row number: the header is row 1" }),
    dataRow: z.number().int().optional().openapi({ description: 'The data row the message names (the header not counted)' }),
    fieldName: z.string().optional(),
    fieldNumber: z.number().int().optional(),
    cell: z.string().optional().openapi({ description: 'The value, truncated to 100 characters' }),
    labels: z.array(z.string()).optional().openapi({ description: 'missing-label: the header as read' }),
  })
  .openapi('ReportError');

const Suggestion = z
  .object({
    target: z.enum(['field', 'schema', 'dialect']),
    field: z.string().optional(),
    change: z.record(z.string(), z.unknown()).openapi({ description: 'What to set in the descriptor, where target says' }),
    message: z.string(),
  })
  .openapi('ReportSuggestion');

const ReportBody = z
  .object({
    valid: z.boolean(),
    stats: z.object({
      rows: z.number().int().openapi({ description: 'Data rows read' }),
      bytes: z.number().int(),
      fields: z.number().int(),
      seconds: z.number(),
      errors: z.number().int(),
    }),
    warnings: z.array(z.string()).openapi({ description: '`reached error limit: N` when the load stopped at OS_LOADER_MAX_ERRORS' }),
    errors: z.array(ReportError),
    suggestions: z.array(Suggestion).openapi({ description: 'Fixes the errors point to' }),
  })
  .openapi('LoadReport');

const ReportResponse = ReportBody.extend({
  status: z.enum(['running', 'done', 'fail', 'superseded']),
}).openapi('LoadReportWithStatus');

const HistoryEntry = z
  .object({
    started: z.string(),
    finished: z.string().nullable(),
    status: z.enum(['running', 'done', 'fail', 'superseded']),
    rows: z.number().int(),
    bytes: z.number().int(),
    seconds: z.number(),
    descriptorHash: z.string().nullable().openapi({ description: 'SHA-256 of datapackage.json as fetched' }),
    dataHash: z.string().nullable().openapi({ description: "The data file's ETag when it was read" }),
    live: z.boolean().openapi({ description: 'The load committed its data' }),
    latest: z.boolean(),
    successful: z.boolean().openapi({ description: 'The load whose data is live now' }),
    error: z.string().optional().openapi({ description: 'Owner only' }),
    report: ReportBody.optional().openapi({ description: 'Owner only; its first 10 errors (stats.errors counts them all)' }),
  })
  .openapi('LoadHistoryEntry');

const HistoryResponse = z.object({ id: z.string(), loads: z.array(HistoryEntry) }).openapi('LoadHistory');

const reportRoute = createRoute({
  method: 'get',
  path: '/package/report',
  summary: 'Validation report of a package load',
  description:
    "The report of the load /package/status shows for the same key, in Frictionless's report shape: every error a load that met bad data collected (up to OS_LOADER_MAX_ERRORS), with fixes where the errors show one.",
  request: {
    query: z.object({
      datapackage: requiredParam('The URL given to /package/upload, its normalised form, or a package id', { maxLength: MAX_URL }),
      jwt: z.string().optional().openapi({ description: "User token: by package id, a private package's report answers only its owner" }),
      callback: CallbackParam,
    }),
  },
  responses: {
    200: { description: 'The report', content: { 'application/json': { schema: ReportResponse } } },
    400: { description: 'Missing or too long datapackage', content: { 'application/json': { schema: ErrorBody } } },
    404: { description: "Unknown key, or a private package's id without its owner's user token", content: { 'application/json': { schema: ErrorBody } } },
  },
});

const historyRoute = createRoute({
  method: 'get',
  path: '/package/history',
  summary: 'Load history of a package',
  description:
    "Every load of the package kept (the newest OS_LOADER_HISTORY_KEEP), newest first. Its owner (user token) sees errors and reports; anyone else sees a published package's history without them.",
  request: {
    query: z.object({
      id: requiredParam('Package id (owner:name)', { maxLength: MAX_URL }),
      jwt: z.string().optional().openapi({ description: "User token of the package's owner" }),
      callback: CallbackParam,
    }),
  },
  responses: {
    200: { description: 'The history', content: { 'application/json': { schema: HistoryResponse } } },
    400: { description: 'Missing or too long id', content: { 'application/json': { schema: ErrorBody } } },
    404: { description: 'No loads of the package, or a private one without its owner\'s user token', content: { 'application/json': { schema: ErrorBody } } },
  },
});


export function registerPackageReportRoutes(app: App): void {
  app.openapi(reportRoute, async (c) => {
    const key = keyParam('datapackage', await param(c, 'datapackage'));
    if ('error' in key) return untyped(jsonError(c, 400, key.error));
    const config = c.get('config');
    const view = await statusFor(c.env, config, key.value, await param(c, 'jwt'));
    const job = view ? await withDb(config, (db) => getJob(db, view.job)) : null;
    if (!job) return untyped(jsonError(c, 404, 'no load found for this datapackage'));
    return untyped(jsonp(c, jobReport(recordOf(job)), 200));
  });

  app.openapi(historyRoute, async (c) => {
    const key = keyParam('id', await param(c, 'id'));
    if ('error' in key) return untyped(jsonError(c, 400, key.error));
    const id = key.value;
    const config = c.get('config');
    const jwt = await param(c, 'jwt');
    const user = jwt ? await verifyUserToken(await getSigningKeys(config), config, jwt) : null;
    const loads = await withDb(config, async (db) => {
      const doc = await getPackage(db, id);
      const access = historyAccess(user?.userid ?? null, id, doc ? doc.package.private === false : null);
      // Pruning keeps that many ended loads; a few running ones come on top.
      return access ? packageHistory(db, id, access, config.OS_LOADER_HISTORY_KEEP + 5) : [];
    });
    if (loads.length === 0) return untyped(jsonError(c, 404, 'no loads found for this package'));
    return untyped(jsonp(c, { id, loads }, 200));
  });
}
