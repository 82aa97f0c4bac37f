/**
 * Package management endpoints (api.md rows 12–16): publish, delete,
 * update_params, run-hooks (owner only, permission token in `jwt`) and the
 * public stats. Shapes and status codes are the original's: a missing jwt is
 * 403, a missing parameter 400, a bad token an HTTP 200 `null`, business
 * errors HTTP 200 `{"success": false, ...}`. The work is in
 * src/registry/manage.ts.
 */
import { createRoute, z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { getSigningKeys } from '../auth/keys.ts';
import { canUpload, verifyPermissionToken } from '../auth/tokens.ts';
import { CallbackParam, param, requiredParam } from '../http/params.ts';
import { requestText } from '../http/request-body.ts';
import { jsonError, jsonp, untyped } from '../http/respond.ts';
import type { App, AppEnv } from '../http/types.ts';
import { deleteAs, publishAs, runHooksAs, updateParamsAs } from '../registry/manage.ts';
import { isPackageId, parsePublishMode } from '../registry/policy.ts';
import { getSearchBackend } from '../search/index.ts';

const Jwt = requiredParam('Permission token (os.datastore, datapackage-upload true) of the package owner');
const Id = requiredParam('Package id <owner>:<name>', { pattern: '^[^:]+:[\\s\\S]+$', maxLength: 512 });
const Publish = requiredParam('true, false or toggle (any case)', {
  pattern: '^([Tt][Rr][Uu][Ee]|[Ff][Aa][Ll][Ss][Ee]|[Tt][Oo][Gg][Gg][Ll][Ee])$',
});
const Pipeline = requiredParam('Pipeline URL (one of the configured ones)');
const Callback = CallbackParam;

const ErrorBody = z.object({ error: z.string() }).openapi('Error');
const Failure = z.object({ success: z.literal(false), error: z.string() }).openapi('Failure');
const json = <T extends z.ZodType>(schema: T, description: string) => ({
  description,
  content: { 'application/json': { schema } },
});
const errors = {
  400: json(ErrorBody, 'A missing or invalid parameter'),
  403: json(ErrorBody, 'Missing jwt'),
};

const publishRoute = createRoute({
  method: 'post',
  path: '/package/publish',
  summary: 'Publish or hide a package (owner only)',
  request: {
    query: z.object({ jwt: Jwt, id: Id, publish: Publish, callback: Callback }),
  },
  responses: {
    200: json(
      z.union([z.object({ success: z.literal(true), published: z.boolean() }), Failure, z.null()]),
      'The new state; success false for an unknown package (or one of another user); null for a bad token',
    ),
    ...errors,
  },
});

const deleteRoute = createRoute({
  method: 'post',
  path: '/package/delete',
  summary: 'Remove a package from the registry and the search index (owner only)',
  description: 'The fact table and the uploaded files stay.',
  request: { query: z.object({ jwt: Jwt, id: Id, callback: Callback }) },
  responses: {
    200: json(
      z.union([z.object({ success: z.boolean() }), z.null()]),
      'success false for an unknown package; null for a bad token or another user\'s package',
    ),
    ...errors,
  },
});

const ParamsBody = z.object({ params: z.string() }).passthrough().openapi('DefaultParams');

const updateParamsRoute = createRoute({
  method: 'post',
  path: '/package/update_params',
  summary: "Store a package's default view parameters (owner only)",
  description:
    'The JSON body {"params": "<JSON string>"} is stored as package.defaultParams, as os-viewer expects. Body: application/json, at most 64 KiB.',
  request: {
    query: z.object({ jwt: Jwt, id: Id, callback: Callback }),
    body: { required: true, content: { 'application/json': { schema: ParamsBody } } },
  },
  responses: {
    200: json(
      z.union([z.object({ success: z.literal(true) }), z.null()]),
      'null for a bad token, another user\'s package or an unknown package',
    ),
    ...errors,
  },
});

const runHooksRoute = createRoute({
  method: 'post',
  path: '/package/run-hooks',
  summary: 'Trigger a configured pipeline for a package (owner only)',
  description:
    'Posts the JSON-LD document {"@context":…, "url": <datapackage URL>} as multipart field "input" to `pipeline`, which must be one of OS_PIPELINE_URLS. The pipeline\'s answer is summarised (status and at most 200 characters).',
  request: {
    query: z.object({ jwt: Jwt, id: Id, pipeline: Pipeline, callback: Callback }),
  },
  responses: {
    200: json(
      z.union([
        z.object({
          success: z.boolean(),
          response: z.string(),
          payload: z.object({ '@context': z.record(z.string(), z.unknown()), url: z.string().nullable() }),
        }),
        Failure,
        z.null(),
      ]),
      'The pipeline was called (success = it answered 2xx), or refused (success false), or null for a bad token',
    ),
    ...errors,
  },
});

const statsRoute = createRoute({
  method: 'get',
  path: '/package/stats',
  summary: 'Catalogue statistics',
  description: 'Counted over the packages anyone may see (published and loaded). {} when the search backend fails.',
  request: { query: z.object({ callback: Callback }) },
  responses: {
    200: json(
      z.object({ num_packages: z.number().int(), num_records: z.number().int(), num_countries: z.number().int() }),
      'Counts',
    ),
  },
});


type Ctx = Context<AppEnv>;

/**
 * The common preamble: jwt present (else 403), id present (else 400), and
 * the user id of a valid os.datastore permission token granting
 * datapackage-upload (null otherwise: the same `null` answer as a bad token).
 */
async function authenticate(c: Ctx): Promise<{ response: Response } | { userid: string | null; id: string }> {
  const jwt = await param(c, 'jwt');
  if (!jwt) return { response: jsonError(c, 403, 'missing jwt parameter') };
  const id = await param(c, 'id');
  if (!id) return { response: jsonError(c, 400, 'missing id parameter') };
  if (!isPackageId(id)) return { response: jsonError(c, 400, 'id must be <owner>:<name>') };
  const config = c.get('config');
  const claims = await verifyPermissionToken(await getSigningKeys(config), config, jwt, 'os.datastore');
  return { userid: canUpload(claims) ? claims.userid : null, id };
}

/** The JSON body; null when it is not one with a string `params` (over 64 KiB: 413, request-body.ts). */
async function readParamsBody(c: Ctx): Promise<z.infer<typeof ParamsBody> | null> {
  const raw = await requestText(c);
  try {
    const parsed = ParamsBody.safeParse(JSON.parse(raw));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

export function registerPackageAdminRoutes(app: App): void {
  app.openapi(publishRoute, async (c) => {
    const auth = await authenticate(c);
    if ('response' in auth) return untyped(auth.response);
    const mode = parsePublishMode(await param(c, 'publish'));
    if (!mode) return untyped(jsonError(c, 400, 'publish must be true, false or toggle'));
    if (!auth.userid) return untyped(jsonp(c, null));
    return untyped(jsonp(c, await publishAs(c.get('config'), auth.userid, auth.id, mode, c.get('log'))));
  });

  app.openapi(deleteRoute, async (c) => {
    const auth = await authenticate(c);
    if ('response' in auth) return untyped(auth.response);
    if (!auth.userid) return untyped(jsonp(c, null));
    return untyped(jsonp(c, await deleteAs(c.get('config'), auth.userid, auth.id, c.get('log'))));
  });

  // Declared for the OpenAPI document only: the body is read through the
  // bounded reader (request-body.ts), which the generated validator would bypass.
  app.openAPIRegistry.registerPath(updateParamsRoute);
  app.post(updateParamsRoute.path, async (c) => {
    const auth = await authenticate(c);
    if ('response' in auth) return untyped(auth.response);
    const body = await readParamsBody(c);
    if (!body) return untyped(jsonError(c, 400, "No 'params' key or bad params value."));
    if (!auth.userid) return untyped(jsonp(c, null));
    return untyped(jsonp(c, await updateParamsAs(c.get('config'), auth.userid, auth.id, body, c.get('log'))));
  });

  app.openapi(runHooksRoute, async (c) => {
    const auth = await authenticate(c);
    if ('response' in auth) return untyped(auth.response);
    const pipeline = await param(c, 'pipeline');
    if (!pipeline) return untyped(jsonError(c, 400, 'missing pipeline parameter'));
    if (!auth.userid) return untyped(jsonp(c, null));
    return untyped(jsonp(c, await runHooksAs(c.get('config'), auth.userid, auth.id, pipeline)));
  });

  app.openapi(statsRoute, async (c) => {
    const backend = getSearchBackend(c.get('config'));
    try {
      return untyped(jsonp(c, await backend.stats()));
    } catch (err) {
      c.get('log')('error', 'stats backend failed', { backend: backend.name, error: (err as Error).message });
      return untyped(jsonp(c, {}));
    }
  });
}
