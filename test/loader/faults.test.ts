/**
 * Fault tests of the chunked loader, driving the queue consumer directly
 * (createMessageBatch/getQueueResult) with small chunks so a 2,000-row
 * package takes many messages: a delivery failing mid-load and redelivered,
 * duplicate deliveries, a server that ignores Range, a broken reload, and
 * uploads that must fail without writing anything.
 */
import { env } from 'cloudflare:workers';
import { runDurableObjectAlarm, runInDurableObject } from 'cloudflare:test';
import { describe, expect, it, vi } from 'vitest';
import { getConfig } from '../../src/config.ts';
import { statusStub } from '../../src/durable/status-client.ts';
import { withDb } from '../../src/db/client.ts';
import { stagingTableName } from '../../src/jobs/lifecycle.ts';
import { factTableName, packageId } from '../../src/loader/naming.ts';
import type { LoaderMessage } from '../../src/queue/messages.ts';
import { acceptUpload } from '../../src/jobs/accept.ts';
import { getPackage } from '../../src/registry/registry.ts';
import { config, newUserId, permissionToken } from '../helpers/app.ts';
import { fixture } from '../datastore/helpers.ts';
import {
  deliver,
  drain,
  drivenEnv,
  fixtureJson,
  jobsOf,
  parseCsvText,
  publishFixture,
  startLoad,
  putFiles,
  query,
  status,
  tablesLike,
  waitForEnd,
} from './helpers.ts';

/** Uploads a fixture's files to S3 and starts the load through acceptUpload with the driven env. */

/** Every value of the table as text, in row order (a full comparison, not a sample). */
async function dump(table: string): Promise<string> {
  const [row] = await query<{ d: string }>(`SELECT md5(string_agg(t::text, chr(10) ORDER BY _id)) AS d FROM "${table}" t`);
  return row?.d ?? '';
}

async function counts(table: string) {
  const [row] = await query<{ n: string; d: string; hi: string }>(
    `SELECT count(*) AS n, count(DISTINCT _id) AS d, max(_id) AS hi FROM "${table}"`,
  );
  return row;
}

describe('chunked loading', () => {
  it('loads a package over many messages, resuming each chunk with a Range request', async () => {
    const sent: LoaderMessage[] = [];
    const e = drivenEnv(sent);
    const pub = await startLoad(e, 'fdp/uk-cra');
    await deliver(e, sent.shift() as LoaderMessage);
    // Between messages the status shows the rows loaded so far and the share of the file read.
    const mid = await status(pub.url);
    expect(mid?.status).toBe('loading-data');
    expect(mid?.progress).toBeGreaterThanOrEqual(500);
    expect(mid?.progress).toBeLessThan(2000);
    expect(mid?.fraction).toBeGreaterThan(0);
    expect(mid?.fraction).toBeLessThan(1);
    const messages = 1 + (await drain(e, sent));
    expect(messages).toBeGreaterThanOrEqual(4);
    expect(await status(pub.url)).toMatchObject({ status: 'done', progress: 2000, total: 2000 });
    const table = factTableName(pub.userid, pub.name);
    expect(await counts(table)).toEqual({ n: '2000', d: '2000', hi: '2000' });
    const [job] = await jobsOf(pub.url);
    expect(Number(job?.chunks)).toBe(messages);
  });

  it('resumes exactly after a delivery fails mid-load and is redelivered: no row lost or doubled', async () => {
    // Reference: the same package loaded in one go.
    const refSent: LoaderMessage[] = [];
    const ref = drivenEnv(refSent, { OS_LOADER_CHUNK_ROWS: '100000' });
    const refPub = await startLoad(ref, 'fdp/uk-cra');
    await drain(ref, refSent);
    const expected = await dump(factTableName(refPub.userid, refPub.name));

    const sent: LoaderMessage[] = [];
    const crashing = drivenEnv([], {
      LOADER_QUEUE: {
        send: async () => {
          throw new Error('worker killed while handing on');
        },
      },
    });
    const pub = await startLoad(drivenEnv(sent), 'fdp/uk-cra');
    const first = sent.shift() as LoaderMessage;
    const failed = await deliver(crashing, first);
    expect(failed.retryMessages).toHaveLength(1);
    const [mid] = await jobsOf(pub.url);
    const loaded = Number(mid?.rows_loaded);
    expect(loaded).toBeGreaterThan(0);
    expect(loaded).toBeLessThan(2000);
    expect((await status(pub.url))?.status).toBe('loading-data');

    // The queue redelivers the same message.
    const e = drivenEnv(sent);
    const again = await deliver(e, first, 2);
    expect(again.explicitAcks).toHaveLength(1);
    await drain(e, sent);
    const table = factTableName(pub.userid, pub.name);
    expect(await counts(table)).toEqual({ n: '2000', d: '2000', hi: '2000' });
    expect(await dump(table)).toBe(expected);
    expect(await status(pub.url)).toMatchObject({ status: 'done', progress: 2000 });
  });

  it('lets only one of two simultaneous deliveries of a chunk commit', async () => {
    const sent: LoaderMessage[] = [];
    const e = drivenEnv(sent);
    const pub = await startLoad(e, 'fdp/uk-cra');
    await deliver(e, sent.shift() as LoaderMessage);
    const next = sent.shift() as LoaderMessage;
    const results = await Promise.all([deliver(e, next), deliver(e, next)]);
    for (const r of results) expect(r.retryMessages).toEqual([]);
    await drain(e, sent);
    const table = factTableName(pub.userid, pub.name);
    expect(await counts(table)).toEqual({ n: '2000', d: '2000', hi: '2000' });
    expect(await status(pub.url)).toMatchObject({ status: 'done', progress: 2000 });
  });

  it('finishes a load whose previous message stopped exactly at the end of the file', async () => {
    // Every read looks 25 s later than the last, so each message hands on after
    // one block: the message after the last block starts at the end of the file.
    const realNow = Date.now.bind(Date);
    let skew = 0;
    const clock = vi.spyOn(Date, 'now').mockImplementation(() => realNow() + (skew += 25_000));
    try {
      const sent: LoaderMessage[] = [];
      const e = drivenEnv(sent, { OS_LOADER_CHUNK_ROWS: '100000' });
      const pub = await startLoad(e, 'fdp/uk-cra');
      const messages = await drain(e, sent);
      expect(messages).toBeGreaterThanOrEqual(3);
      const [job] = await jobsOf(pub.url);
      expect(Number(job?.byte_offset)).toBe((await fixture('fdp/uk-cra/dataset.csv')).byteLength);
      expect(await status(pub.url)).toMatchObject({ status: 'done', progress: 2000 });
      expect(await counts(factTableName(pub.userid, pub.name))).toEqual({ n: '2000', d: '2000', hi: '2000' });
    } finally {
      clock.mockRestore();
    }
  });

  it('skips already-loaded bytes when the server ignores Range', async () => {
    const base = String(env.OS_TEST_FIXTURES_URL);
    const sent: LoaderMessage[] = [];
    const e = drivenEnv(sent, { OS_UPLOAD_ALLOWED_ORIGINS: new URL(base).origin });
    // The descriptor's own owner, as served unchanged by the fixtures server.
    const owner = 'officer@data.gov.uk';
    const url = `${base}/fdp/uk-cra/datapackage.json`;
    const answer = await acceptUpload(e, getConfig(e), url, await permissionToken(owner));
    expect(answer).toEqual({ progress: 0, status: 'queued' });
    expect(await drain(e, sent)).toBeGreaterThanOrEqual(4);
    expect(await status(url)).toMatchObject({ status: 'done', progress: 2000 });
    // The name the original gave this package (fixtures/expected).
    const table = 'fdp__officer_data_gov__ukgov_finances_cra__8245df58';
    expect(factTableName(owner, 'ukgov-finances-cra')).toBe(table);
    expect(await counts(table)).toEqual({ n: '2000', d: '2000', hi: '2000' });
    const expected = (await fixtureJson('expected/babbage-model-uk-cra.json')) as { model: unknown };
    const doc = await withDb(config(), (db) => getPackage(db, packageId(owner, 'ukgov-finances-cra')));
    expect(doc?.model).toEqual(expected.model);
  });
});

describe('reloads', () => {
  it('keeps the previous table and registry entry when a reload fails on its last row', async () => {
    const pub = await publishFixture('fdp/uk-cra');
    expect((await waitForEnd(pub.url)).status).toBe('done');
    const table = factTableName(pub.userid, pub.name);
    const before = await dump(table);
    const id = packageId(pub.userid, pub.name);
    const docBefore = await withDb(config(), (db) => getPackage(db, id));

    // Same package, the amount of the last row broken.
    const rows = parseCsvText(new TextDecoder().decode(await fixture('fdp/uk-cra/dataset.csv'))).filter(
      (r) => !(r.length === 1 && r[0] === ''),
    );
    const amountAt = (rows[0] as string[]).indexOf('amount');
    (rows[rows.length - 1] as string[])[amountAt] = '12x';
    const quoted = rows.map((r) => r.map((v) => `"${v.replace(/"/g, '""')}"`).join(',')).join('\n') + '\n';
    const broken = new TextEncoder().encode(quoted);
    const again = await publishFixture('fdp/uk-cra', { userid: pub.userid, data: broken });
    const end = await waitForEnd(again.url);
    expect(end.status).toBe('fail');
    expect(end.error).toMatch(/^row 2000, column "amount": "12x"/);

    expect(await dump(table)).toBe(before);
    expect(await withDb(config(), (db) => getPackage(db, id))).toEqual(docBefore);
    const [job] = await jobsOf(again.url);
    expect(job?.state).toBe('fail');
    expect(await tablesLike(stagingTableName(String(job?.job_id)))).toEqual([]);
  });

  it('skips the data load when the package is uploaded again unchanged', async () => {
    const pub = await publishFixture('fdp/uk-cra');
    expect((await waitForEnd(pub.url)).status).toBe('done');
    const again = await publishFixture('fdp/uk-cra', { userid: pub.userid });
    const end = await waitForEnd(again.url);
    expect(end).toMatchObject({ status: 'done', progress: 2000, total: 2000 });
    expect(Object.keys(end.steps ?? {})).not.toContain('loading-data');
    const [job] = await jobsOf(again.url);
    expect(Number(job?.chunks)).toBe(0);
  });
});

describe('uploads that fail and write nothing', () => {
  async function expectNothingWritten(userid: string, name: string, url: string): Promise<void> {
    expect(await tablesLike(`fdp__${userid.slice(0, 16)}`)).toEqual([]);
    for (const job of await jobsOf(url)) {
      expect(await tablesLike(stagingTableName(String(job.job_id)))).toEqual([]);
    }
    expect(await withDb(config(), (db) => getPackage(db, packageId(userid, name)))).toBeNull();
  }

  it('a descriptor whose owner is someone else', async () => {
    const pub = await publishFixture('fdp/uk-cra', {
      edit: (d) => {
        d.owner = 'someone-else';
      },
    });
    const end = await waitForEnd(pub.url);
    expect(end).toMatchObject({ status: 'fail', error: 'the datapackage owner "someone-else" is not the uploading user' });
    await expectNothingWritten(pub.userid, pub.name, pub.url);
  });

  it('a descriptor without resources', async () => {
    const pub = await publishFixture('fdp/uk-cra', {
      edit: (d) => {
        d.resources = [];
      },
    });
    const end = await waitForEnd(pub.url);
    expect(end.status).toBe('fail');
    expect(end.error).toMatch(/resource/i);
    await expectNothingWritten(pub.userid, pub.name, pub.url);
  });

  it('a data file that was never uploaded (HTTP 404)', async () => {
    const userid = newUserId();
    const token = await permissionToken(userid);
    const descriptor = JSON.parse(new TextDecoder().decode(await fixture('fdp/uk-cra/datapackage.json')));
    descriptor.owner = userid;
    const urls = await putFiles(userid, token, descriptor.name, {
      'datapackage.json': new TextEncoder().encode(JSON.stringify(descriptor)),
    });
    const url = urls['datapackage.json'] as string;
    const { upload } = await import('./helpers.ts');
    expect(await upload(url, token)).toEqual({ progress: 0, status: 'queued' });
    const end = await waitForEnd(url);
    expect(end.status).toBe('fail');
    expect(end.error).toMatch(/dataset\.csv: HTTP 404$/);
    await expectNothingWritten(userid, descriptor.name, url);
  });

  it('a data file that is not CSV', async () => {
    const html = new TextEncoder().encode('<!DOCTYPE html>\n<html><body><h1>Not a CSV</h1>\u0000\u0001</body></html>\n');
    const pub = await publishFixture('fdp/uk-cra', { data: html });
    const end = await waitForEnd(pub.url);
    expect(end.status).toBe('fail');
    expect(end.error?.length).toBeGreaterThan(10);
    await expectNothingWritten(pub.userid, pub.name, pub.url);
  });

  it('a datapackage.json that is not JSON', async () => {
    const userid = newUserId();
    const token = await permissionToken(userid);
    const urls = await putFiles(userid, token, 'broken', { 'datapackage.json': new TextEncoder().encode('{"name": ') });
    const url = urls['datapackage.json'] as string;
    const { upload } = await import('./helpers.ts');
    await upload(url, token);
    expect(await waitForEnd(url)).toMatchObject({ status: 'fail', error: 'datapackage.json is not valid JSON' });
    await expectNothingWritten(userid, 'broken', url);
  });
});

describe('os-api cache', () => {
  it("clears os-api's cached responses of the package once the new data is in", async () => {
    const { parseCacheAddress, contextKey } = await import('../../src/cache/os-api-cache.ts');
    const { redisCommands } = await import('../../src/cache/resp.ts');
    const address = parseCacheAddress(String(config().OS_API_CACHE));
    const userid = newUserId();
    const descriptor = await fixtureJson('fdp/packager-example/datapackage.json');
    const id = packageId(userid, String(descriptor.name));
    const ctx = contextKey(id);
    const cached = `os-api-cache:${id}:model`;
    await redisCommands(address, [['SELECT', address.db], ['SADD', ctx, cached], ['SET', cached, '{"old":true}']]);

    const pub = await publishFixture('fdp/packager-example', { userid });
    expect((await waitForEnd(pub.url)).status).toBe('done');
    const replies = await redisCommands(address, [['SELECT', address.db], ['EXISTS', ctx, cached]]);
    expect(replies[1]).toBe(0);
  });
});

describe('transient problems', () => {
  it('retries the message when the database is unreachable, and does not fail the load', async () => {
    const sent: LoaderMessage[] = [];
    const pub = await startLoad(drivenEnv(sent), 'fdp/packager-example');
    const message = sent.shift() as LoaderMessage;
    const unreachable = drivenEnv([], { OS_CONDUCTOR_ENGINE: 'postgresql://nobody:x@127.0.0.1:1/none' });
    const result = await deliver(unreachable, message);
    expect(result.retryMessages).toHaveLength(1);
    expect(result.explicitAcks).toEqual([]);
    expect((await status(pub.url))?.status).toBe('queued');
    // The next delivery, with the database back, loads the package.
    const e = drivenEnv(sent);
    expect((await deliver(e, message, 2)).retryMessages).toEqual([]);
    await drain(e, sent);
    expect(await status(pub.url)).toMatchObject({ status: 'done', progress: 9 });
  });
});

describe('liveness', () => {
  it('sends a silent load its message again, and the load then completes exactly', async () => {
    const sent: LoaderMessage[] = [];
    const e = drivenEnv(sent);
    const pub = await startLoad(e, 'fdp/uk-cra');
    await deliver(e, sent.shift() as LoaderMessage);
    // The continuation message is lost.
    sent.length = 0;
    const stub = statusStub(env, pub.url);
    const before = await stub.read();
    expect(before?.status).toBe('loading-data');
    await runInDurableObject(stub, (_instance, state) => {
      state.storage.sql.exec('UPDATE load_status SET updated_at = ?', Date.now() - config().OS_LOADER_KICK_AFTER * 1000 - 1000);
    });
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    // The Worker's own queue consumer picks the job up from its checkpoint.
    expect(await waitForEnd(pub.url)).toMatchObject({ status: 'done', progress: 2000 });
    expect(await counts(factTableName(pub.userid, pub.name))).toEqual({ n: '2000', d: '2000', hi: '2000' });
  });
});
