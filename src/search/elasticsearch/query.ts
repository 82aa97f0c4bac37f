/**
 * Pure translation of a SearchQuery into an ElasticSearch/OpenSearch query
 * body (no I/O), with the same semantics as the Postgres backend:
 * - visibility: (package.private not true AND loaded not false) OR
 *   package.owner == the caller;
 * - `q`: multi_match over title/author/owner/description/regionCode/
 *   countryCode/cityCode (keyword fields match the whole text, text fields
 *   any word);
 * - filters: `match` on the path (whole value on keyword fields, any word on
 *   text fields, arrays by element); paths stored but not indexed match nothing;
 * - order: relevance when there is free text, then newest first, then id.
 */
import { isUnsearchablePath } from '../query.ts';
import type { SearchFilter, SearchQuery } from '../types.ts';

/** The fields /search/package returns (the original's `_source` list). */
export const SOURCE_FIELDS = ['id', 'model', 'package', 'origin_url', 'loaded', 'last_update'] as const;

/** The fields `q` is matched against. */
export const Q_FIELDS = [
  'package.title',
  'package.author',
  'package.owner',
  'package.description',
  'package.regionCode',
  'package.countryCode',
  'package.cityCode',
] as const;

type Json = Record<string, unknown>;

/** What anonymous users may see: not private, not unloaded (missing fields count as public and loaded). */
export const PUBLIC_AND_LOADED: Json = {
  bool: { must_not: [{ term: { 'package.private': true } }, { term: { loaded: false } }] },
};

/** The visibility clause for `userid` (null: anonymous). */
export function visibilityClause(userid: string | null): Json {
  if (!userid) return PUBLIC_AND_LOADED;
  return { bool: { should: [PUBLIC_AND_LOADED, { term: { 'package.owner': userid } }], minimum_should_match: 1 } };
}

/** One filter: any of its values, each a `match` on the path. */
export function filterClause(filter: SearchFilter): Json {
  if (isUnsearchablePath(filter.path)) return { match_none: {} };
  const values = Array.isArray(filter.value) ? filter.value : [filter.value];
  const clauses = values.map((value) =>
    value === null
      ? { bool: { must_not: [{ exists: { field: filter.path } }] } }
      : // lenient: a text value against a numeric or boolean field matches nothing instead of failing.
        { match: { [filter.path]: { query: value, lenient: true } } },
  );
  return clauses.length === 1 ? clauses[0]! : { bool: { should: clauses, minimum_should_match: 1 } };
}

const SORT_FIELDS = { last_update: 'last_update', title: 'package.title.sort', id: 'id' } as const;

/** The sort list: explicit field, or relevance then newest; ties broken by id. */
export function sortClause(query: Pick<SearchQuery, 'sort' | 'q'>): unknown[] {
  if (query.sort) {
    const field = SORT_FIELDS[query.sort.field];
    const tail = query.sort.field === 'id' ? [] : [{ id: { order: 'asc' } }];
    return [{ [field]: { order: query.sort.order, missing: '_last' } }, ...tail];
  }
  return [...(query.q !== undefined ? ['_score'] : []), { last_update: { order: 'desc', missing: '_last' } }, { id: { order: 'asc' } }];
}

/** The `_search` body for a query. */
export function searchBody(query: SearchQuery): Json {
  const filter: Json[] = [visibilityClause(query.userid), ...query.filters.map(filterClause)];
  const must: Json[] =
    query.q !== undefined ? [{ multi_match: { query: query.q, fields: [...Q_FIELDS], lenient: true } }] : [];
  return {
    _source: [...SOURCE_FIELDS],
    size: query.size,
    from: query.from,
    track_total_hits: true,
    query: { bool: { filter, must } },
    sort: sortClause(query),
  };
}

/** The `_search` body of the stats over what anonymous users may see. */
export function statsBody(): Json {
  return {
    size: 0,
    track_total_hits: true,
    query: { bool: { filter: [PUBLIC_AND_LOADED] } },
    aggs: {
      num_records: { sum: { field: 'package.count_of_rows' } },
      // 40000 is the largest precision threshold: exact below it (there are ~250 countries).
      num_countries: { cardinality: { field: 'package.countryCode.keyword', precision_threshold: 40000 } },
    },
  };
}
