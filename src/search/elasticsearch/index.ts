/**
 * Managing the `packages` index: creating it on demand (as a physical index
 * behind the configured name, which is then an alias), writing and deleting
 * registry documents, bulk loading and atomic alias swaps for reindexing.
 *
 * The configured name (OS_ES_PACKAGES_INDEX_NAME, default `packages`) is what
 * os-api and the other services read; it may be a concrete index (older
 * deployments) or an alias over one physical index `<name>-<timestamp>`.
 */
import type { Config } from '../../config.ts';
import type { RegistryDocument } from '../../registry/registry.ts';
import { createEsClient, EsError, type EsClient } from './client.ts';
import { createIndexBody } from './mapping.ts';

/** Where the index lives. */
export interface EsTarget {
  client: EsClient;
  /** The name clients use (an alias or a concrete index). */
  index: string;
}

/** The target from the configuration; throws when no index is configured. */
export function targetFromConfig(config: Pick<Config, 'OS_ELASTICSEARCH_ADDRESS' | 'OS_ES_PACKAGES_INDEX_NAME'>): EsTarget {
  if (!config.OS_ELASTICSEARCH_ADDRESS) throw new Error('OS_ELASTICSEARCH_ADDRESS is not set');
  return { client: createEsClient(config.OS_ELASTICSEARCH_ADDRESS), index: config.OS_ES_PACKAGES_INDEX_NAME };
}

/** A target for a URL and index name (tests, tools). */
export function target(url: string, index: string): EsTarget {
  return { client: createEsClient(url), index };
}

const enc = encodeURIComponent;

/** What the configured name currently is. */
export type NameState =
  | { kind: 'missing' }
  | { kind: 'index' }
  | { kind: 'alias'; indices: string[] };

/** Finds out whether `name` is an alias (and over which indices), a concrete index, or missing. */
export async function nameState(client: EsClient, name: string): Promise<NameState> {
  const alias = await client.request<Record<string, unknown>>('GET', `/_alias/${enc(name)}`, { accept: [404] });
  if (alias.status === 200 && alias.body && Object.keys(alias.body).length > 0) {
    return { kind: 'alias', indices: Object.keys(alias.body).sort() };
  }
  const head = await client.request('HEAD', `/${enc(name)}`, { accept: [404] });
  return head.status === 200 ? { kind: 'index' } : { kind: 'missing' };
}

/** `<name>-<UTC timestamp to the millisecond>`: sortable, unique per reindex. */
export function physicalIndexName(name: string, now = new Date()): string {
  return `${name}-${now.toISOString().replace(/[-:.TZ]/g, '')}`;
}

/** Creates a physical index with the packages mapping, optionally with aliases. */
export async function createPhysicalIndex(client: EsClient, index: string, aliases: string[] = []): Promise<void> {
  await client.request('PUT', `/${enc(index)}`, { body: createIndexBody(aliases) });
}

/**
 * Makes sure the configured name resolves (index or alias). When missing, it
 * creates `<name>-initial` with the mapping and the name as its alias, so a
 * later reindex can swap without downtime. Two racing callers are fine: the
 * loser sees `resource_already_exists_exception` and finds the alias there.
 * Writing without this would let the server auto-create an unmapped index.
 */
export async function ensureIndex(t: EsTarget): Promise<void> {
  const head = await t.client.request('HEAD', `/${enc(t.index)}`, { accept: [404] });
  if (head.status === 200) return;
  const initial = `${t.index}-initial`;
  try {
    await createPhysicalIndex(t.client, initial, [t.index]);
  } catch (err) {
    if (!(err instanceof EsError && err.type === 'resource_already_exists_exception')) throw err;
    const again = await t.client.request('HEAD', `/${enc(t.index)}`, { accept: [404] });
    if (again.status !== 200) {
      throw new Error(
        `index ${initial} exists but ${t.index} does not resolve to it (alias removed?): run the reindex tool`,
      );
    }
  }
}

/** Indexes (overwrites) a registry document under `_id` = its id, visible to search at once. */
export async function putDocument(t: EsTarget, doc: RegistryDocument): Promise<void> {
  await t.client.request('PUT', `/${enc(t.index)}/_doc/${enc(doc.id)}?refresh=true`, { body: doc });
}

/** Deletes a document; returns whether it was there (a missing index counts as not there). */
export async function deleteDocument(t: EsTarget, id: string): Promise<boolean> {
  const res = await t.client.request<{ result?: string }>('DELETE', `/${enc(t.index)}/_doc/${enc(id)}?refresh=true`, {
    accept: [404],
  });
  return res.status === 200 && res.body?.result === 'deleted';
}

/** The stored document, or null. */
export async function getDocument(t: EsTarget, id: string): Promise<RegistryDocument | null> {
  const res = await t.client.request<{ found?: boolean; _source?: RegistryDocument }>(
    'GET',
    `/${enc(t.index)}/_doc/${enc(id)}`,
    { accept: [404] },
  );
  return res.status === 200 && res.body?.found && res.body._source ? res.body._source : null;
}

/** Mirrors a registry write to the configured index (creating it on demand). Throws on failure. */
export async function mirrorToIndex(config: Config, doc: RegistryDocument): Promise<void> {
  const t = targetFromConfig(config);
  await ensureIndex(t);
  await putDocument(t, doc);
}

/** Mirrors a registry deletion to the configured index. Throws on failure; an absent document is fine. */
export async function removeFromIndex(config: Config, id: string): Promise<void> {
  await deleteDocument(targetFromConfig(config), id);
}

interface BulkResponse {
  errors: boolean;
  items: Array<Record<string, { _id?: string; status: number; error?: { type?: string; reason?: string } }>>;
}

/** A `_bulk` call (a reindex's batch) may take longer than one document's write. */
const BULK_TIMEOUT_MS = 120_000;

/** Indexes documents into `index` (a physical index during reindex) in one `_bulk` call. Throws listing failures. */
export async function bulkIndex(client: EsClient, index: string, docs: RegistryDocument[]): Promise<void> {
  if (docs.length === 0) return;
  const lines: unknown[] = [];
  for (const doc of docs) lines.push({ index: { _index: index, _id: doc.id } }, doc);
  const res = await client.request<BulkResponse>('POST', '/_bulk', { ndjson: lines, timeoutMs: BULK_TIMEOUT_MS });
  if (res.body.errors) {
    const failed = res.body.items
      .map((item) => Object.values(item)[0])
      .filter((r) => r && r.status >= 300)
      .slice(0, 5)
      .map((r) => `${r!._id}: ${r!.error?.type ?? r!.status} ${(r!.error?.reason ?? '').slice(0, 200)}`);
    throw new Error(`bulk indexing into ${index} failed for: ${failed.join('; ')}`);
  }
}

/** Deletes documents by id from `index` in one `_bulk` call (absent ones are fine). */
export async function bulkDelete(client: EsClient, index: string, ids: string[]): Promise<void> {
  if (ids.length === 0) return;
  const res = await client.request<BulkResponse>('POST', '/_bulk', {
    ndjson: ids.map((id) => ({ delete: { _index: index, _id: id } })),
    timeoutMs: BULK_TIMEOUT_MS,
  });
  if (res.body.errors) {
    const bad = res.body.items.map((item) => Object.values(item)[0]).filter((r) => r && r.status >= 300 && r.status !== 404);
    if (bad.length) throw new Error(`bulk delete from ${index} failed for ${bad.length} documents`);
  }
}

/** Makes everything written to `index` visible to search. */
export async function refresh(client: EsClient, index: string): Promise<void> {
  await client.request('POST', `/${enc(index)}/_refresh`);
}

/** Every document id in `index`, in id order (paged with search_after). */
export async function listIds(client: EsClient, index: string): Promise<string[]> {
  const ids: string[] = [];
  let after: unknown[] | undefined;
  for (;;) {
    const res = await client.request<{ hits: { hits: Array<{ _id: string; sort: unknown[] }> } }>(
      'POST',
      `/${enc(index)}/_search`,
      { body: { size: 5000, _source: false, sort: [{ id: 'asc' }], ...(after ? { search_after: after } : {}) } },
    );
    const hits = res.body.hits.hits;
    for (const h of hits) ids.push(h._id);
    if (hits.length < 5000) return ids;
    after = hits[hits.length - 1]!.sort;
  }
}

/** One action of the atomic `_aliases` call. */
export type AliasAction =
  | { add: { index: string; alias: string } }
  | { remove: { index: string; alias: string } }
  | { remove_index: { index: string } };

/** Applies alias actions in one atomic `_aliases` call: readers see the old state or the new, never neither. */
export async function updateAliases(client: EsClient, actions: AliasAction[]): Promise<void> {
  await client.request('POST', '/_aliases', { body: { actions } });
}

/** Removes `alias` from `index`; returns false when the index did not have it. */
export async function removeAlias(client: EsClient, index: string, alias: string): Promise<boolean> {
  const res = await client.request('DELETE', `/${enc(index)}/_alias/${enc(alias)}`, { accept: [404] });
  return res.status === 200;
}

/** Deletes physical indices (missing ones are ignored). */
export async function deleteIndices(client: EsClient, indices: string[]): Promise<void> {
  for (const index of indices) await client.request('DELETE', `/${enc(index)}`, { accept: [404] });
}

/** Names of the physical indices `<name>-…` that exist, sorted. */
export async function listPhysicalIndices(client: EsClient, name: string): Promise<string[]> {
  const res = await client.request<Array<{ index: string }>>('GET', `/_cat/indices/${enc(name)}-*?format=json&h=index`, {
    accept: [404],
  });
  return res.status === 200 && Array.isArray(res.body) ? res.body.map((r) => r.index).sort() : [];
}
