import { expect, it } from 'vitest';
import type { Config } from '../../src/config.ts';
import type { RegistryDocument } from '../../src/registry/registry.ts';
import { createElasticsearchBackend } from '../../src/search/elasticsearch/backend.ts';
import { createEsClient, EsError } from '../../src/search/elasticsearch/client.ts';
import {
  bulkIndex,
  ensureIndex,
  getDocument,
  mirrorToIndex,
  nameState,
  refresh,
  removeFromIndex,
  target,
} from '../../src/search/elasticsearch/index.ts';
import { config, newUserId } from '../helpers/app.ts';
import { runSearchContract } from './contract.ts';
import { describeEs, ES_ENGINES, freshIndexName } from './elasticsearch-env.ts';

/** A mapping as the server answers it (nested properties, loosely typed for assertions). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- deep JSON assertions
type Mapping = Record<string, any>;

function doc(owner: string, name: string, extra: Record<string, unknown>, loaded = true): RegistryDocument {
  return {
    id: `${owner}:${name}`,
    model: { fact_table: `fdp__${name}`, measures: { amount: { column: 'amount' } } },
    package: { name, owner, title: `Title ${name}`, ...extra },
    origin_url: `http://datastore.test/${owner}/${name}/datapackage.json`,
    dataset: name,
    author: 'Someone',
    loading_status: loaded ? 'done' : 'loading-data',
    loaded,
    last_update: 1_700_000_000.5,
  };
}

/** A Config pointing the mirror at a node and a fresh index. */
function esConfig(index: string, address: string): Config {
  return { ...config(), OS_ELASTICSEARCH_ADDRESS: address, OS_ES_PACKAGES_INDEX_NAME: index };
}

for (const { name: engine, url } of ES_ENGINES) {
  describeEs(`ElasticSearch backend (real ${engine})`, () => {
    const index = freshIndexName();
    const t = target(url, index);
    runSearchContract(
      `elasticsearch on ${engine}`,
      () => createElasticsearchBackend({ url, index }),
      async (docs) => {
        await ensureIndex(t);
        await bulkIndex(t.client, index, docs);
        await refresh(t.client, index);
      },
    );
  });

  describeEs(`the packages index on ${engine}`, () => {
    it('is created on demand as <name>-initial behind an alias with the registry mapping', async () => {
      const index = freshIndexName();
      const t = target(url, index);
      expect(await nameState(t.client, index)).toEqual({ kind: 'missing' });
      await ensureIndex(t);
      await ensureIndex(t); // idempotent
      expect(await nameState(t.client, index)).toEqual({ kind: 'alias', indices: [`${index}-initial`] });
      const res = await t.client.request<Record<string, { mappings: { properties: Mapping } }>>('GET', `/${index}/_mapping`);
      const props = res.body[`${index}-initial`]!.mappings.properties;
      for (const f of ['id', 'origin_url', 'dataset']) expect(props[f]).toEqual({ type: 'keyword' });
      for (const f of ['owner', 'author', 'cityCode']) expect(props.package.properties[f]).toEqual({ type: 'keyword' });
      expect(props.package.properties.countryCode.type).toBe('text');
      expect(props.package.properties.countryCode.fields.keyword.type).toBe('keyword');
      expect(props.model).toEqual({ type: 'object', enabled: false });
      expect(props.package.properties.model).toEqual({ type: 'object', enabled: false });
      expect(props.package.properties.resources.properties.schema).toEqual({ type: 'object', enabled: false });
    });

    it('mirrors a registry write and a deletion (the document round-trips unchanged)', async () => {
      const index = freshIndexName();
      const cfg = esConfig(index, url);
      const d = doc(newUserId(), 'mirror-me', { private: false, countryCode: 'MD', resources: [{ path: 'a.csv', schema: { fields: [{ name: 'x', type: 'number' }] } }] });
      await mirrorToIndex(cfg, d);
      expect(await getDocument(target(url, index), d.id)).toEqual(d);
      const found = await createElasticsearchBackend(cfg).search({ filters: [{ path: 'id', value: d.id }], size: 10, from: 0, userid: null });
      expect(found.hits.map((h) => h.id)).toEqual([d.id]);
      await mirrorToIndex(cfg, { ...d, loaded: false });
      expect((await getDocument(target(url, index), d.id))?.loaded).toBe(false);
      await removeFromIndex(cfg, d.id);
      expect(await getDocument(target(url, index), d.id)).toBeNull();
      await removeFromIndex(cfg, d.id); // already gone: not an error
    });

    it('accepts ids with characters that need escaping in a URL path', async () => {
      const index = freshIndexName();
      const cfg = esConfig(index, url);
      const d = doc(newUserId(), 'a/b?c#d e', {});
      await mirrorToIndex(cfg, d);
      expect(await getDocument(target(url, index), d.id)).toEqual(d);
      expect(await getDocument(target(url, index), d.id.replace('/', ''))).toBeNull();
    });

    it('keeps a document with a malformed count_of_rows indexable', async () => {
      const index = freshIndexName();
      const cfg = esConfig(index, url);
      const d = doc(newUserId(), 'odd', { count_of_rows: 'many' });
      await mirrorToIndex(cfg, d);
      expect(await getDocument(target(url, index), d.id)).toEqual(d);
    });

    it('throws when the index cannot be reached, so the registry keeps the write queued', async () => {
      const cfg = esConfig(freshIndexName(), 'http://127.0.0.1:9');
      await expect(mirrorToIndex(cfg, doc(newUserId(), 'x', {}))).rejects.toThrow(/unreachable/);
      await expect(removeFromIndex(cfg, 'a:b')).rejects.toBeInstanceOf(EsError);
    });

    it('never puts credentials of the address into error messages', async () => {
      const client = createEsClient('http://admin:s3cret@127.0.0.1:9');
      const err = await client.request('GET', '/').catch((e: Error) => e);
      expect(String((err as Error).message)).not.toContain('s3cret');
      expect(client.origin).toBe('http://127.0.0.1:9');
    });

    it('answers an empty catalogue for a missing index (search and stats)', async () => {
      const backend = createElasticsearchBackend({ url, index: freshIndexName() });
      expect(await backend.search({ filters: [], size: 100, from: 0, userid: null })).toEqual({ hits: [], total: 0 });
      expect(await backend.stats()).toEqual({ num_packages: 0, num_records: 0, num_countries: 0 });
    });

    it('counts stats over public, loaded packages only: rows summed, distinct countries across lists', async () => {
      const index = freshIndexName();
      const t = target(url, index);
      const owner = newUserId();
      await ensureIndex(t);
      await bulkIndex(t.client, index, [
        doc(owner, 'a', { private: false, count_of_rows: 7, countryCode: 'QA' }),
        doc(owner, 'b', { count_of_rows: 5, countryCode: ['QA', 'QB'] }),
        doc(owner, 'c', { private: true, count_of_rows: 1000, countryCode: 'QP' }),
        doc(owner, 'd', { private: false, count_of_rows: 2000, countryCode: 'QU' }, false),
        doc(owner, 'e', { private: false, count_of_rows: 'many' }),
      ]);
      await refresh(t.client, index);
      expect(await createElasticsearchBackend({ url, index }).stats()).toEqual({
        num_packages: 3,
        num_records: 12,
        num_countries: 2,
      });
    });

    it('sorts by title case-insensitively, packages without a title last', async () => {
      const index = freshIndexName();
      const t = target(url, index);
      const owner = newUserId();
      await ensureIndex(t);
      await bulkIndex(t.client, index, [
        doc(owner, 'n1', { title: 'banana budget' }),
        doc(owner, 'n2', { title: 'Apple budget' }),
        doc(owner, 'n3', { title: undefined }),
        doc(owner, 'n4', { title: 'cherry budget' }),
      ]);
      await refresh(t.client, index);
      const backend = createElasticsearchBackend({ url, index });
      const asc = await backend.search({ filters: [], size: 10, from: 0, userid: null, sort: { field: 'title', order: 'asc' } });
      expect(asc.hits.map((h) => h.package.name)).toEqual(['n2', 'n1', 'n4', 'n3']);
    });
  });
}
