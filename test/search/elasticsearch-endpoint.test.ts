/**
 * The Worker itself configured with OS_ELASTICSEARCH_ADDRESS: registry
 * writes through the package endpoints reach the index, and /search/package
 * and /package/stats answer from it.
 */
import { env } from 'cloudflare:workers';
import { createExecutionContext, waitOnExecutionContext } from 'cloudflare:test';
import { beforeAll, expect, it } from 'vitest';
import worker from '../../src/index.ts';
import { syncAfterWrite } from '../../src/registry/index-sync.ts';
import { withDb } from '../../src/db/client.ts';
import { getConfig } from '../../src/config.ts';
import { getDocument, target } from '../../src/search/elasticsearch/index.ts';
import { BASE, newUserId, permissionToken, userToken } from '../helpers/app.ts';
import { describeEs, ES_URL, freshIndexName } from './elasticsearch-env.ts';
import { registryDoc, seed } from './helpers.ts';

const index = freshIndexName('packages-endpoint');
// The same bindings, plus the index: a distinct object, so a distinct Config.
const esEnv = { ...env, OS_ELASTICSEARCH_ADDRESS: ES_URL ?? 'http://127.0.0.1:9', OS_ES_PACKAGES_INDEX_NAME: index };

async function callEs(path: string, init?: RequestInit): Promise<Response> {
  const ctx = createExecutionContext();
  const request = new Request(BASE + path, init) as Parameters<typeof worker.fetch>[0];
  const res = await worker.fetch(request, esEnv as typeof env, ctx);
  await waitOnExecutionContext(ctx);
  return res;
}

const q = (text: string) => encodeURIComponent(JSON.stringify(text));
type Hit = { id: string; package: { private?: boolean } };

describeEs('the Worker with ElasticSearch configured', () => {
  const owner = newUserId();
  const word = `es${newUserId().slice(0, 10)}`;
  const pub = registryDoc(owner, 'public', { title: `${word} public`, countryCode: 'MD', count_of_rows: 11 });
  const priv = registryDoc(owner, 'private', { title: `${word} private`, private: true });
  const unloaded = registryDoc(owner, 'unloaded', { title: `${word} unloaded` }, { loaded: false });

  beforeAll(async () => {
    await seed(pub, priv, unloaded);
    const config = getConfig(esEnv);
    await withDb(config, async (db) => {
      for (const d of [pub, priv, unloaded]) expect((await syncAfterWrite(config, db, d.id)).failed).toBe(0);
    });
  });

  it('searches the index: anonymous callers see public loaded packages, with X-Total-Count', async () => {
    const res = await callEs(`/search/package?q=${q(word)}`);
    expect(res.status).toBe(200);
    expect(res.headers.get('x-total-count')).toBe('1');
    expect(((await res.json()) as Hit[]).map((h) => h.id)).toEqual([pub.id]);
  });

  it('searches the index: the owner sees their private and unloaded packages too', async () => {
    const res = await callEs(`/search/package?q=${q(word)}&jwt=${await userToken(owner)}&sort=id`);
    expect(((await res.json()) as Hit[]).map((h) => h.id)).toEqual([pub.id, priv.id, unloaded.id].sort());
  });

  it('answers JSONP from the index too', async () => {
    const res = await callEs(`/search/package?q=${q(word)}&callback=cb`);
    const text = await res.text();
    expect(text).toMatch(/^\/\*\*\/cb\(\[/);
    expect(text).toContain(pub.id);
  });

  it('publishing through the endpoint updates the index document at once', async () => {
    const jwt = await permissionToken(owner);
    const res = await callEs('/package/publish', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ jwt, id: priv.id, publish: 'true' }),
    });
    expect(await res.json()).toEqual({ success: true, published: true });
    expect((await getDocument(target(ES_URL!, index), priv.id))?.package.private).toBe(false);
    const found = await callEs(`/search/package?q=${q(word)}&sort=id`);
    expect(((await found.json()) as Hit[]).map((h) => h.id)).toEqual([pub.id, priv.id].sort());
  });

  it('deleting through the endpoint removes the index document', async () => {
    const jwt = await permissionToken(owner);
    const res = await callEs('/package/delete', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ jwt, id: unloaded.id }),
    });
    expect(await res.json()).toEqual({ success: true });
    expect(await getDocument(target(ES_URL!, index), unloaded.id)).toBeNull();
  });

  it('answers /package/stats from the index, counting only what anonymous callers may see', async () => {
    const res = await callEs('/package/stats');
    const stats = (await res.json()) as Record<string, number>;
    // Registry writes of other test files can be flushed into this index too
    // (the outbox is shared), so the expectation is computed from its content.
    const raw = await fetch(`${ES_URL}/${index}/_search?size=1000`);
    const docs = ((await raw.json()) as { hits: { hits: Array<{ _source: { id: string; loaded?: boolean; package: Record<string, unknown> } }> } }).hits.hits.map((h) => h._source);
    const visible = docs.filter((d) => d.package.private !== true && d.loaded !== false);
    expect(visible.map((d) => d.id)).toEqual(expect.arrayContaining([pub.id, priv.id]));
    expect(visible.map((d) => d.id)).not.toContain(unloaded.id);
    const records = visible.reduce((n, d) => n + (typeof d.package.count_of_rows === 'number' ? d.package.count_of_rows : 0), 0);
    // Such packages may carry a list of countries (each counts).
    const countries = new Set(visible.flatMap((d) => [d.package.countryCode].flat()).filter((c) => typeof c === 'string'));
    expect(stats).toEqual({ num_packages: visible.length, num_records: records, num_countries: countries.size });
  });
});
