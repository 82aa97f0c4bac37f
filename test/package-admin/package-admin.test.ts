import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { call, newUserId, permissionToken, userToken } from '../helpers/app.ts';
import { registryDoc, registryRow, seed } from '../search/helpers.ts';

function post(path: string, init: RequestInit = {}): Promise<Response> {
  return call(path, { method: 'POST', ...init });
}

async function json(res: Response): Promise<unknown> {
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toContain('application/json');
  return res.json();
}

async function fresh(pkg: Record<string, unknown> = {}) {
  const owner = newUserId();
  const doc = registryDoc(owner, `pkg-${newUserId().slice(0, 8)}`, pkg);
  await seed(doc);
  return { owner, doc, jwt: await permissionToken(owner) };
}

describe('POST /package/publish', () => {
  it.each([
    ['false', true, false],
    ['False', false, false],
    ['TRUE', true, true],
    ['true', false, true],
    ['toggle', true, true],
    ['Toggle', false, false],
  ])('publish=%s on a package with private=%s leaves it published=%s', async (publish, isPrivate, published) => {
    const { doc, jwt } = await fresh({ private: isPrivate });
    const res = await post(`/package/publish?jwt=${jwt}&id=${doc.id}&publish=${publish}`);
    expect(await json(res)).toEqual({ success: true, published });
    const row = await registryRow(doc.id);
    expect(row?.package.private).toBe(!published);
    expect(row?.last_update).toBeGreaterThan(doc.last_update);
  });

  it('reads its parameters from a form body too (request.values)', async () => {
    const { doc, jwt } = await fresh({ private: true });
    const res = await post('/package/publish', {
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ jwt, id: doc.id, publish: 'true' }).toString(),
    });
    expect(await json(res)).toEqual({ success: true, published: true });
  });

  it('makes a published package visible to anonymous search, and hides it again', async () => {
    const { doc, jwt } = await fresh({ private: true });
    const find = async () => ((await (await call(`/search/package?id=${encodeURIComponent(JSON.stringify(doc.id))}`)).json()) as unknown[]).length;
    expect(await find()).toBe(0);
    await post(`/package/publish?jwt=${jwt}&id=${doc.id}&publish=true`);
    expect(await find()).toBe(1);
    await post(`/package/publish?jwt=${jwt}&id=${doc.id}&publish=toggle`);
    expect(await find()).toBe(0);
  });

  it("refuses another user's package with the not-found answer, changing nothing", async () => {
    const { doc } = await fresh({ private: true });
    const intruder = await permissionToken(newUserId());
    const res = await post(`/package/publish?jwt=${intruder}&id=${doc.id}&publish=true`);
    expect(await json(res)).toEqual({ success: false, error: `Failed to locate package ${doc.id}` });
    expect(await registryRow(doc.id)).toEqual(doc);
  });

  it('answers success false with the original text for an unknown package', async () => {
    const owner = newUserId();
    const jwt = await permissionToken(owner);
    const res = await post(`/package/publish?jwt=${jwt}&id=${owner}:nothing-here&publish=true`);
    expect(await json(res)).toEqual({ success: false, error: `Failed to locate package ${owner}:nothing-here` });
  });

  it('answers null for a user token, a token for another service, or garbage (and changes nothing)', async () => {
    const { owner, doc } = await fresh({ private: true });
    for (const jwt of [await userToken(owner), await permissionToken(owner, 'os.other'), 'not-a-token']) {
      const res = await post(`/package/publish?jwt=${jwt}&id=${doc.id}&publish=true`);
      expect(await json(res)).toBeNull();
    }
    expect(await registryRow(doc.id)).toEqual(doc);
  });

  it('refuses a publish value other than true/false/toggle with 400', async () => {
    const { doc, jwt } = await fresh();
    for (const publish of ['yes', '', '1']) {
      const res = await post(`/package/publish?jwt=${jwt}&id=${doc.id}&publish=${publish}`);
      expect(res.status).toBe(400);
      expect(((await res.json()) as { error: string }).error).toMatch(/publish/);
    }
    expect(await registryRow(doc.id)).toEqual(doc);
  });

  it('answers 403 without jwt and 400 without id', async () => {
    const { doc, jwt } = await fresh();
    expect((await post(`/package/publish?id=${doc.id}&publish=true`)).status).toBe(403);
    expect((await post(`/package/publish?jwt=${jwt}&publish=true`)).status).toBe(400);
  });

  it('answers JSONP with callback', async () => {
    const { doc, jwt } = await fresh({ private: true });
    const res = await post(`/package/publish?jwt=${jwt}&id=${doc.id}&publish=true&callback=done`);
    expect(await res.text()).toBe('/**/done({"success":true,"published":true});');
  });
});

describe('POST /package/delete', () => {
  it('removes the registry row for its owner', async () => {
    const { doc, jwt } = await fresh();
    expect(await json(await post(`/package/delete?jwt=${jwt}&id=${doc.id}`))).toEqual({ success: true });
    expect(await registryRow(doc.id)).toBeNull();
    const found = await call(`/search/package?id=${encodeURIComponent(JSON.stringify(doc.id))}`);
    expect(await found.json()).toEqual([]);
  });

  it('answers success false for an unknown package of the caller', async () => {
    const owner = newUserId();
    const res = await post(`/package/delete?jwt=${await permissionToken(owner)}&id=${owner}:gone`);
    expect(await json(res)).toEqual({ success: false });
  });

  it("answers null for another user's package and keeps it", async () => {
    const { doc } = await fresh();
    const res = await post(`/package/delete?jwt=${await permissionToken(newUserId())}&id=${doc.id}`);
    expect(await json(res)).toBeNull();
    expect(await registryRow(doc.id)).toEqual(doc);
  });

  it('answers null for a user token and keeps the package', async () => {
    const { owner, doc } = await fresh();
    expect(await json(await post(`/package/delete?jwt=${await userToken(owner)}&id=${doc.id}`))).toBeNull();
    expect(await registryRow(doc.id)).toEqual(doc);
  });

  it('answers 403 without jwt and 400 without id', async () => {
    const { doc, jwt } = await fresh();
    expect((await post(`/package/delete?id=${doc.id}`)).status).toBe(403);
    expect((await post(`/package/delete?jwt=${jwt}`)).status).toBe(400);
    expect(await registryRow(doc.id)).toEqual(doc);
  });
});

describe('POST /package/update_params', () => {
  const body = (params: unknown) => ({
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ params }),
  });

  it('stores the body object as package.defaultParams (os-viewer, through //package/update_params)', async () => {
    const { doc, jwt } = await fresh();
    const params = JSON.stringify({ visualizations: ['Treemap'], measure: 'value.sum' });
    const res = await post(`//package/update_params?jwt=${jwt}&id=${doc.id}`, body(params));
    expect(await json(res)).toEqual({ success: true });
    const row = await registryRow(doc.id);
    expect(row?.package.defaultParams).toEqual({ params });
    expect(row?.package.title).toBe(doc.package.title);
  });

  it.each([
    ['params missing', JSON.stringify({ other: 'x' })],
    ['params not a string', JSON.stringify({ params: { a: 1 } })],
    ['not JSON', 'params=x'],
    ['a JSON array', '[]'],
  ])('refuses a body with %s with 400, changing nothing', async (_what, raw) => {
    const { doc, jwt } = await fresh();
    const res = await post(`/package/update_params?jwt=${jwt}&id=${doc.id}`, {
      headers: { 'content-type': 'application/json' },
      body: raw,
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: string }).error).toBe("No 'params' key or bad params value.");
    expect(await registryRow(doc.id)).toEqual(doc);
  });

  it('refuses a body over 64 KiB with 413', async () => {
    const { doc, jwt } = await fresh();
    const res = await post(`/package/update_params?jwt=${jwt}&id=${doc.id}`, body('x'.repeat(70 * 1024)));
    expect(res.status).toBe(413);
    expect(await registryRow(doc.id)).toEqual(doc);
  });

  it("answers null for another user's package, an unknown package, or a bad token; nothing changes", async () => {
    const { owner, doc } = await fresh();
    const intruder = await permissionToken(newUserId());
    expect(await json(await post(`/package/update_params?jwt=${intruder}&id=${doc.id}`, body('{}')))).toBeNull();
    expect(await json(await post(`/package/update_params?jwt=${await userToken(owner)}&id=${doc.id}`, body('{}')))).toBeNull();
    const mine = await permissionToken(owner);
    expect(await json(await post(`/package/update_params?jwt=${mine}&id=${owner}:unknown`, body('{}')))).toBeNull();
    expect(await registryRow(doc.id)).toEqual(doc);
  });

  it('answers 403 without jwt and 400 without id', async () => {
    const { doc, jwt } = await fresh();
    expect((await post(`/package/update_params?id=${doc.id}`, body('{}'))).status).toBe(403);
    expect((await post(`/package/update_params?jwt=${jwt}`, body('{}'))).status).toBe(400);
  });
});

interface Received {
  method: string;
  path: string;
  contentType: string;
  body: string;
}

async function receivedFor(marker: string): Promise<Received[]> {
  const res = await fetch(`${env.OS_TEST_HOOK_RECEIVER_URL}/__received`);
  const all = (await res.json()) as Received[];
  return all.filter((r) => r.body.includes(marker));
}

describe('POST /package/run-hooks', () => {
  const allowed = () => `${env.OS_TEST_HOOK_RECEIVER_URL}/pipeline/allowed`;

  it('posts the JSON-LD payload as multipart field "input" to an allowed pipeline', async () => {
    const { owner, doc, jwt } = await fresh();
    const res = await post(
      `/package/run-hooks?jwt=${jwt}&id=${doc.id}&pipeline=${encodeURIComponent(allowed())}`,
    );
    const body = (await json(res)) as { success: boolean; response: string; payload: unknown };
    const payload = {
      '@context': { '@vocab': 'http://schema.org/', url: { '@type': '@id' } },
      url: `http://datastore.test/${owner}/${doc.package.name}/datapackage.json`,
    };
    expect(body.success).toBe(true);
    expect(body.payload).toEqual(payload);
    // The remote answer is summarised, never reflected whole.
    expect(body.response.startsWith('HTTP 200: pipeline accepted the request')).toBe(true);
    expect(body.response.length).toBeLessThanOrEqual(220);

    const got = await receivedFor(owner);
    expect(got).toHaveLength(1);
    expect(got[0]!.method).toBe('POST');
    expect(got[0]!.path).toBe('/pipeline/allowed');
    expect(got[0]!.contentType).toMatch(/^multipart\/form-data; boundary=/);
    expect(got[0]!.body).toContain('name="input"; filename="package-url.jsonld"');
    expect(got[0]!.body).toContain(JSON.stringify(payload));
  });

  it.each([
    ['another path on the same server', (base: string) => `${base}/pipeline/other`],
    ['the allowed URL plus a query', (base: string) => `${base}/pipeline/allowed?x=1`],
    ['a prefix of the allowed URL', (base: string) => `${base}/pipeline/allowe`],
    ['another host', () => 'http://169.254.169.254/latest/meta-data'],
  ])('refuses %s and sends nothing', async (_what, make) => {
    const { owner, doc, jwt } = await fresh();
    const pipeline = make(env.OS_TEST_HOOK_RECEIVER_URL!);
    const res = await post(`/package/run-hooks?jwt=${jwt}&id=${doc.id}&pipeline=${encodeURIComponent(pipeline)}`);
    expect(await json(res)).toEqual({ success: false, error: 'pipeline is not an allowed pipeline URL' });
    expect(await receivedFor(owner)).toEqual([]);
  });

  it('does not follow a redirect of an allowed pipeline', async () => {
    const { owner, doc, jwt } = await fresh();
    const pipeline = `${env.OS_TEST_HOOK_RECEIVER_URL}/pipeline/redirect`;
    const res = await post(`/package/run-hooks?jwt=${jwt}&id=${doc.id}&pipeline=${encodeURIComponent(pipeline)}`);
    const body = (await json(res)) as { success: boolean; response: string };
    expect(body.success).toBe(false);
    expect(body.response).toBe('HTTP 307');
    expect((await receivedFor(owner)).map((r) => r.path)).toEqual(['/pipeline/redirect']);
  });

  it("refuses another user's package and sends nothing", async () => {
    const { owner, doc } = await fresh();
    const intruder = await permissionToken(newUserId());
    const res = await post(`/package/run-hooks?jwt=${intruder}&id=${doc.id}&pipeline=${encodeURIComponent(allowed())}`);
    expect(await json(res)).toEqual({ success: false, error: `Failed to locate package ${doc.id}` });
    expect(await receivedFor(owner)).toEqual([]);
  });

  it('answers null for a bad token and sends nothing', async () => {
    const { owner, doc } = await fresh();
    const res = await post(
      `/package/run-hooks?jwt=${await userToken(owner)}&id=${doc.id}&pipeline=${encodeURIComponent(allowed())}`,
    );
    expect(await json(res)).toBeNull();
    expect(await receivedFor(owner)).toEqual([]);
  });

  it('answers 403 without jwt, 400 without id or pipeline', async () => {
    const { doc, jwt } = await fresh();
    const p = encodeURIComponent(allowed());
    expect((await post(`/package/run-hooks?id=${doc.id}&pipeline=${p}`)).status).toBe(403);
    expect((await post(`/package/run-hooks?jwt=${jwt}&pipeline=${p}`)).status).toBe(400);
    expect((await post(`/package/run-hooks?jwt=${jwt}&id=${doc.id}`)).status).toBe(400);
  });
});

describe('publish, delete, update_params and run-hooks need datapackage-upload true, besides ownership', () => {
  const allowed = () => `${env.OS_TEST_HOOK_RECEIVER_URL}/pipeline/allowed`;
  const cases: Array<[string, Record<string, unknown>]> = [
    ['a "false" string', { 'datapackage-upload': 'false' }],
    ['false', { 'datapackage-upload': false }],
    ['no such permission', {}],
  ];

  it.each(cases)('the owner with %s gets null from all four and nothing changes or is sent', async (_name, permissions) => {
    const { owner, doc } = await fresh({ private: true });
    const jwt = await permissionToken(owner, 'os.datastore', permissions);
    const answers = [
      await post(`/package/publish?jwt=${jwt}&id=${doc.id}&publish=true`),
      await post(`/package/update_params?jwt=${jwt}&id=${doc.id}`, {
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ params: '{}' }),
      }),
      await post(`/package/run-hooks?jwt=${jwt}&id=${doc.id}&pipeline=${encodeURIComponent(allowed())}`),
      await post(`/package/delete?jwt=${jwt}&id=${doc.id}`),
    ];
    for (const res of answers) expect(await json(res)).toBeNull();
    const row = await registryRow(doc.id);
    expect(row?.package.private).toBe(true);
    expect(row?.package).not.toHaveProperty('defaultParams');
    expect(await receivedFor(owner)).toEqual([]);
  });
});
