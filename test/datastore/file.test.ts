/**
 * GET /datastore/file: reads of package files through short-lived presigned
 * GETs, for a bucket that is not publicly readable, through the Worker and
 * against the real S3 server (which verifies SigV4 and expiry).
 */
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import type { Env } from '../../src/env.ts';
import { objectKey } from '../../src/datastore/paths.ts';
import { presignDownload, presignUpload, storageTarget } from '../../src/datastore/presign.ts';
import { call as callFollowing, callWith, config, newUserId, permissionToken, userToken } from '../helpers/app.ts';
import { registryDoc, seed } from '../search/helpers.ts';
import { publishFixture, waitForEnd } from '../loader/helpers.ts';
import { md5Base64, put, putUrl } from './helpers.ts';

const CSV = 'id,amount\n1,10\n2,20\n';

/** Stores `body` at `<owner>/<name>/<path>` in the test bucket; its bucket URL. */
async function store(owner: string, name: string, path: string, body: string): Promise<string> {
  const md5 = await md5Base64(body);
  const signed = await presignUpload(storageTarget(config()), { key: objectKey(owner, name, path), contentMd5: md5, expiresIn: 60 });
  const res = await put(putUrl({ upload_url: signed.uploadUrl, upload_query: signed.uploadQuery }), body, { 'Content-MD5': md5 });
  expect(res.status).toBe(200);
  return signed.uploadUrl;
}

interface Stored {
  owner: string;
  name: string;
  descriptorUrl: string;
  csvUrl: string;
  /** A file in the same folder that no package lists. */
  strayUrl: string;
}

/** A package of a fresh owner with a descriptor and one CSV resource, registered with `pkg` and `extra`. */
async function registered(pkg: Record<string, unknown> = {}, extra: Record<string, unknown> = {}): Promise<Stored> {
  const owner = newUserId();
  const name = `ds-${owner.slice(0, 6)}`;
  const descriptor = { name, owner, resources: [{ name: 'budget', path: 'data/budget.csv' }] };
  const descriptorUrl = await store(owner, name, 'datapackage.json', JSON.stringify(descriptor));
  const csvUrl = await store(owner, name, 'data/budget.csv', CSV);
  const strayUrl = await store(owner, name, 'notes.txt', 'not part of the package');
  await seed(registryDoc(owner, name, { resources: descriptor.resources, ...pkg }, { origin_url: descriptorUrl, ...extra }));
  return { owner, name, descriptorUrl, csvUrl, strayUrl };
}

/** A GET through the Worker that hands back the redirect instead of following it. */
function call(path: string): Promise<Response> {
  return callFollowing(path, { redirect: 'manual' });
}

function byUrl(url: string, jwt?: string): string {
  return `/datastore/file?url=${encodeURIComponent(url)}${jwt ? `&jwt=${encodeURIComponent(jwt)}` : ''}`;
}

/** The body the redirect target serves, fetched without any credentials of ours. */
async function follow(res: Response): Promise<{ status: number; text: string }> {
  expect(res.status).toBe(302);
  const location = res.headers.get('location') ?? '';
  expect(location).toContain('X-Amz-Signature=');
  const target = await fetch(location);
  return { status: target.status, text: await target.text() };
}

async function s3Error(res: Response): Promise<string> {
  return (/<Code>([^<]+)<\/Code>/.exec(await res.text()) ?? [])[1] ?? `(no code, HTTP ${res.status})`;
}

describe('GET /datastore/file', () => {
  it('redirects anyone to a presigned GET of a published package\'s files, which the S3 server serves', async () => {
    const pkg = await registered();
    const res = await call(byUrl(pkg.csvUrl));
    expect(res.headers.get('cache-control')).toBe('no-store');
    const location = new URL(res.headers.get('location') ?? '');
    expect(`${location.origin}${location.pathname}`).toBe(pkg.csvUrl);
    expect(location.searchParams.get('X-Amz-Expires')).toBe(String(config().OS_DATASTORE_READ_URL_TTL));
    expect(await follow(res)).toEqual({ status: 200, text: CSV });
    const descriptor = await follow(await call(byUrl(pkg.descriptorUrl)));
    expect(JSON.parse(descriptor.text)).toMatchObject({ name: pkg.name });
  });

  it('serves the path form, against which relative resource paths resolve', async () => {
    const pkg = await registered();
    const descriptorLink = `/datastore/file/${pkg.owner}/${pkg.name}/datapackage.json`;
    expect((await follow(await call(descriptorLink))).status).toBe(200);
    // os-viewer resolves resources[].path against the descriptor's URL.
    const resourceLink = new URL('data/budget.csv', `http://conductor.test${descriptorLink}`).pathname;
    expect(await follow(await call(resourceLink))).toEqual({ status: 200, text: CSV });
  });

  it('answers the owner of a private package, and the same 404 to anyone else', async () => {
    const pkg = await registered({ private: true });
    const owner = await userToken(pkg.owner);
    expect(await follow(await call(byUrl(pkg.csvUrl, owner)))).toEqual({ status: 200, text: CSV });
    expect((await follow(await call(`/datastore/file/${pkg.owner}/${pkg.name}/data/budget.csv?jwt=${owner}`))).text).toBe(CSV);

    const unknown = await call(byUrl(pkg.csvUrl.replace('budget.csv', 'missing.csv')));
    expect(unknown.status).toBe(404);
    const unknownBody = await unknown.json();
    const other = await userToken(newUserId());
    for (const res of [
      await call(byUrl(pkg.csvUrl)),
      await call(byUrl(pkg.csvUrl, other)),
      await call(byUrl(pkg.csvUrl, 'not-a-token')),
      // A permission token is not a user token: anonymous.
      await call(byUrl(pkg.csvUrl, await permissionToken(pkg.owner))),
      await call(`/datastore/file/${pkg.owner}/${pkg.name}/data/budget.csv`),
    ]) {
      expect(res.status).toBe(404);
      expect(res.headers.get('location')).toBeNull();
      expect(await res.json()).toEqual(unknownBody);
    }
  });

  it('refuses a published package that is not loaded to all but its owner', async () => {
    const pkg = await registered({}, { loaded: false });
    expect((await call(byUrl(pkg.csvUrl))).status).toBe(404);
    expect((await follow(await call(byUrl(pkg.csvUrl, await userToken(pkg.owner))))).text).toBe(CSV);
  });

  it('signs only the files a registered package lists', async () => {
    const pkg = await registered();
    const owner = await userToken(pkg.owner);
    // In the package's folder, in the bucket, but no package's file: not even the owner gets it.
    expect((await call(byUrl(pkg.strayUrl, owner))).status).toBe(404);
    expect((await call(`/datastore/file/${pkg.owner}/${pkg.name}/notes.txt?jwt=${owner}`)).status).toBe(404);
    // A file of another user's folder listed by one's own package is not one's own file.
    const victim = await registered({ private: true });
    const thief = newUserId();
    await seed(
      registryDoc(thief, 'steal', { resources: [{ name: 'x', url: victim.csvUrl }] }, {
        origin_url: victim.descriptorUrl.replace(victim.owner, thief),
      }),
    );
    expect((await call(byUrl(victim.csvUrl, await userToken(thief)))).status).toBe(404);
  });

  it.each([
    ['another origin', (u: string) => u.replace('127.0.0.1', 'localhost')],
    ['another bucket', (u: string) => u.replace(`/${config().OS_STORAGE_BUCKET_NAME}/`, '/other-bucket/')],
    ['a traversal step', (u: string) => u.replace('/data/budget.csv', '/data/../data/budget.csv')],
    ['an encoded traversal step', (u: string) => u.replace('/data/budget.csv', '/data/%2e%2e/data/budget.csv')],
    ['a query string', (u: string) => `${u}?X-Amz-Expires=1`],
    ['no URL at all', () => 'not a url'],
    ['a folder only', (u: string) => u.slice(0, u.indexOf('/data/budget.csv'))],
  ])('refuses %s with the 404 and signs nothing', async (_what, change) => {
    const pkg = await registered();
    const res = await call(byUrl(change(pkg.csvUrl), await userToken(pkg.owner)));
    expect(res.status).toBe(404);
    expect(res.headers.get('location')).toBeNull();
    expect(await res.json()).toEqual({ error: 'file not found' });
  });

  it('answers 400 without a url', async () => {
    const res = await call('/datastore/file');
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ error: 'url is required' });
  });

  it.each([
    // (A bare %2e%2e segment is already resolved away by URL parsing; one hidden behind %2F is not.)
    ['a traversal step behind encoded slashes', (o: string) => `/datastore/file/${o}/x/..%2F..%2F${newUserId()}%2Fds%2Fdata.csv`],
    ['an encoded backslash', (o: string, n: string) => `/datastore/file/${o}/${n}/data%5Cbudget.csv`],
    ['a bad escape', (o: string, n: string) => `/datastore/file/${o}/${n}/%E0%A4%A`],
    ['no file path', (o: string) => `/datastore/file/${o}`],
  ])('refuses the path form with %s (404)', async (_what, link) => {
    const pkg = await registered();
    const res = await call(`${link(pkg.owner, pkg.name)}?jwt=${await userToken(pkg.owner)}`);
    expect(res.status).toBe(404);
    expect(res.headers.get('location')).toBeNull();
  });

  it('hands out links the S3 server refuses once OS_DATASTORE_READ_URL_TTL has passed', async () => {
    const pkg = await registered();
    const e = { ...env, OS_DATASTORE_READ_URL_TTL: '1' } as Env;
    const res = await callWith(e, byUrl(pkg.csvUrl), { redirect: 'manual' });
    expect(res.status).toBe(302);
    const location = res.headers.get('location') ?? '';
    expect(new URL(location).searchParams.get('X-Amz-Expires')).toBe('1');
    await new Promise((resolve) => setTimeout(resolve, 2500));
    const late = await fetch(location);
    expect(late.status).toBe(403);
    expect(await s3Error(late)).toBe('AccessDenied');
  });
});

describe('presignDownload against the real S3 server', () => {
  it('an expired link (signed in the past) is refused, the same time with a longer lifetime works', async () => {
    const pkg = await registered();
    const target = storageTarget(config());
    const key = objectKey(pkg.owner, pkg.name, 'data/budget.csv');
    const twoHoursAgo = new Date(Date.now() - 2 * 3600 * 1000);
    const expired = await fetch(await presignDownload(target, { key, expiresIn: 3600, now: twoHoursAgo }));
    expect(expired.status).toBe(403);
    expect(await s3Error(expired)).toBe('AccessDenied');
    const valid = await fetch(await presignDownload(target, { key, expiresIn: 3 * 3600, now: twoHoursAgo }));
    expect(valid.status).toBe(200);
    expect(await valid.text()).toBe(CSV);
  });

  it('is a GET signature only: a PUT with it is refused', async () => {
    const pkg = await registered();
    const url = await presignDownload(storageTarget(config()), { key: objectKey(pkg.owner, pkg.name, 'data/budget.csv'), expiresIn: 60 });
    const res = await fetch(url, { method: 'PUT', body: 'overwritten' });
    expect(res.status).toBe(403);
    expect((await fetch(url)).status).toBe(200);
  });
});

describe('what readers are told in private mode (OS_DATASTORE_PRIVATE)', () => {
  const privateMode = { ...env, OS_DATASTORE_PRIVATE: 'true' } as Env;

  async function hitOf(
    e: Env,
    id: string,
    jwt?: string,
  ): Promise<{ origin_url: string; package: { resources: { path: string }[] } }> {
    const auth = jwt ? `&jwt=${encodeURIComponent(jwt)}` : '';
    const res = await callWith(e, `/search/package?id=${encodeURIComponent(JSON.stringify(id))}${auth}`);
    expect(res.status).toBe(200);
    const hits = (await res.json()) as { origin_url: string; package: { resources: { path: string }[] } }[];
    expect(hits).toHaveLength(1);
    return hits[0]!;
  }

  it('search names the descriptor by its read link; resource paths resolved against it download the file', async () => {
    const pkg = await registered();
    const hit = await hitOf(privateMode, `${pkg.owner}:${pkg.name}`);
    const base = config().OS_BASE_URL;
    expect(hit.origin_url).toBe(`${base}/datastore/file/${pkg.owner}/${pkg.name}/datapackage.json`);
    // os-viewer's "raw data" link: url.resolve(__origin_url, resources[].path).
    const link = new URL(hit.package.resources[0]!.path, hit.origin_url).href;
    expect(link.startsWith(`${base}/datastore/file/`)).toBe(true);
    const res = await callWith(privateMode, link.slice(base.length), { redirect: 'manual' });
    expect(await follow(res)).toEqual({ status: 200, text: CSV });
  });

  it("os-admin's status poll with the origin_url it was shown (a read link) finds the load's status", async () => {
    const pub = await publishFixture('fdp/packager-example');
    expect((await waitForEnd(pub.url)).status).toBe('done');
    // os-admin lists the owner's packages with the owner's user token.
    const hit = await hitOf(privateMode, `${pub.userid}:${pub.name}`, await userToken(pub.userid));
    expect(hit.origin_url).not.toBe(pub.url);
    const res = await callWith(privateMode, `/package/status?datapackage=${encodeURIComponent(hit.origin_url)}`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ status: 'done', progress: 9 });
  });

  it('public mode shows the stored bucket URL, unchanged', async () => {
    const pkg = await registered();
    expect((await hitOf(env as Env, `${pkg.owner}:${pkg.name}`)).origin_url).toBe(pkg.descriptorUrl);
  });
});
