/**
 * GET /search/package: the public package catalogue (api.md row 17, quirk 15).
 * A bare JSON array of {id, model, package, origin_url, loaded, last_update};
 * paging with `from`, ordering with `sort`, the total in `X-Total-Count`.
 * Parsing and visibility are in src/search/query.ts, the backends in
 * src/search/.
 */
import { createRoute, z } from '@hono/zod-openapi';
import { getSigningKeys } from '../auth/keys.ts';
import { verifyUserToken } from '../auth/tokens.ts';
import { readerLinksOf, readerView } from '../datastore/reader-links.ts';
import { CALLBACK_DOC } from '../http/params.ts';
import { jsonError, jsonp, jsonpBody, untyped } from '../http/respond.ts';
import type { App } from '../http/types.ts';
import { getSearchBackend } from '../search/index.ts';
import { MAX_RESULT_WINDOW, parseSearchParams } from '../search/query.ts';

// Repeated keys arrive as arrays; the first value is used, as the original did.
// `extra` is what the document shows of the value (the handler checks it all).
const queryValue = (description: string, extra: Record<string, unknown> = {}) =>
  z.union([z.string(), z.array(z.string())]).optional().openapi({ description, type: 'string', ...extra });

/** A JSON-encoded value: the document shows it as parameter content (see docs.ts). */
const jsonValue = (description: string, schema: Record<string, unknown>) =>
  queryValue(description, { contentMediaType: 'application/json', contentSchema: schema });

const SCALAR = { type: ['string', 'number', 'boolean'] };
const SORT_PATTERN = '(last_update|title|id)(:(asc|desc))?';

const SearchParams = z.object({
  q: jsonValue(
    'JSON-encoded free text, e.g. "budget", matched over title, author, owner, description, regionCode, countryCode, cityCode',
    { ...SCALAR, maxLength: 1000 },
  ),
  size: queryValue(`Page size, default 100, at most ${MAX_RESULT_WINDOW}`, {
    type: 'integer',
    minimum: 0,
    maximum: MAX_RESULT_WINDOW,
  }),
  from: queryValue(`Offset of the first result; a page reaching past ${MAX_RESULT_WINDOW} results is cut there`, {
    type: 'integer',
    minimum: 0,
    maximum: MAX_RESULT_WINDOW,
  }),
  sort: queryValue('last_update, title or id, optionally :asc or :desc (default: relevance)', {
    pattern: `^${SORT_PATTERN}$|^"${SORT_PATTERN}"$`,
  }),
  jwt: queryValue("Optional user token: the user's own private or unloaded packages are included"),
  callback: queryValue(CALLBACK_DOC.description, CALLBACK_DOC),
  'package.owner': jsonValue(
    'Filter example: any <path>=<JSON value> with a first segment of id, model, package, origin_url, loaded or last_update, e.g. package.owner="<userid>"; a list matches any of its values',
    { anyOf: [SCALAR, { type: 'array', items: SCALAR, minItems: 1, maxItems: 100 }] },
  ),
});

const SearchHit = z
  .object({
    id: z.string(),
    model: z.record(z.string(), z.unknown()).nullable(),
    package: z.record(z.string(), z.unknown()),
    origin_url: z.string().nullable(),
    loaded: z.boolean().optional(),
    last_update: z.number().optional().openapi({ description: 'Epoch seconds' }),
  })
  .openapi('SearchHit');

const searchRoute = createRoute({
  method: 'get',
  path: '/search/{kind}',
  summary: 'Search packages',
  description:
    'Public (published and loaded) packages, plus the caller\'s own when a user token is given. Only kind "package" exists. A search backend failure answers [] as the original did.',
  request: {
    params: z.object({ kind: z.string().openapi({ example: 'package', enum: ['package'] }) }),
    query: SearchParams,
  },
  responses: {
    200: {
      description: 'Matching packages (JSON, or JSONP with callback)',
      headers: z.object({ 'X-Total-Count': z.string().openapi({ description: 'Number of matching visible packages' }) }),
      content: { 'application/json': { schema: z.array(SearchHit) } },
    },
    400: {
      description: 'Unknown kind, invalid JSON in q or a filter, bad size/from/sort, or beyond the result window',
      content: { 'application/json': { schema: z.object({ error: z.string() }) } },
    },
  },
});


export function registerSearchRoutes(app: App): void {
  app.openapi(searchRoute, async (c) => {
    if (c.req.param('kind') !== 'package') return untyped(jsonError(c, 400, 'unknown search kind: only "package"'));
    const parsed = parseSearchParams(c.req.queries());
    if (!parsed.ok) return untyped(jsonError(c, 400, parsed.error));

    const config = c.get('config');
    // An invalid or expired token, or a permission token, means anonymous.
    const user = parsed.jwt ? await verifyUserToken(await getSigningKeys(config), config, parsed.jwt) : null;
    const query = { ...parsed.query, userid: user?.userid ?? null };

    const backend = getSearchBackend(config);
    try {
      // Private bucket: file URLs as read links (an index written in private mode has them already).
      const links = readerLinksOf(config);
      if (!links && backend.searchStream) {
        // The hits as the index sends them, while it sends them: not parsed and serialised again.
        const result = await backend.searchStream(query);
        c.header('X-Total-Count', String(result.total));
        return untyped(jsonpBody(c, result.hitsJson));
      }
      const result = await backend.search(query);
      c.header('X-Total-Count', String(result.total));
      return untyped(jsonp(c, links ? result.hits.map((hit) => readerView(hit, links)) : result.hits));
    } catch (err) {
      // The original answered [] when the index failed; say why in the log.
      c.get('log')('error', 'search backend failed', { backend: backend.name, error: (err as Error).message });
      c.header('X-Total-Count', '0');
      return untyped(jsonp(c, []));
    }
  });
}
