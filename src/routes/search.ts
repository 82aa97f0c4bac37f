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
import { jsonError, jsonp } from '../http/respond.ts';
import type { App } from '../http/types.ts';
import { getSearchBackend } from '../search/index.ts';
import { MAX_RESULT_WINDOW, parseSearchParams } from '../search/query.ts';

// Repeated keys arrive as arrays; the first value is used, as the original did.
const queryValue = (description: string) =>
  z.union([z.string(), z.array(z.string())]).optional().openapi({ description, type: 'string' });

const SearchParams = z.object({
  q: queryValue('JSON-encoded free text, e.g. "budget", matched over title, author, owner, description, regionCode, countryCode, cityCode'),
  size: queryValue(`Page size, default 100, at most ${MAX_RESULT_WINDOW}`),
  from: queryValue(`Offset of the first result (from + size at most ${MAX_RESULT_WINDOW})`),
  sort: queryValue('last_update, title or id, optionally :asc or :desc (default: relevance)'),
  jwt: queryValue("Optional user token: the user's own private or unloaded packages are included"),
  callback: queryValue('JSONP callback name'),
  'package.owner': queryValue('Filter example: any <path>=<JSON value> with a first segment of id, model, package, origin_url, loaded or last_update, e.g. package.owner="<userid>"'),
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
    params: z.object({ kind: z.string().openapi({ example: 'package' }) }),
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

/** JSONP and error bodies are not Hono typed responses; the schemas above document them. */
function untyped(res: Response): never {
  return res as never;
}

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
      const result = await backend.search(query);
      c.header('X-Total-Count', String(result.total));
      return untyped(jsonp(c, result.hits));
    } catch (err) {
      // The original answered [] when the index failed; say why in the log.
      c.get('log')('error', 'search backend failed', { backend: backend.name, error: (err as Error).message });
      c.header('X-Total-Count', '0');
      return untyped(jsonp(c, []));
    }
  });
}
