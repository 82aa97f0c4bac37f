/**
 * Which form of index, mapping and document writes the search server
 * accepts, chosen from its version (`GET /`).
 *
 * os-api reads the index through os-package-registry 0.0.21 on
 * elasticsearch-py 5, with typed URLs (`/packages/package/_search`,
 * `/packages/package/<id>`). Those find documents only in an index created
 * with the mapping type `package`, which engines that still serve types
 * (ElasticSearch 6.x/7.x, OpenSearch 1.x) accept; ElasticSearch 8 and
 * OpenSearch 2 reject types, so there the index is typeless (and os-api
 * cannot read it).
 */
import type { EsClient } from './client.ts';

/** The doc type of os-package-registry (its DOC_TYPE). */
export const DOC_TYPE = 'package';

/** What `GET /` says about the server. */
export interface EngineInfo {
  distribution: 'elasticsearch' | 'opensearch';
  /** version.number, e.g. "7.10.2" or "1.3.17". */
  version: string;
  /** version.minimum_wire_compatibility_version, when given. */
  minimumWireVersion?: string;
}

/** How to write to one engine. */
export interface Dialect {
  engine: EngineInfo;
  /** Mapping type the index is created with (null: typeless). */
  mappingType: string | null;
  /** `include_type_name=true` on index creation (7.x and OpenSearch 1.x: typed mappings are opt-in there). */
  includeTypeName: boolean;
  /** Type segment of document URLs: `_doc` (typeless endpoint, any type on 7.x+) or the type itself (6.x). */
  urlType: string;
  /** `_type` in `_bulk` action lines (6.x requires it), or null. */
  bulkType: string | null;
}

const major = (version: string): number => Number.parseInt(version, 10);

/** Reads the answer of `GET /`; throws naming what is missing. */
export function parseEngineInfo(body: unknown): EngineInfo {
  const v = (body as { version?: { number?: unknown; distribution?: unknown; minimum_wire_compatibility_version?: unknown } } | null)
    ?.version;
  if (!v || typeof v.number !== 'string' || !Number.isFinite(major(v.number))) {
    throw new Error('search index: GET / did not answer version.number (is this ElasticSearch or OpenSearch?)');
  }
  return {
    distribution: v.distribution === 'opensearch' ? 'opensearch' : 'elasticsearch',
    version: v.number,
    ...(typeof v.minimum_wire_compatibility_version === 'string'
      ? { minimumWireVersion: v.minimum_wire_compatibility_version }
      : {}),
  };
}

const TYPED_6: Omit<Dialect, 'engine'> = { mappingType: DOC_TYPE, includeTypeName: false, urlType: DOC_TYPE, bulkType: DOC_TYPE };
const TYPED_7: Omit<Dialect, 'engine'> = { mappingType: DOC_TYPE, includeTypeName: true, urlType: '_doc', bulkType: null };
const TYPELESS: Omit<Dialect, 'engine'> = { mappingType: null, includeTypeName: false, urlType: '_doc', bulkType: null };

/**
 * The write form for an engine. Throws for ElasticSearch before 6: several
 * types per index and other search options there; never tested against it.
 */
export function dialectFor(engine: EngineInfo): Dialect {
  const m = major(engine.version);
  if (engine.distribution === 'opensearch') {
    // OpenSearch 1.x may be set to report 7.10.2 (compatibility.override_main_response_version);
    // 2.x reports a wire compatibility of 7.10, 1.x of 6.8.
    const one = m === 1 || (m === 7 && major(engine.minimumWireVersion ?? '7') < 7);
    return { engine, ...(one ? TYPED_7 : TYPELESS) };
  }
  if (m < 6) {
    throw new Error(`search index: ElasticSearch ${engine.version} is not supported (use 6.8, 7.x, 8.x or OpenSearch)`);
  }
  return { engine, ...(m === 6 ? TYPED_6 : m === 7 ? TYPED_7 : TYPELESS) };
}

/** Detections are kept this long per isolate: an engine upgrade is noticed without a redeploy. */
const CACHE_MS = 10 * 60_000;
const cache = new Map<string, { at: number; dialect: Promise<Dialect> }>();

/**
 * The dialect of the server behind `client`, asked once per origin and
 * kept for CACHE_MS; a failed detection is not kept, so the next call asks again.
 */
export function engineDialect(client: EsClient, now = Date.now()): Promise<Dialect> {
  const hit = cache.get(client.origin);
  if (hit && now - hit.at < CACHE_MS) return hit.dialect;
  const dialect = client.request('GET', '/').then((res) => dialectFor(parseEngineInfo(res.body)));
  cache.set(client.origin, { at: now, dialect });
  dialect.catch(() => {
    if (cache.get(client.origin)?.dialect === dialect) cache.delete(client.origin);
  });
  return dialect;
}
