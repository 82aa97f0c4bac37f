/**
 * The ElasticSearch/OpenSearch search backend: /search/package and
 * /package/stats answered from the `packages` index over HTTP.
 */
import type { Config } from '../../config.ts';
import type { PackageStats, SearchBackend, SearchHit, SearchQuery, SearchResult, SearchResultStream } from '../types.ts';
import { EsError } from './client.ts';
import { target, targetFromConfig, type EsTarget } from './index.ts';
import { noHits, openHits, totalOf } from './hits-stream.ts';
import { searchBody, statsBody } from './query.ts';

/** What /package/stats reads of its `_search` answer besides the total. */
interface StatsResponse {
  aggregations?: { num_records?: { value: number | null }; num_countries?: { value: number | null } };
}

const missingIndex = (err: unknown): boolean => err instanceof EsError && err.type === 'index_not_found_exception';

/** One `_search` request as the backend sends it (also what bench/search.ts sends straight to the index). */
export interface EsSearchRequest {
  method: 'POST';
  path: string;
  body: unknown;
}

/** The request /search/package sends for `query`. */
export function searchRequest(index: string, query: SearchQuery): EsSearchRequest {
  return { method: 'POST', path: `/${encodeURIComponent(index)}/_search`, body: searchBody(query) };
}

/** The request /package/stats sends. */
export function statsRequest(index: string): EsSearchRequest {
  return { method: 'POST', path: `/${encodeURIComponent(index)}/_search`, body: statsBody() };
}

/**
 * Search over an explicit target, the hits streamed as the index sends them
 * (a JSON array of their `_source`, which the request limits to
 * SOURCE_FIELDS). A missing index is an empty catalogue.
 */
export async function searchIndexStream(t: EsTarget, query: SearchQuery): Promise<SearchResultStream> {
  try {
    const req = searchRequest(t.index, query);
    const res = await t.client.request<SearchResultStream>(req.method, req.path, {
      body: req.body,
      read: async (answer) => {
        if (!answer.body) throw new Error('the answer has no body');
        const { total, sources } = await openHits(answer.body);
        return { total, hitsJson: sources };
      },
    });
    return res.body;
  } catch (err) {
    if (missingIndex(err)) return { hitsJson: noHits(), total: 0 };
    throw err;
  }
}

/** searchIndexStream with the hits read and parsed. */
export async function searchIndex(t: EsTarget, query: SearchQuery): Promise<SearchResult> {
  const { hitsJson, total } = await searchIndexStream(t, query);
  return { hits: JSON.parse(await new Response(hitsJson).text()) as SearchHit[], total };
}

/** Stats over what anonymous users may see; zeros for a missing index. */
export async function statsIndex(t: EsTarget): Promise<PackageStats> {
  try {
    const req = statsRequest(t.index);
    const res = await t.client.request<StatsResponse>(req.method, req.path, { body: req.body });
    return {
      num_packages: totalOf(res.body),
      num_records: Math.round(res.body.aggregations?.num_records?.value ?? 0),
      num_countries: Math.round(res.body.aggregations?.num_countries?.value ?? 0),
    };
  } catch (err) {
    if (missingIndex(err)) return { num_packages: 0, num_records: 0, num_countries: 0 };
    throw err;
  }
}

/** The backend for the configured index, or for an explicit `{url, index}` (tests, tools). */
export function createElasticsearchBackend(source: Config | { url: string; index: string }): SearchBackend {
  const t = 'url' in source ? target(source.url, source.index) : targetFromConfig(source);
  return {
    name: 'elasticsearch',
    search: (query) => searchIndex(t, query),
    searchStream: (query) => searchIndexStream(t, query),
    stats: () => statsIndex(t),
  };
}
