/**
 * /datastore/*: upload authorisation (presigned PUT URLs), the user's
 * datastore prefixes, and reads of package files (redirects to presigned
 * GETs, for a bucket that is not publicly readable). Thin: token and body plumbing here, the rules in
 * src/datastore/.
 *
 * Wire notes (api.md §1.3 rows 8–9, §3 quirks 2–7 and 23):
 * - the permission token comes from the `Auth-Token` header (any case),
 *   which wins, else `jwt` from the query or a form body;
 * - the body is JSON whatever the Content-Type, so the POST routes parse it
 *   themselves (they are declared in the OpenAPI document all the same);
 * - responses are application/json (the original sent text/html from a bare
 *   json.dumps; every client JSON-parses the text, so nothing changes for
 *   them); no JSONP; errors keep the original codes (400, 401) but carry
 *   `{"error": "..."}` instead of an empty body.
 */
import { createRoute, z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { getSigningKeys } from '../auth/keys.ts';
import { authorizeUpload, uploaderOf } from '../datastore/authorize.ts';
import { fileOfUrl, keyOfSegments, mayReadFile, type FileKey } from '../datastore/files.ts';
import { datastorePrefixes } from '../datastore/prefixes.ts';
import { presignDownload, storageTarget } from '../datastore/presign.ts';
import { verifyUserToken } from '../auth/tokens.ts';
import { withDb } from '../db/client.ts';
import { fileFactsOf } from '../registry/registry.ts';
import {
  AbortResponse,
  AuthorizeRequest,
  AuthorizeResponse,
  CompleteResponse,
  ErrorBody,
  InfoResponse,
  MultipartRequest,
  PartProblemBody,
  ResumeRequest,
  ResumeResponse,
} from '../datastore/schema.ts';
import { MULTIPART_PATHS, multipartUpload, type MultipartAction } from '../datastore/uploads.ts';
import { MAX_PARAM_LENGTH } from '../http/params.ts';
import { requestText } from '../http/request-body.ts';
import type { App, AppEnv } from '../http/types.ts';

const TokenQuery = z.object({
  jwt: z.string().max(MAX_PARAM_LENGTH).optional().openapi({ description: 'Permission token for os.datastore.' }),
});
const TokenHeader = z.object({
  'auth-token': z
    .string()
    .max(MAX_PARAM_LENGTH)
    .optional()
    .openapi({ description: 'Permission token (takes precedence over jwt); header name in any case.' }),
});

const errors = {
  400: { description: 'Invalid JSON, or a missing or unsafe field', content: { 'application/json': { schema: ErrorBody } } },
  401: {
    description: 'No valid os.datastore permission token with datapackage-upload for metadata.owner',
    content: { 'application/json': { schema: ErrorBody } },
  },
  503: { description: 'Datastore not configured', content: { 'application/json': { schema: ErrorBody } } },
};

function authorizeRoute(path: string) {
  return createRoute({
    method: 'post',
    path,
    tags: ['datastore'],
    summary: 'Presigned PUT URLs for the files of a dataset',
    description:
      'The body is JSON whatever the Content-Type (text/plain and none are accepted). ' +
      'Each file gets a SigV4 presigned PUT URL binding Content-MD5 and, when `type` is given, Content-Type. ' +
      'Files above OS_MULTIPART_THRESHOLD, or with `multipart: true`, also get a multipart plan (part URLs).',
    request: {
      query: TokenQuery,
      headers: TokenHeader,
      body: {
        required: true,
        content: {
          'application/json': { schema: AuthorizeRequest },
          'text/plain': { schema: AuthorizeRequest },
        },
      },
    },
    responses: {
      200: { description: 'One upload grant per file', content: { 'application/json': { schema: AuthorizeResponse } } },
      ...errors,
      502: {
        description: 'The storage did not start a multipart upload',
        content: { 'application/json': { schema: ErrorBody } },
      },
    },
  });
}

const MULTIPART_DOCS: Record<MultipartAction, { summary: string; description: string; ok: { description: string; schema: z.ZodType } }> = {
  complete: {
    summary: 'Complete a multipart upload',
    description:
      'Lists the stored parts, checks every part of the plan (derived from the length signed in upload_token) is there with its size ' +
      '(part_size, the last one the rest) and no other, then completes the upload: the object is at upload_url.',
    ok: { description: 'The object exists', schema: CompleteResponse },
  },
  abort: {
    summary: 'Abort a multipart upload',
    description: 'Drops the stored parts; the part URLs stop working.',
    ok: { description: 'Aborted', schema: AbortResponse },
  },
  resume: {
    summary: 'Parts stored so far, and fresh URLs for the rest',
    description:
      'After an interruption (or for the parts beyond the first URLs of the authorize answer): the parts already stored with ' +
      'their planned size, and fresh part URLs for the others (a stored part of another size is sent again).',
    ok: { description: 'What is stored and what to send', schema: ResumeResponse },
  },
};

function multipartRoute(action: MultipartAction) {
  const doc = MULTIPART_DOCS[action];
  const body = action === 'resume' ? ResumeRequest : MultipartRequest;
  return createRoute({
    method: 'post',
    path: MULTIPART_PATHS[action],
    tags: ['datastore'],
    summary: doc.summary,
    description: `${doc.description} The body is JSON whatever the Content-Type. Same permission token as /datastore/authorize, whose user must own the upload.`,
    request: {
      query: TokenQuery,
      headers: TokenHeader,
      body: {
        required: true,
        content: { 'application/json': { schema: body }, 'text/plain': { schema: body } },
      },
    },
    responses: {
      200: { description: doc.ok.description, content: { 'application/json': { schema: doc.ok.schema } } },
      400: errors[400],
      401: {
        description: 'No valid permission token, upload_token forged or expired, or the upload is another user’s',
        content: { 'application/json': { schema: ErrorBody } },
      },
      404: {
        description: 'No such upload (completed, aborted or expired)',
        content: { 'application/json': { schema: ErrorBody } },
      },
      ...(action === 'complete'
        ? { 409: { description: 'A part is missing or has another size than planned', content: { 'application/json': { schema: PartProblemBody } } } }
        : {}),
      502: { description: 'The storage refused or did not answer', content: { 'application/json': { schema: ErrorBody } } },
      503: errors[503],
    },
  });
}

const infoRoute = createRoute({
  method: 'get',
  path: '/datastore/info',
  tags: ['datastore'],
  summary: 'URL prefixes of the token user’s uploaded files',
  request: { query: TokenQuery, headers: TokenHeader },
  responses: {
    200: { description: 'The prefixes', content: { 'application/json': { schema: InfoResponse } } },
    401: errors[401],
    503: errors[503],
  },
});

const FILE_DOC =
  'A redirect (302) to a presigned GET of a package file, valid OS_DATASTORE_READ_URL_TTL seconds, when the caller may ' +
  'see the package: published and loaded, or the owner with a user token in `jwt`. Only a package\'s datapackage.json ' +
  '(its origin_url) and its resources, inside the datastore bucket and the package owner\'s folder, are signed. ' +
  'Unknown files, URLs outside the bucket and packages the caller may not see get the same 404.';

const FileQuery = z.object({
  jwt: z.string().max(MAX_PARAM_LENGTH).optional().openapi({ description: 'User token; the owner reads unpublished packages.' }),
});

const fileResponses = {
  302: {
    description: 'Location: the presigned GET URL (Cache-Control: no-store)',
    headers: z.object({ Location: z.string().openapi({ description: 'Presigned GET of the file in the bucket' }) }),
  },
  400: { description: 'No url (the query form)', content: { 'application/json': { schema: ErrorBody } } },
  404: {
    description:
      'Not a file of a package the caller may see: outside the datastore bucket (another origin or bucket, a traversal step, a query), ' +
      'no registered package lists it, or its package is private or not loaded',
    content: { 'application/json': { schema: ErrorBody } },
  },
  503: errors[503],
};

const fileByUrlRoute = createRoute({
  method: 'get',
  path: '/datastore/file',
  tags: ['datastore'],
  summary: 'Read a package file by its URL in the bucket',
  description: `${FILE_DOC} \`url\` is the file's bucket URL as the registry and /datastore/ give it (origin_url, upload_url).`,
  request: {
    query: FileQuery.extend({
      url: z.string().max(MAX_PARAM_LENGTH).openapi({ description: 'The file\'s URL inside the datastore bucket' }),
    }),
  },
  responses: fileResponses,
});

const fileByPathRoute = createRoute({
  method: 'get',
  path: '/datastore/file/{owner}/{name}/{path}',
  tags: ['datastore'],
  summary: 'Read a package file by its path in the bucket',
  description:
    `${FILE_DOC} The path form <owner>/<name>/<path> is the object key, each segment percent-encoded; relative ` +
    'resource paths resolve against a descriptor link of this form.',
  request: {
    params: z.object({
      owner: z.string().openapi({ description: 'Owner folder (user id)' }),
      name: z.string().openapi({ description: 'Dataset folder' }),
      path: z.string().openapi({ description: 'Path inside the dataset folder; may contain further / segments' }),
    }),
    query: FileQuery,
  },
  responses: fileResponses,
});

const NOT_FOUND = { error: 'file not found' };

/** Redirects to a presigned GET of `file` when the holder of user token `jwt` may read it; else the 404. */
async function readFile(c: Context<AppEnv>, file: FileKey | null): Promise<Response> {
  const config = c.get('config');
  const target = storageTarget(config);
  // Presigned links are credentials for a while, and the answer depends on the token: no shared cache.
  c.header('Cache-Control', 'no-store');
  // Outside the bucket is no package's file either: one 404 for every refusal (schema-valid input is never a 400).
  if (file === null) return c.json(NOT_FOUND, 404);
  const jwt = boundedToken(c.req.query('jwt'));
  // An invalid or expired token, or a permission token, reads as anonymous (as search does).
  const user = jwt ? await verifyUserToken(await getSigningKeys(config), config, jwt) : null;
  const packages = await withDb(config, (db) => fileFactsOf(db, file.owner));
  if (!mayReadFile(target, file, packages, user?.userid ?? null)) return c.json(NOT_FOUND, 404);
  const location = await presignDownload(target, { key: file.key, expiresIn: config.OS_DATASTORE_READ_URL_TTL });
  return c.redirect(location, 302);
}

/** Auth-Token header (an empty one counts as absent, as in the original), else `jwt`. */
function tokenOf(c: Context<AppEnv>, formBody?: string): string | undefined {
  const header = c.req.header('auth-token');
  if (header) return header;
  const query = c.req.query('jwt');
  if (query !== undefined) return query;
  const type = c.req.header('content-type') ?? '';
  if (formBody !== undefined && type.toLowerCase().startsWith('application/x-www-form-urlencoded')) {
    return new URLSearchParams(formBody).get('jwt') ?? undefined;
  }
  return undefined;
}

/** Over-long tokens are not tokens: refuse them before any crypto. */
function boundedToken(token: string | undefined): string | undefined {
  return token !== undefined && token.length <= MAX_PARAM_LENGTH ? token : undefined;
}

async function handleAuthorize(c: Context<AppEnv>): Promise<Response> {
  const config = c.get('config');
  const target = storageTarget(config);
  // A body over the datastore's cap (2 MiB) is refused with 413 in http/request-body.ts.
  const bodyText = await requestText(c);
  const outcome = await authorizeUpload({
    bodyText,
    token: boundedToken(tokenOf(c, bodyText)),
    keys: await getSigningKeys(config),
    config,
    target,
  });
  if (!outcome.ok) return c.json({ error: outcome.error }, outcome.status);
  const files = Object.keys(outcome.body.filedata).length;
  c.get('log')('info', 'datastore upload granted', { files });
  // Presigned URLs are credentials for a while: no shared cache may keep them.
  c.header('Cache-Control', 'no-store');
  return c.json(outcome.body, 200);
}

async function handleMultipart(c: Context<AppEnv>, action: MultipartAction): Promise<Response> {
  const config = c.get('config');
  const target = storageTarget(config);
  const bodyText = await requestText(c);
  const outcome = await multipartUpload(action, {
    bodyText,
    token: boundedToken(tokenOf(c, bodyText)),
    keys: await getSigningKeys(config),
    config,
    target,
  });
  // Resume answers part URLs (credentials); the others are about one user's upload.
  c.header('Cache-Control', 'no-store');
  if (!outcome.ok) {
    const body = outcome.partNumber !== undefined ? { error: outcome.error, part_number: outcome.partNumber } : { error: outcome.error };
    return c.json(body, outcome.status);
  }
  c.get('log')('info', `datastore multipart ${action}`, {});
  return c.json(outcome.body, 200);
}

/**
 * Registers POST /datastore/, POST /datastore/authorize, the multipart
 * endpoints, GET /datastore/file and GET /datastore/info.
 */
export function registerDatastoreRoutes(app: App): void {
  for (const path of ['/datastore/', '/datastore/authorize']) {
    // Declared for the OpenAPI document only: the body must be read as JSON
    // whatever its Content-Type, which the generated validators would not do.
    app.openAPIRegistry.registerPath(authorizeRoute(path));
    app.post(path, handleAuthorize);
  }
  for (const action of ['complete', 'abort', 'resume'] as const) {
    app.openAPIRegistry.registerPath(multipartRoute(action));
    app.post(MULTIPART_PATHS[action], (c) => handleMultipart(c, action));
  }

  app.openAPIRegistry.registerPath(fileByUrlRoute);
  app.get('/datastore/file', (c) => {
    const config = c.get('config');
    const url = c.req.query('url');
    if (url === undefined || url.length > MAX_PARAM_LENGTH) return c.json({ error: 'url is required' }, 400);
    return readFile(c, fileOfUrl(storageTarget(config), url));
  });
  app.openAPIRegistry.registerPath(fileByPathRoute);
  app.get('/datastore/file/*', (c) => {
    // The raw path: segments stay percent-encoded until keyOfSegments checks them one by one.
    const rest = new URL(c.req.url).pathname.slice('/datastore/file/'.length);
    return readFile(c, keyOfSegments(rest.split('/')));
  });

  app.openapi(infoRoute, async (c) => {
    const config = c.get('config');
    const target = storageTarget(config);
    const userid = await uploaderOf(await getSigningKeys(config), config, boundedToken(tokenOf(c)));
    if (userid === null) {
      return c.json({ error: 'a permission token for os.datastore with datapackage-upload is required' }, 401);
    }
    return c.json({ prefixes: datastorePrefixes(target, userid) }, 200);
  });
}
