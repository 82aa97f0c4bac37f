/**
 * The Postgres search backend: full-text search on the registry table, for
 * deployments (and `npm run dev`) without ElasticSearch. It answers with the
 * same semantics as the ElasticSearch backend:
 * - `q`: any of its words in title/description/regionCode/countryCode
 *   (lower-cased, unstemmed), or the whole of it equal to owner/author/cityCode;
 * - filters: keyword paths equal the value; other string paths match any of
 *   the value's words; arrays in the document match by any element; paths
 *   stored but not indexed match nothing;
 * - visibility: public and loaded, or owned by the caller (query.ts).
 * Every value reaches SQL as a parameter; JSON paths are built from
 * JSON-quoted segments only.
 */
import type { Config } from '../config.ts';
import { withDb, type Db } from '../db/client.ts';
import type { RegistryDocument } from '../registry/registry.ts';
import { KEYWORD_PATHS, isUnsearchablePath } from './query.ts';
import type { PackageStats, SearchBackend, SearchHit, SearchQuery } from './types.ts';

/** A lax-mode SQL/JSON path for a dotted field path; `[*]` so arrays match by element. */
export function jsonPathOf(path: string): string {
  return '$' + path.split('.').map((s) => '.' + JSON.stringify(s)).join('') + '[*]';
}

/**
 * A path predicate matching `value` exactly at `path` (any array element).
 * The value is written as a JSON literal, which is also valid SQL/JSON path
 * syntax for strings, numbers and booleans; the whole path is a bound
 * parameter, never SQL text.
 */
export function exactPath(path: string, value: string | number | boolean): string {
  if (typeof value === 'number' && !Number.isFinite(value)) throw new Error('not a finite number');
  return `${jsonPathOf(path)} ? (@ == ${JSON.stringify(value)})`;
}

// Any word of the text (ElasticSearch's match/multi_match default operator is OR).
const ANY_WORD = (param: string) => `replace(plainto_tsquery('simple', ${param})::text, ' & ', ' | ')::tsquery`;

interface Built {
  where: string;
  /** Relevance, when there is free text. */
  rank: string | null;
  params: unknown[];
}

/** Builds the WHERE clause (visibility, q, filters) and a relevance expression. */
export function buildSearchSql(query: SearchQuery): Built {
  const params: unknown[] = [];
  const p = (v: unknown) => {
    params.push(v);
    return `$${params.length}`;
  };
  const clauses: string[] = [];

  clauses.push(query.userid ? `((NOT private AND loaded) OR package_owner = ${p(query.userid)})` : '(NOT private AND loaded)');

  let rank: string | null = null;
  if (query.q !== undefined) {
    const q = p(query.q);
    const keyword = ['package.owner', 'package.author', 'package.cityCode']
      .map((path) => `jsonb_path_exists(doc, ${p(jsonPathOf(path) + ' ? (@ == $v)')}::jsonpath, jsonb_build_object('v', ${q}::text))`)
      .join(' OR ');
    clauses.push(`(search_text @@ ${ANY_WORD(q)} OR ${keyword})`);
    rank = `ts_rank(search_text, ${ANY_WORD(q)})`;
  }

  for (const filter of query.filters) {
    if (isUnsearchablePath(filter.path)) {
      clauses.push('FALSE');
      continue;
    }
    const values = Array.isArray(filter.value) ? filter.value : [filter.value];
    const path = jsonPathOf(filter.path);
    const anyOf = values.map((value) => {
      if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean') return 'FALSE';
      // Indexed columns for the two filters clients send most (os-viewer's
      // id, os-admin's owner); both always hold a single string.
      if (filter.path === 'id') return typeof value === 'string' ? `id = ${p(value)}` : 'FALSE';
      if (filter.path === 'package.owner') return typeof value === 'string' ? `package_owner = ${p(value)}` : 'FALSE';
      // `@?` with a constant can use the GIN (jsonb_path_ops) index on doc.
      const exact = `doc @? ${p(exactPath(filter.path, value))}::jsonpath`;
      if (typeof value !== 'string' || KEYWORD_PATHS.has(filter.path)) return exact;
      const words = `EXISTS (SELECT 1 FROM jsonb_path_query(doc, ${p(path)}::jsonpath) AS x(v)
        WHERE jsonb_typeof(x.v) = 'string' AND to_tsvector('simple', x.v #>> '{}') @@ ${ANY_WORD(p(value))})`;
      return `${exact} OR ${words}`;
    });
    clauses.push(`(${anyOf.join(' OR ')})`);
  }
  return { where: clauses.join(' AND '), rank, params };
}

function orderBy(query: SearchQuery, rank: string | null): string {
  const sort = query.sort;
  if (!sort) return `${rank ? `${rank} DESC, ` : ''}last_update DESC, id`;
  const dir = sort.order === 'asc' ? 'ASC' : 'DESC';
  const column = { last_update: 'last_update', title: 'lower(package_title)', id: 'id' }[sort.field];
  return `${column} ${dir} NULLS LAST, id`;
}

function toHit(doc: RegistryDocument): SearchHit {
  return {
    id: doc.id,
    model: doc.model,
    package: doc.package,
    origin_url: doc.origin_url,
    loaded: doc.loaded,
    last_update: doc.last_update,
  };
}

/** Search over an open connection (the backend opens one per call). */
export async function searchPostgres(db: Db, query: SearchQuery): Promise<{ hits: SearchHit[]; total: number }> {
  const { where, rank, params } = buildSearchSql(query);
  const count = async () => {
    const { rows } = await db.query(`SELECT count(*)::int AS n FROM packages WHERE ${where}`, params);
    return Number(rows[0]?.n ?? 0);
  };
  if (query.size === 0) return { hits: [], total: await count() };
  // The window count is taken before LIMIT, so one scan gives page and total.
  const page = await db.query(
    `SELECT doc, count(*) OVER ()::int AS total FROM packages WHERE ${where} ORDER BY ${orderBy(query, rank)}
     LIMIT ${Number(query.size)} OFFSET ${Number(query.from)}`,
    params,
  );
  if (page.rows.length === 0) return { hits: [], total: query.from > 0 ? await count() : 0 };
  return { hits: page.rows.map((r) => toHit(r.doc as RegistryDocument)), total: Number(page.rows[0]!.total) };
}

/** Counts over what anonymous users may see. */
export async function statsPostgres(db: Db): Promise<PackageStats> {
  const { rows } = await db.query(`
    SELECT
      count(*)::int AS num_packages,
      coalesce(round(sum(CASE WHEN jsonb_typeof(doc #> '{package,count_of_rows}') = 'number'
                              THEN (doc #>> '{package,count_of_rows}')::numeric END)), 0)::text AS num_records,
      (SELECT count(DISTINCT c.v)::int FROM packages p2,
         jsonb_path_query(p2.doc, 'lax $.package.countryCode[*]') AS c(v)
       WHERE NOT p2.private AND p2.loaded AND jsonb_typeof(c.v) = 'string') AS num_countries
    FROM packages WHERE NOT private AND loaded`);
  const r = rows[0] ?? {};
  return {
    num_packages: Number(r.num_packages ?? 0),
    num_records: Number(r.num_records ?? 0),
    num_countries: Number(r.num_countries ?? 0),
  };
}

/** The SearchBackend over the Postgres registry. */
export function createPostgresBackend(config: Config): SearchBackend {
  return {
    name: 'postgres',
    search: (query) => withDb(config, (db) => searchPostgres(db, query)),
    stats: () => withDb(config, (db) => statsPostgres(db)),
  };
}
