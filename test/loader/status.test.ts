/**
 * /package/upload validation and /package/status, and the PackageStatus
 * object's guarantees (job fencing, liveness alarm, survival across
 * restarts), against the real Worker, Durable Objects and Postgres.
 */
import { env } from 'cloudflare:workers';
import { evictDurableObject, runDurableObjectAlarm, runInDurableObject } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { statusStub } from '../../src/durable/status-client.ts';
import { call, config, newUserId, permissionToken, userToken } from '../helpers/app.ts';
import { jobsOf, status, upload } from './helpers.ts';

/** A datastore URL in `userid`'s folder (the upload_url form). */
function datastoreUrl(userid: string, name = 'pkg'): string {
  const c = config();
  return `${c.OS_S3_SCHEME}://${c.OS_S3_HOSTNAME}:${c.OS_S3_PORT}/${c.OS_STORAGE_BUCKET_NAME}/${userid}/${name}/datapackage.json`;
}

describe('POST /package/upload', () => {
  it('answers 400 without datapackage', async () => {
    const res = await call(`/package/upload?jwt=x`, { method: 'POST' });
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ error: expect.stringContaining('datapackage') });
  });

  it('answers 403 without jwt', async () => {
    const res = await call(`/package/upload?datapackage=${encodeURIComponent(datastoreUrl('u'))}`, { method: 'POST' });
    expect(res.status).toBe(403);
    expect(await res.json()).toEqual({ error: expect.stringContaining('jwt') });
  });

  it('reads datapackage and jwt from a form body too', async () => {
    const userid = newUserId();
    const url = 'https://elsewhere.example/x/datapackage.json';
    const res = await call('/package/upload', {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ datapackage: url, jwt: await permissionToken(userid) }).toString(),
    });
    expect(await res.json()).toEqual({ status: 'fail', error: expect.stringContaining('not an allowed') });
  });

  it('refuses a user token as unauthorized (HTTP 200, as the original) and writes no status', async () => {
    const userid = newUserId();
    const url = datastoreUrl(userid);
    expect(await upload(url, await userToken(userid))).toEqual({ status: 'fail', error: 'unauthorized' });
    expect(await status(url)).toBeNull();
  });

  it('refuses a permission token of another service or without datapackage-upload', async () => {
    const userid = newUserId();
    const url = datastoreUrl(userid);
    expect(await upload(url, await permissionToken(userid, 'os.other'))).toEqual({
      status: 'fail',
      error: 'unauthorized',
    });
    expect(await upload(url, await permissionToken(userid, 'os.datastore', {}))).toEqual({
      status: 'fail',
      error: 'unauthorized',
    });
    expect(await status(url)).toBeNull();
  });

  it('fails a URL outside the allow-list, writes no status under it (not the caller\'s key) and records no job', async () => {
    const userid = newUserId();
    const url = `http://169.254.169.254/${userid}/datapackage.json`;
    const answer = await upload(url, await permissionToken(userid));
    expect(answer).toEqual({ status: 'fail', error: 'URL http://169.254.169.254 is not an allowed datapackage location' });
    expect(await status(url)).toBeNull();
    expect(await jobsOf(url)).toEqual([]);
  });

  it('shows a refused upload in the status of a key in the caller\'s own folder', async () => {
    const userid = newUserId();
    const url = datastoreUrl(userid).replace(`/${userid}/`, `/${userid}/./`);
    const answer = await upload(url, await permissionToken(userid));
    expect(answer).toEqual({ status: 'fail', error: 'URL must not contain "." or ".." path segments' });
    expect(await status(url)).toMatchObject({ status: 'fail', progress: 0, error: answer.error });
    expect(await jobsOf(url)).toEqual([]);
  });

  it("fails a URL in someone else's datastore folder without touching that key's status", async () => {
    const owner = newUserId();
    const intruder = newUserId();
    const url = datastoreUrl(owner);
    await statusStub(env, url).start(url, crypto.randomUUID());
    const answer = await upload(url, await permissionToken(intruder));
    expect(answer).toEqual({ status: 'fail', error: expect.stringContaining('outside your datastore folder') });
    expect(await status(url)).toMatchObject({ status: 'queued' });
  });

  it('queues an allowed upload at once: {"progress":0,"status":"queued"} and a job row', async () => {
    const userid = newUserId();
    const url = datastoreUrl(userid, 'queued-only');
    const res = await call(
      `/package/upload?datapackage=${encodeURIComponent(url)}&jwt=${encodeURIComponent(await permissionToken(userid))}`,
      { method: 'POST' },
    );
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('{"progress":0,"status":"queued"}');
    const jobs = await jobsOf(url);
    expect(jobs).toHaveLength(1);
    expect(jobs[0]).toMatchObject({ userid, status_key: url });
    expect(await status(url)).not.toBeNull();
  });
});

describe('GET /package/status', () => {
  it('answers 400 without datapackage', async () => {
    const res = await call('/package/status');
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ error: 'missing datapackage parameter' });
  });

  it('answers an unknown key with 404 and a body that is not JSON', async () => {
    const res = await call(`/package/status?datapackage=${encodeURIComponent('https://nowhere.example/x.json')}`);
    expect(res.status).toBe(404);
    const text = await res.text();
    expect(() => JSON.parse(text)).toThrow();
  });

  it('serves JSONP with a callback', async () => {
    const key = `https://s.example/b/${newUserId()}/p/datapackage.json`;
    await statusStub(env, key).start(key, crypto.randomUUID());
    const res = await call(`/package/status?callback=cb&datapackage=${encodeURIComponent(key)}`);
    expect(res.headers.get('content-type')).toContain('application/javascript');
    const body = await res.text();
    expect(body).toMatch(/^\/\*\*\/cb\(\{.*"status":"queued".*\}\);$/);
  });

  it('answers for the normalised URL forms os-admin polls with', async () => {
    const user = newUserId();
    const key = `https://s3.example:443/bucket/${user}/pkg/datapackage.json`;
    const job = crypto.randomUUID();
    const { startStatus } = await import('../../src/durable/status-client.ts');
    await startStatus(env, key, job);
    for (const form of [
      `https://s3.example/bucket/${user}/pkg/datapackage.json`,
      `http://s3.example/bucket/${user}/pkg/final/datapackage.json`,
    ]) {
      expect(await status(form)).toMatchObject({ status: 'queued', progress: 0 });
    }
    expect(await status(`https://s3.example/bucket/${user}/other/datapackage.json`)).toBeNull();
  });
});

describe('PackageStatus object', () => {
  it('refuses updates from a superseded job and illegal moves', async () => {
    const key = `k-${crypto.randomUUID()}`;
    const stub = statusStub(env, key);
    const old = crypto.randomUUID();
    const current = crypto.randomUUID();
    await stub.start(key, old);
    await stub.start(key, current);
    expect((await stub.advance(old, 'initializing')).ok).toBe(false);
    expect((await stub.advance(current, 'loading-data')).ok).toBe(false);
    expect((await stub.advance(current, 'initializing')).ok).toBe(true);
    const read = await stub.read();
    expect(read).toMatchObject({ job: current, status: 'initializing' });
    expect(Object.keys(read?.steps ?? {})).toEqual(['queued']);
  });

  it('keeps the status across a restart of the object', async () => {
    const key = `k-${crypto.randomUUID()}`;
    const stub = statusStub(env, key);
    const job = crypto.randomUUID();
    await stub.start(key, job);
    await stub.advance(job, 'initializing');
    await evictDurableObject(stub);
    expect(await statusStub(env, key).read()).toMatchObject({ job, status: 'initializing' });
  });

  it('turns a load silent for longer than the stall timeout into fail', async () => {
    const key = `k-${crypto.randomUUID()}`;
    const stub = statusStub(env, key);
    const job = crypto.randomUUID();
    await stub.start(key, job);
    const limit = config().OS_LOADER_STALL_TIMEOUT * 1000;
    await runInDurableObject(stub, (_instance, state) => {
      state.storage.sql.exec('UPDATE load_status SET updated_at = ?', Date.now() - limit - 1000);
    });
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    const view = await stub.read();
    expect(view?.status).toBe('fail');
    expect(view?.error).toMatch(/^load stalled: no progress for \d+ s while queued$/);
  });

  it('does not fail a load that is still making progress when the alarm fires', async () => {
    const key = `k-${crypto.randomUUID()}`;
    const stub = statusStub(env, key);
    const job = crypto.randomUUID();
    await stub.start(key, job);
    // The alarm start() set runs now, finds the load fresh and only re-arms.
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect((await stub.read())?.status).toBe('queued');
    expect(await runInDurableObject(stub, (_instance, state) => state.storage.getAlarm())).not.toBeNull();
  });
});

describe('OpenAPI document', () => {
  it('documents /package/upload and /package/status with their parameters', async () => {
    const doc = (await (await call('/openapi.json')).json()) as {
      paths: Record<string, Record<string, { parameters?: Array<{ name: string }> }>>;
    };
    expect(doc.paths['/package/upload']?.post?.parameters?.map((p) => p.name)).toEqual(
      expect.arrayContaining(['datapackage', 'jwt']),
    );
    expect(doc.paths['/package/status']?.get?.parameters?.map((p) => p.name)).toContain('datapackage');
  });
});
