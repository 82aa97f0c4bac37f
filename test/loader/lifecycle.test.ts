/**
 * The load job's lifecycle under the faults issue 9 found: duplicate
 * deliveries, the stall alarm, a stored object whose Content-Encoding lies,
 * an empty data file, statuses planted by another uploader, and the status
 * of a private package. Each drives the real consumer, Durable Objects,
 * Postgres and S3 server.
 */
import { env } from 'cloudflare:workers';
import { runDurableObjectAlarm, runInDurableObject } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { getConfig } from '../../src/config.ts';
import { withDb } from '../../src/db/client.ts';
import { statusStub } from '../../src/durable/status-client.ts';
import type { Env } from '../../src/env.ts';
import { stagingTableName } from '../../src/jobs/lifecycle.ts';
import { factTableName, packageId } from '../../src/loader/naming.ts';
import type { LoaderMessage } from '../../src/queue/messages.ts';
import { acceptUpload } from '../../src/jobs/accept.ts';
import { normaliseStatusUrl } from '../../src/durable/status-keys.ts';
import { getPackage } from '../../src/registry/registry.ts';
import { fixture } from '../datastore/helpers.ts';
import { call, config, newUserId, permissionToken, userToken } from '../helpers/app.ts';
import { MAX_ATTEMPTS } from '../../src/queue/consumer.ts';
import {
  deliver,
  drain,
  drivenEnv,
  jobsOf,
  publishFixture,
  startLoad,
  putFiles,
  query,
  status,
  tablesLike,
  upload,
  waitForEnd,
} from './helpers.ts';


async function dump(table: string): Promise<string> {
  const [row] = await query<{ d: string }>(`SELECT md5(string_agg(t::text, chr(10) ORDER BY _id)) AS d FROM "${table}" t`);
  return row?.d ?? '';
}

async function rowCount(table: string): Promise<number> {
  const [row] = await query<{ n: string }>(`SELECT count(*) AS n FROM "${table}"`);
  return Number(row?.n);
}

describe('duplicate deliveries never fail their own job', () => {
  it('two simultaneous deliveries of the first message load the package once', async () => {
    const sent: LoaderMessage[] = [];
    const e = drivenEnv(sent);
    const pub = await startLoad(e, 'fdp/uk-cra');
    const first = sent.shift() as LoaderMessage;
    const results = await Promise.all([deliver(e, first), deliver(e, first, 2)]);
    for (const r of results) expect(r.retryMessages).toEqual([]);
    await drain(e, sent);
    expect(await status(pub.url)).toMatchObject({ status: 'done', progress: 2000 });
    const [job] = await jobsOf(pub.url);
    expect(job?.state).toBe('done');
    expect(await rowCount(factTableName(pub.userid, pub.name))).toBe(2000);
  });

  it('a redelivered middle message arriving while the status already shows the job finishing', async () => {
    const sent: LoaderMessage[] = [];
    const e = drivenEnv(sent);
    const pub = await startLoad(e, 'fdp/uk-cra');
    await deliver(e, sent.shift() as LoaderMessage);
    const [job] = await jobsOf(pub.url);
    const jobId = String(job?.job_id);
    // Another delivery of the job got as far as reporting the last steps.
    const stub = statusStub(env, pub.url);
    expect((await stub.advance(jobId, 'creating-babbage-model')).ok).toBe(true);
    expect((await stub.advance(jobId, 'saving-metadata')).ok).toBe(true);
    await drain(e, sent);
    expect(await status(pub.url)).toMatchObject({ status: 'done', progress: 2000 });
    const [after] = await jobsOf(pub.url);
    expect(after?.state).toBe('done');
    expect(await rowCount(factTableName(pub.userid, pub.name))).toBe(2000);
  });

  it('a duplicate of the last message after the job is done changes nothing', async () => {
    const sent: LoaderMessage[] = [];
    const e = drivenEnv(sent);
    const pub = await startLoad(e, 'fdp/packager-example');
    const first = sent[0] as LoaderMessage;
    await drain(e, sent);
    const again = await deliver(e, first, 3);
    expect(again.retryMessages).toEqual([]);
    expect(await status(pub.url)).toMatchObject({ status: 'done', progress: 9 });
    expect((await jobsOf(pub.url))[0]?.state).toBe('done');
  });
});

describe('the stall alarm', () => {
  it('ends the job in Postgres too and drops its staging table', async () => {
    const sent: LoaderMessage[] = [];
    const e = drivenEnv(sent);
    const pub = await startLoad(e, 'fdp/uk-cra');
    await deliver(e, sent.shift() as LoaderMessage);
    const [job] = await jobsOf(pub.url);
    const jobId = String(job?.job_id);
    const staging = stagingTableName(jobId);
    expect(await tablesLike(staging)).toEqual([staging]);
    const stub = statusStub(env, pub.url);
    const limit = config().OS_LOADER_STALL_TIMEOUT * 1000;
    await runInDurableObject(stub, (_instance, state) => {
      state.storage.sql.exec('UPDATE load_status SET updated_at = ?', Date.now() - limit - 1000);
    });
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    const view = await status(pub.url);
    expect(view?.status).toBe('fail');
    expect(view?.error).toMatch(/^load stalled: no progress for \d+ s while loading-data$/);
    const [after] = await jobsOf(pub.url);
    expect(after).toMatchObject({ state: 'fail', error: expect.stringMatching(/^load stalled/) });
    expect(await tablesLike(staging)).toEqual([]);
    // The pending continuation finds the job ended and writes nothing.
    await drain(e, sent);
    expect((await status(pub.url))?.status).toBe('fail');
    expect(await tablesLike(staging)).toEqual([]);
  });
});

describe('stored objects whose encoding does not match their body', () => {
  it('fails the load naming the file, and the service keeps loading', async () => {
    const pub = await publishFixture('fdp/packager-example', { dataHeaders: { 'Content-Encoding': 'gzip' } });
    const end = await waitForEnd(pub.url);
    expect(end.status).toBe('fail');
    expect(end.error).toMatch(/data file .*\.csv.*gzip/);
    const [job] = await jobsOf(pub.url);
    expect(job?.state).toBe('fail');
    expect(await tablesLike(stagingTableName(String(job?.job_id)))).toEqual([]);
    // The same package without the false header loads.
    const again = await publishFixture('fdp/packager-example', { userid: pub.userid });
    expect(await waitForEnd(again.url)).toMatchObject({ status: 'done', progress: 9 });
  });
});

describe('a data file without data rows', () => {
  for (const [what, data] of [
    ['an empty file', ''],
    ['a header only', 'header'],
  ] as const) {
    it(`${what}: fails and leaves the previous version exactly as it was`, async () => {
      const pub = await publishFixture('fdp/uk-cra');
      expect((await waitForEnd(pub.url)).status).toBe('done');
      const table = factTableName(pub.userid, pub.name);
      const before = await dump(table);
      const id = packageId(pub.userid, pub.name);
      const docBefore = await withDb(config(), (db) => getPackage(db, id));
      const csv = new TextDecoder().decode(await fixture('fdp/uk-cra/dataset.csv'));
      const bytes = new TextEncoder().encode(data === '' ? '' : csv.slice(0, csv.indexOf('\n') + 1));
      const again = await publishFixture('fdp/uk-cra', { userid: pub.userid, data: bytes });
      const end = await waitForEnd(again.url);
      expect(end).toMatchObject({ status: 'fail', error: 'the data file has no data rows' });
      expect(await dump(table)).toBe(before);
      expect(await withDb(config(), (db) => getPackage(db, id))).toEqual(docBefore);
      const [job] = await jobsOf(again.url);
      expect(job?.state).toBe('fail');
      expect(await tablesLike(stagingTableName(String(job?.job_id)))).toEqual([]);
    });
  }
});

describe('statuses only the owner writes', () => {
  it("another uploader cannot plant a status under a user's package id or normalised URL", async () => {
    const pub = await publishFixture('fdp/packager-example');
    expect((await waitForEnd(pub.url)).status).toBe('done');
    const id = packageId(pub.userid, pub.name);
    const normalised = normaliseStatusUrl(pub.url) as string;
    const ownerJwt = await userToken(pub.userid);
    const intruder = await permissionToken(newUserId());
    for (const key of [id, normalised]) {
      expect((await upload(key, intruder)).status).toBe('fail');
    }
    expect(await status(id, ownerJwt)).toMatchObject({ status: 'done' });
    expect(await status(normalised)).toMatchObject({ status: 'done' });
    expect(await status(pub.url)).toMatchObject({ status: 'done' });
  });
});

describe('uploads from an allow-listed origin', () => {
  /** An env whose allow-list holds the datastore's own origin, so any user may upload any URL there. */
  function allowListed(sent: LoaderMessage[], url: string): Env {
    return drivenEnv(sent, { OS_UPLOAD_ALLOWED_ORIGINS: new URL(url).origin });
  }

  it("another user's upload of the owner's URL writes no status and supersedes nothing", async () => {
    const pub = await publishFixture('fdp/packager-example');
    expect((await waitForEnd(pub.url)).status).toBe('done');
    const before = await status(pub.url);
    const sent: LoaderMessage[] = [];
    const e = allowListed(sent, pub.url);
    const intruder = await permissionToken(newUserId());
    // Accepted (the origin is allowed), but nothing is written under the owner's key.
    expect(await acceptUpload(e, getConfig(e), pub.url, intruder)).toEqual({ progress: 0, status: 'queued' });
    expect(await status(pub.url)).toEqual(before);
    await drain(e, sent);
    const [newest] = await jobsOf(pub.url);
    expect(newest).toMatchObject({ state: 'fail' });
    expect(String(newest?.error)).toMatch(/is not the uploading user/);
    expect(await status(pub.url)).toEqual(before);
    expect(await status(normaliseStatusUrl(pub.url) as string)).toEqual(before);

    // The owner's load running meanwhile is not superseded by another user's upload of its URL.
    expect(await acceptUpload(e, getConfig(e), pub.url, pub.token)).toEqual({ progress: 0, status: 'queued' });
    expect(await acceptUpload(e, getConfig(e), pub.url, intruder)).toEqual({ progress: 0, status: 'queued' });
    await drain(e, sent);
    const [intruding, owners] = await jobsOf(pub.url);
    expect(owners).toMatchObject({ state: 'done', error: null });
    expect(intruding).toMatchObject({ state: 'fail' });
    expect(await status(pub.url)).toMatchObject({ status: 'done', progress: 9 });
  });

  it("the owner's upload from there gets its status once the descriptor names them", async () => {
    const pub = await publishFixture('fdp/packager-example', { noUpload: true });
    const sent: LoaderMessage[] = [];
    const e = allowListed(sent, pub.url);
    // The same object spelt with its folder's first letter percent-encoded: a
    // key outside the uploader's folder as far as the policy can tell, so no
    // status until the loader has read the descriptor.
    const folder = `/${encodeURIComponent(pub.userid)}/`;
    const first = pub.userid.charCodeAt(0).toString(16).toUpperCase();
    const foreignKey = pub.url.replace(folder, `/%${first}${folder.slice(2)}`);
    expect(foreignKey).not.toBe(pub.url);
    expect(await acceptUpload(e, getConfig(e), foreignKey, pub.token)).toEqual({ progress: 0, status: 'queued' });
    expect(await status(foreignKey)).toBeNull();
    await drain(e, sent);
    expect(await status(foreignKey)).toMatchObject({ status: 'done', progress: 9 });
  });
});

describe('status of a private package by its id', () => {
  it('answers only its owner (user token), else 404 as for an unknown key', async () => {
    const pub = await publishFixture('fdp/packager-example');
    expect((await waitForEnd(pub.url)).status).toBe('done');
    const id = packageId(pub.userid, pub.name);
    expect(await status(id)).toBeNull();
    expect(await status(id, await userToken(newUserId()))).toBeNull();
    const res = await call(`/package/status?datapackage=${encodeURIComponent(id)}`);
    expect(res.status).toBe(404);
    const body = await res.text();
    expect(() => JSON.parse(body)).toThrow();
    expect(await status(id, await userToken(pub.userid))).toMatchObject({ status: 'done', progress: 9 });
    // Published, it answers anyone.
    const publish = await call(
      `/package/publish?id=${encodeURIComponent(id)}&publish=true&jwt=${encodeURIComponent(pub.token)}`,
      { method: 'POST' },
    );
    expect(await publish.json()).toEqual({ success: true, published: true });
    expect(await status(id)).toMatchObject({ status: 'done', progress: 9 });
  });
});

describe('one package, one load: the newer upload wins', () => {
  /** The job row of a status key (the newest). */
  async function jobOf(url: string) {
    return (await jobsOf(url))[0] as Record<string, unknown>;
  }

  it('a new upload of the same URL while one runs: the older is superseded and cleaned up', async () => {
    const sent: LoaderMessage[] = [];
    const e = drivenEnv(sent);
    const pub = await startLoad(e, 'fdp/uk-cra');
    await deliver(e, sent.shift() as LoaderMessage);
    const older = String((await jobOf(pub.url)).job_id);
    expect(await tablesLike(stagingTableName(older))).toHaveLength(1);
    expect(await acceptUpload(e, getConfig(e), pub.url, pub.token)).toEqual({ progress: 0, status: 'queued' });
    await drain(e, sent);
    const rows = await query<{ job_id: string; state: string; error: string | null }>(
      'SELECT job_id, state, error FROM load_jobs WHERE status_key = $1 ORDER BY created_at',
      [pub.url],
    );
    expect(rows.map((r) => r.state)).toEqual(['superseded', 'done']);
    expect(rows[0]?.error).toBe('superseded by a newer upload of the same package');
    expect(await tablesLike(stagingTableName(older))).toEqual([]);
    expect(await status(pub.url)).toMatchObject({ status: 'done', progress: 2000 });
    expect(await rowCount(factTableName(pub.userid, pub.name))).toBe(2000);
  });

  it('two spellings of one upload URL are one load', async () => {
    const sent: LoaderMessage[] = [];
    const e = drivenEnv(sent);
    const pub = await startLoad(e, 'fdp/packager-example');
    const first = sent.shift() as LoaderMessage;
    const other = `${pub.url}?spelling=2`;
    expect(normaliseStatusUrl(other)).toBe(normaliseStatusUrl(pub.url));
    expect(await acceptUpload(e, getConfig(e), other, pub.token)).toEqual({ progress: 0, status: 'queued' });
    // The older job's message comes late: it finds its job superseded and ends it (status says why).
    expect((await deliver(e, first)).retryMessages).toEqual([]);
    expect(await status(pub.url)).toMatchObject({ status: 'fail', error: 'superseded by a newer upload of the same package' });
    await drain(e, sent);
    expect(await status(other)).toMatchObject({ status: 'done', progress: 9 });
    expect((await jobOf(pub.url)).state).toBe('superseded');
    expect((await jobOf(other)).state).toBe('done');
  });

  it('two upload URLs of the same package: the newer wins whichever starts first; the id follows the committed job', async () => {
    const sent: LoaderMessage[] = [];
    const e = drivenEnv(sent);
    const pub = await startLoad(e, 'fdp/uk-cra');
    const olderFirst = sent.shift() as LoaderMessage;
    // The same package uploaded again into another folder (another status key).
    const descriptor = new TextEncoder().encode(JSON.stringify(pub.descriptor));
    const data = await fixture('fdp/uk-cra/dataset.csv');
    const urls = await putFiles(pub.userid, pub.token, 'second-copy', { 'datapackage.json': descriptor, 'dataset.csv': data });
    const newer = urls['datapackage.json'] as string;
    expect(await acceptUpload(e, getConfig(e), newer, pub.token)).toEqual({ progress: 0, status: 'queued' });
    const newerFirst = sent.shift() as LoaderMessage;
    // The newer job prepares first; the older one's first message then finds it and stands down.
    await deliver(e, newerFirst);
    expect((await deliver(e, olderFirst)).retryMessages).toEqual([]);
    expect((await jobOf(pub.url)).state).toBe('superseded');
    expect(await status(pub.url)).toMatchObject({ status: 'fail', error: 'superseded by a newer upload of the same package' });
    await drain(e, sent);
    expect(await status(newer)).toMatchObject({ status: 'done', progress: 2000 });
    const id = packageId(pub.userid, pub.name);
    const owner = await userToken(pub.userid);
    expect(await status(id, owner)).toMatchObject({ status: 'done', progress: 2000 });
    expect(await rowCount(factTableName(pub.userid, pub.name))).toBe(2000);
    expect(await tablesLike(stagingTableName(String((await jobOf(pub.url)).job_id)))).toEqual([]);
  });

  it('a newer upload of the same package supersedes an older one already loading', async () => {
    const sent: LoaderMessage[] = [];
    const e = drivenEnv(sent);
    const pub = await startLoad(e, 'fdp/uk-cra');
    await deliver(e, sent.shift() as LoaderMessage);
    const olderNext = sent.shift() as LoaderMessage;
    const olderJob = String((await jobOf(pub.url)).job_id);
    const descriptor = new TextEncoder().encode(JSON.stringify(pub.descriptor));
    const data = await fixture('fdp/uk-cra/dataset.csv');
    const urls = await putFiles(pub.userid, pub.token, 'third-copy', { 'datapackage.json': descriptor, 'dataset.csv': data });
    const newer = urls['datapackage.json'] as string;
    await acceptUpload(e, getConfig(e), newer, pub.token);
    await deliver(e, sent.shift() as LoaderMessage);
    expect((await deliver(e, olderNext)).retryMessages).toEqual([]);
    expect((await jobOf(pub.url)).state).toBe('superseded');
    expect(await tablesLike(stagingTableName(olderJob))).toEqual([]);
    await drain(e, sent);
    expect(await status(newer)).toMatchObject({ status: 'done', progress: 2000 });
    expect(await rowCount(factTableName(pub.userid, pub.name))).toBe(2000);
  });
});

describe('a message that keeps failing', () => {
  it('ends its job fail after a bounded number of attempts and goes to the dead-letter queue', async () => {
    const sent: LoaderMessage[] = [];
    const parked: unknown[] = [];
    const dlq = { send: async (body: unknown) => void parked.push(body) } as unknown as Queue<unknown>;
    const e = drivenEnv(sent, { LOADER_DLQ: dlq });
    const pub = await startLoad(e, 'fdp/uk-cra');
    const first = sent.shift() as LoaderMessage;
    // Earlier deliveries crashed the isolate before they could record anything.
    const result = await deliver(e, first, MAX_ATTEMPTS + 1);
    expect(result.retryMessages).toEqual([]);
    expect(result.explicitAcks).toHaveLength(1);
    const end = await status(pub.url);
    expect(end?.status).toBe('fail');
    expect(end?.error).toMatch(/given up after \d+ attempts/);
    expect((await jobsOf(pub.url))[0]?.state).toBe('fail');
    expect(parked).toEqual([expect.objectContaining({ kind: 'load', job: first.job })]);
  });

  it('a transient error on the last attempt fails the job with the error, and parks the message', async () => {
    const sent: LoaderMessage[] = [];
    const parked: unknown[] = [];
    const dlq = { send: async (body: unknown) => void parked.push(body) } as unknown as Queue<unknown>;
    const pub = await startLoad(drivenEnv(sent), 'fdp/uk-cra');
    const first = sent.shift() as LoaderMessage;
    // Handing the rest of the file on fails (a queue outage): a transient error.
    const queueDown = {
      send: async () => {
        throw new Error('queue unavailable');
      },
    } as unknown as Queue<unknown>;
    const e = drivenEnv([], { LOADER_DLQ: dlq, LOADER_QUEUE: queueDown });
    const result = await deliver(e, first, MAX_ATTEMPTS);
    expect(result.retryMessages).toEqual([]);
    const end = await status(pub.url);
    expect(end?.status).toBe('fail');
    expect(end?.error).toBe(`gave up after ${MAX_ATTEMPTS} attempts: queue unavailable`);
    const [job] = await jobsOf(pub.url);
    expect(job?.state).toBe('fail');
    expect(await tablesLike(stagingTableName(String(job?.job_id)))).toEqual([]);
    expect(parked).toHaveLength(1);
  });
});

describe('the load plan', () => {
  it('is computed by the first message and stored with the job, dialect included', async () => {
    const sent: LoaderMessage[] = [];
    const e = drivenEnv(sent);
    const pub = await startLoad(e, 'fdp/uk-cra');
    await deliver(e, sent.shift() as LoaderMessage);
    const [job] = await jobsOf(pub.url);
    const plan = job?.plan as { columns: string[]; dialect: { delimiter: string }; model: { fact_table: string } };
    expect(plan.columns.length).toBeGreaterThan(0);
    expect(plan.dialect.delimiter).toBe(',');
    expect(plan.model.fact_table).toBe(factTableName(pub.userid, pub.name));
    // Later messages load from the stored plan, not from the descriptor.
    await query(`UPDATE load_jobs SET descriptor = '{}'::jsonb WHERE job_id = $1`, [job?.job_id]);
    await drain(e, sent);
    expect(await status(pub.url)).toMatchObject({ status: 'done', progress: 2000 });
  });
});
