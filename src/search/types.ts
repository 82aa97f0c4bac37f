/**
 * The contract every search backend implements (Postgres full-text, or
 * ElasticSearch/OpenSearch over HTTP). Route code only sees this interface.
 */
import type { RegistryDocument } from '../registry/registry.ts';

/** One `<field>=<JSON value>` filter, e.g. path `package.owner`, value `"abc"`. */
export interface SearchFilter {
  /** Dotted path whose first segment is id, model, package, origin_url, loaded or last_update. */
  path: string;
  /** The decoded JSON value (string, number, boolean, null, or array meaning any-of). */
  value: unknown;
}

export interface SearchQuery {
  /** Free text (the decoded JSON `q`), matched over title/author/owner/description/regionCode/countryCode/cityCode. */
  q?: string;
  filters: SearchFilter[];
  size: number;
  from: number;
  /** Optional ordering; relevance (or backend default) when absent. */
  sort?: { field: 'last_update' | 'title' | 'id'; order: 'asc' | 'desc' };
  /** The authenticated user (from a valid user token) or null for anonymous. */
  userid: string | null;
}

/** What /search/package returns per hit. */
export type SearchHit = Pick<RegistryDocument, 'id' | 'model' | 'package' | 'origin_url' | 'loaded' | 'last_update'>;

export interface SearchResult {
  hits: SearchHit[];
  /** Number of visible packages matching, for paging (X-Total-Count). */
  total: number;
}

/** A SearchResult with its hits as a stream of one JSON array (a backend that has them so need not parse them). */
export interface SearchResultStream {
  hitsJson: ReadableStream<Uint8Array>;
  total: number;
}

export interface PackageStats {
  num_packages: number;
  num_records: number;
  num_countries: number;
}

export interface SearchBackend {
  readonly name: 'postgres' | 'elasticsearch';
  search(query: SearchQuery): Promise<SearchResult>;
  /** The same search with the hits streamed as JSON, where the backend has them so (the route answers it as is). */
  searchStream?(query: SearchQuery): Promise<SearchResultStream>;
  /** Counts over what anonymous users may see. */
  stats(): Promise<PackageStats>;
}
