import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { contextKey, parseCacheAddress } from '../../src/cache/os-api-cache.ts';
import { redisCommands } from '../../src/cache/resp.ts';
import { call, newUserId, permissionToken } from '../helpers/app.ts';
import { registryDoc, registryRow, seed } from '../search/helpers.ts';

const cacheAddress = env.OS_API_CACHE;
if (!cacheAddress) console.warn('os-api cache tests SKIPPED: no Redis in the test setup (OS_API_CACHE unset)');

/** Puts a cached os-api response for package `id`, as os-api-cache does. */
async function cacheEntry(id: string): Promise<() => Promise<number>> {
  const address = parseCacheAddress(cacheAddress!);
  const ctx = contextKey(id);
  const key = `os-api-cache:${id}:model`;
  await redisCommands(address, [['SELECT', address.db], ['SADD', ctx, key], ['SET', key, '{"old":true}']]);
  return async () => {
    const replies = await redisCommands(address, [['SELECT', address.db], ['EXISTS', ctx, key]]);
    return Number(replies[1]);
  };
}

describe.skipIf(!cacheAddress)("os-api's cache after package management", () => {
  it('update_params clears the cached responses of the package', async () => {
    const owner = newUserId();
    const doc = registryDoc(owner, 'cached-params');
    await seed(doc);
    const remaining = await cacheEntry(doc.id);
    expect(await remaining()).toBe(2);
    const res = await call(`/package/update_params?jwt=${await permissionToken(owner)}&id=${doc.id}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ params: '{"measure":"value.sum"}' }),
    });
    expect(await res.json()).toEqual({ success: true });
    expect(await remaining()).toBe(0);
  });

  it('publish and delete clear it too', async () => {
    const owner = newUserId();
    const doc = registryDoc(owner, 'cached-publish', { private: true });
    await seed(doc);
    const jwt = await permissionToken(owner);
    const afterPublish = await cacheEntry(doc.id);
    await call(`/package/publish?jwt=${jwt}&id=${doc.id}&publish=true`, { method: 'POST' });
    expect(await afterPublish()).toBe(0);
    const afterDelete = await cacheEntry(doc.id);
    await call(`/package/delete?jwt=${jwt}&id=${doc.id}`, { method: 'POST' });
    expect(await afterDelete()).toBe(0);
  });

  it("keeps another package's cache and the cache of a refused change", async () => {
    const owner = newUserId();
    const doc = registryDoc(owner, 'cached-refused');
    await seed(doc);
    const remaining = await cacheEntry(doc.id);
    const intruder = await permissionToken(newUserId());
    await call(`/package/update_params?jwt=${intruder}&id=${doc.id}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ params: '{}' }),
    });
    expect(await remaining()).toBe(2);
    expect(await registryRow(doc.id)).toEqual(doc);
  });
});
