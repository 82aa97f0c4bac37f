import { beforeAll, describe, expect, it } from 'vitest';
import { call, newUserId, permissionToken, userToken } from '../helpers/app.ts';
import { registryDoc, seed } from './helpers.ts';

type Hit = { id: string; model: unknown; package: { owner: string; private?: boolean }; origin_url: string; loaded: boolean; last_update: number };

const owner = newUserId();
const other = newUserId();
const word = `kw${newUserId().slice(0, 10)}`;
const pub = registryDoc(owner, 'public', { title: `${word} public` });
const priv = registryDoc(owner, 'private', { title: `${word} private`, private: true });
const unloaded = registryDoc(owner, 'unloaded', { title: `${word} unloaded` }, { loaded: false });
const others = registryDoc(other, 'theirs', { title: `${word} theirs`, private: true });

const q = (text: string) => encodeURIComponent(JSON.stringify(text));

async function searchIds(query: string): Promise<string[]> {
  const res = await call(`/search/package?${query}`);
  expect(res.status).toBe(200);
  const body = (await res.json()) as Hit[];
  return body.map((h) => h.id).sort();
}

beforeAll(async () => {
  await seed(pub, priv, unloaded, others);
});

describe('GET /search/package', () => {
  it('answers a bare JSON array of {id, model, package, origin_url, loaded, last_update} with X-Total-Count', async () => {
    const res = await call(`/search/package?q=${q(word)}`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('application/json');
    expect(res.headers.get('x-total-count')).toBe('1');
    const body = (await res.json()) as Hit[];
    expect(body).toEqual([
      { id: pub.id, model: pub.model, package: pub.package, origin_url: pub.origin_url, loaded: true, last_update: pub.last_update },
    ]);
    expect(body[0]).not.toHaveProperty('dataset');
    expect(body[0]).not.toHaveProperty('loading_status');
  });

  it('shows the owner, with a user token, their private and unloaded packages', async () => {
    const jwt = await userToken(owner);
    expect(await searchIds(`q=${q(word)}&jwt=${jwt}`)).toEqual([priv.id, pub.id, unloaded.id].sort());
  });

  it('treats a permission token as anonymous (never as a user token)', async () => {
    const jwt = await permissionToken(owner);
    expect(await searchIds(`q=${q(word)}&jwt=${jwt}`)).toEqual([pub.id]);
  });

  it('treats an invalid or tampered token as anonymous', async () => {
    const jwt = await userToken(owner);
    const tampered = jwt.slice(0, -4) + (jwt.endsWith('AAAA') ? 'BBBB' : 'AAAA');
    expect(await searchIds(`q=${q(word)}&jwt=${tampered}`)).toEqual([pub.id]);
    expect(await searchIds(`q=${q(word)}&jwt=garbage`)).toEqual([pub.id]);
  });

  it('filters with JSON values, as os-admin asks for "my datasets"', async () => {
    const jwt = await userToken(owner);
    expect(await searchIds(`size=10000&jwt=${jwt}&package.owner=${q(owner)}`)).toEqual([priv.id, pub.id, unloaded.id].sort());
    expect(await searchIds(`id=${q(priv.id)}`)).toEqual([]);
    expect(await searchIds(`id=${q(pub.id)}`)).toEqual([pub.id]);
  });

  it('uses only the first value of a repeated filter', async () => {
    expect(await searchIds(`package.owner=${q(owner)}&package.owner=${q(other)}`)).toEqual([pub.id]);
  });

  it('pages with from and size and sorts on request, X-Total-Count giving the whole count', async () => {
    const jwt = await userToken(owner);
    const res = await call(`/search/package?package.owner=${q(owner)}&jwt=${jwt}&size=2&from=2&sort=id:asc`);
    expect(res.headers.get('x-total-count')).toBe('3');
    const body = (await res.json()) as Hit[];
    expect(body.map((h) => h.id)).toEqual([pub.id, priv.id, unloaded.id].sort().slice(2));
  });

  it('answers JSONP with callback', async () => {
    const res = await call(`/search/package?id=${q(pub.id)}&callback=cb`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('application/javascript');
    const text = await res.text();
    expect(text).toMatch(/cb\(\[\{.*\}\]\);$/s);
    expect(text).toContain(pub.id);
  });

  it('is reachable with a leading double slash', async () => {
    const res = await call(`//search/package?id=${q(pub.id)}`);
    expect(res.status).toBe(200);
    expect(((await res.json()) as Hit[]).map((h) => h.id)).toEqual([pub.id]);
  });

  it.each([
    ['q=budget', /invalid JSON in parameter q/],
    ['package.owner=abc', /invalid JSON in parameter package.owner/],
    ['id={broken', /invalid JSON in parameter id/],
    ['size=10001', /size must be at most 10000/],
    ['size=ten', /size must be a whole number/],
    ['from=10001', /from must be at most 10000/],
    ['sort=popularity', /sort/],
  ])('refuses %s with 400 and a JSON error', async (query, message) => {
    const res = await call(`/search/package?${query}`);
    expect(res.status).toBe(400);
    const body = (await res.json()) as { error: string };
    expect(body.error).toMatch(message);
  });

  it('accepts size=10000', async () => {
    const res = await call(`/search/package?size=10000&id=${q(pub.id)}`);
    expect(res.status).toBe(200);
  });

  it.each([
    ['q with an escaped NUL', `q=${encodeURIComponent('"a\\u0000b"')}`],
    ['q with a raw NUL', `q=${encodeURIComponent('"a')}%00${encodeURIComponent('b"')}`],
    ['q with a lone surrogate', `q=${encodeURIComponent('"\\ud800"')}`],
    ['a filter with a NUL', `package.title=${encodeURIComponent('"\\u0000"')}`],
    ['a filter list with a lone surrogate', `package.owner=${encodeURIComponent('["x","\\udc00"]')}`],
  ])('refuses %s with 400 (not a backend error answered as [])', async (_name, qs) => {
    const res = await call(`/search/package?${qs}`);
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ error: expect.stringMatching(/NUL or unpaired surrogates|invalid JSON/) });
  });

  it('reads an empty q= as no text', async () => {
    const res = await call('/search/package?q=&size=1');
    expect(res.status).toBe(200);
  });

  it('refuses any kind but package with 400', async () => {
    const res = await call('/search/user?q=%22x%22');
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: string }).error).toMatch(/unknown search kind/);
  });
});

describe('GET /package/stats', () => {
  it('answers integer counts {num_packages, num_records, num_countries}', async () => {
    const res = await call('/package/stats');
    expect(res.status).toBe(200);
    const body = (await res.json()) as Record<string, unknown>;
    expect(Object.keys(body).sort()).toEqual(['num_countries', 'num_packages', 'num_records']);
    for (const v of Object.values(body)) expect(Number.isInteger(v)).toBe(true);
    expect(body.num_packages as number).toBeGreaterThanOrEqual(1);
  });

  it('answers JSONP with callback', async () => {
    const res = await call('/package/stats?callback=stats_cb');
    expect(await res.text()).toMatch(/^\/\*\*\/stats_cb\(\{"num_packages":\d+,"num_records":\d+,"num_countries":\d+\}\);$/);
  });
});

describe('OpenAPI document', () => {
  it('documents search, stats and the package management routes with their parameters', async () => {
    const doc = (await (await call('/openapi.json')).json()) as {
      paths: Record<string, Record<string, { parameters?: { name: string }[] }>>;
    };
    const names = (path: string, method: string) => (doc.paths[path]?.[method]?.parameters ?? []).map((p) => p.name);
    expect(names('/search/{kind}', 'get')).toEqual(expect.arrayContaining(['kind', 'q', 'size', 'from', 'sort', 'jwt', 'callback']));
    expect(names('/package/publish', 'post')).toEqual(expect.arrayContaining(['jwt', 'id', 'publish']));
    expect(names('/package/run-hooks', 'post')).toEqual(expect.arrayContaining(['jwt', 'id', 'pipeline']));
    for (const path of ['/package/delete', '/package/update_params']) expect(names(path, 'post')).toEqual(expect.arrayContaining(['jwt', 'id']));
    expect(doc.paths['/package/stats']?.get).toBeDefined();
  });
});
