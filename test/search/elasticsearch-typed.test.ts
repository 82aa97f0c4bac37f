/**
 * What os-api's client (os-package-registry 0.0.21 on elasticsearch-py 5)
 * needs from the index we write: typed URLs `/<index>/package/...` find our
 * documents on an engine that still serves types (the real OpenSearch 1.3
 * node), whichever of our writers put them there. The Python client itself
 * runs in test/node/os-package-registry.test.ts.
 */
import { expect, it } from 'vitest';
import type { Config } from '../../src/config.ts';
import type { RegistryDocument } from '../../src/registry/registry.ts';
import { createEsClient } from '../../src/search/elasticsearch/client.ts';
import { engineDialect } from '../../src/search/elasticsearch/engine.ts';
import { getDocument, mirrorToIndex, removeFromIndex, target } from '../../src/search/elasticsearch/index.ts';
import { reindex, type RegistryReader } from '../../src/search/elasticsearch/reindex.ts';
import { config, newUserId } from '../helpers/app.ts';
import { describeEs, ES1_URL, ES_URL, freshIndexName } from './elasticsearch-env.ts';
import { registryDoc } from './helpers.ts';

const url1 = ES1_URL ?? 'http://127.0.0.1:9';
const url2 = ES_URL ?? 'http://127.0.0.1:9';

function esConfig(index: string, address: string): Config {
  return { ...config(), OS_ELASTICSEARCH_ADDRESS: address, OS_ES_PACKAGES_INDEX_NAME: index };
}

/** A registry held in memory: reindex reads it as it reads Postgres. */
function memoryRegistry(docs: RegistryDocument[]): RegistryReader {
  const sorted = [...docs].sort((a, b) => (a.id < b.id ? -1 : 1));
  return {
    count: async () => sorted.length,
    page: async (after, limit) => sorted.filter((d) => after === null || d.id > after).slice(0, limit),
    now: async () => new Date().toISOString(),
    changedSince: async () => [],
    ids: async () => new Set(sorted.map((d) => d.id)),
  };
}

interface Typed {
  status: number;
  body: { found?: boolean; _type?: string; _source?: RegistryDocument; count?: number; hits?: { hits: Array<{ _id: string }> } } | null;
}

/** A typed-URL request as elasticsearch-py 5 sends it. */
async function typed(base: string, method: string, path: string): Promise<Typed> {
  const res = await fetch(base + path, { method });
  const text = method === 'HEAD' ? '' : await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as Typed['body']) : null };
}

describeEs('os-api typed URLs on OpenSearch 1.3', () => {
  it('detects each engine from GET / and asks it once per origin while the detection is fresh', async () => {
    const calls: string[] = [];
    const counting = createEsClient(url1, (input, init) => {
      calls.push(`${init?.method} ${new URL(String(input)).pathname}`);
      return fetch(input, init);
    });
    // Past the cache time of any earlier detection in this isolate: this one must ask.
    const later = Date.now() + 11 * 60_000;
    const d1 = await engineDialect(counting, later);
    expect(calls).toEqual(['GET /']);
    expect(d1).toMatchObject({ mappingType: 'package', includeTypeName: true, engine: { distribution: 'opensearch' } });
    expect(d1.engine.version).toMatch(/^1\.3\./);
    // Another client for the same origin, and the same one again, share it.
    expect(await engineDialect(createEsClient(url1), later + 1000)).toBe(d1);
    expect(await engineDialect(counting, later + 2000)).toBe(d1);
    expect(calls).toEqual(['GET /']);
    const d2 = await engineDialect(createEsClient(url2), later);
    expect(d2).toMatchObject({ mappingType: null, includeTypeName: false, urlType: '_doc' });
    expect(d2.engine.version).toMatch(/^2\.19\./);
  });

  it('finds a mirrored registry write at /<index>/package/<id>, by HEAD, _count and _search', async () => {
    const index = freshIndexName('packages-typed');
    const doc = registryDoc(newUserId(), 'typed-read', { countryCode: 'MD' });
    await mirrorToIndex(esConfig(index, url1), doc);
    const got = await typed(url1, 'GET', `/${index}/package/${encodeURIComponent(doc.id)}`);
    expect(got.status).toBe(200);
    expect(got.body).toMatchObject({ found: true, _type: 'package' });
    expect(got.body?._source).toEqual(doc);
    expect((await typed(url1, 'HEAD', `/${index}/package/${encodeURIComponent(doc.id)}`)).status).toBe(200);
    expect((await typed(url1, 'GET', `/${index}/package/_count?q=*`)).body?.count).toBe(1);
    const found = await typed(url1, 'GET', `/${index}/package/_search?q=*`);
    expect(found.body?.hits?.hits.map((h) => h._id)).toEqual([doc.id]);
    // The typeless read of our own tools sees the same document.
    expect(await getDocument(target(url1, index), doc.id)).toEqual(doc);
    await removeFromIndex(esConfig(index, url1), doc.id);
    expect((await typed(url1, 'HEAD', `/${index}/package/${encodeURIComponent(doc.id)}`)).status).toBe(404);
  });

  it('creates the index with the mapping under the type package', async () => {
    const index = freshIndexName('packages-typed');
    await mirrorToIndex(esConfig(index, url1), registryDoc(newUserId(), 'mapping'));
    const res = await typed(url1, 'GET', `/${index}/_mapping?include_type_name=true`);
    const mappings = (res.body as unknown as Record<string, { mappings: Record<string, { properties: Record<string, unknown> }> }>)[
      `${index}-initial`
    ]!.mappings;
    expect(Object.keys(mappings)).toEqual(['package']);
    expect(mappings.package!.properties.id).toEqual({ type: 'keyword' });
  });

  it('writes reindexed documents (bulk) where the typed URLs find them', async () => {
    const index = freshIndexName('packages-typed');
    const owner = newUserId();
    const docs = [registryDoc(owner, 'bulk-a'), registryDoc(owner, 'bulk-b', { private: true })];
    const report = await reindex(target(url1, index), memoryRegistry(docs), { batchSize: 1 });
    expect(report.copied).toBe(2);
    for (const d of docs) {
      const got = await typed(url1, 'GET', `/${index}/package/${encodeURIComponent(d.id)}`);
      expect(got.body?._source).toEqual(d);
    }
    expect((await typed(url1, 'GET', `/${index}/package/_count?q=*`)).body?.count).toBe(2);
  });

  it('cannot serve them on OpenSearch 2.19 (why os-api needs the 1.3 node)', async () => {
    const index = freshIndexName('packages-typed');
    const doc = registryDoc(newUserId(), 'typeless');
    await mirrorToIndex(esConfig(index, url2), doc);
    expect(await getDocument(target(url2, index), doc.id)).toEqual(doc);
    const got = await typed(url2, 'GET', `/${index}/package/${encodeURIComponent(doc.id)}`);
    expect(got.body?.found).not.toBe(true);
  });
});
