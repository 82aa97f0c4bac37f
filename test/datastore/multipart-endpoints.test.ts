/**
 * Resumable multipart uploads end to end through the Worker: authorize →
 * PUT parts → complete, resume after an interrupted part, a wrong part
 * refused at complete, abort, the cron's cleanup, and who may do what.
 * Against versitygw (tools/services/versitygw.ts), a real S3 server with the
 * whole multipart API that verifies SigV4 (also presigned) and Content-MD5
 * and refuses parts under 5 MiB at complete. Its bucket is not publicly
 * readable: objects are read back with a signed GET.
 *
 * Tests in this file run one after another; no other file uses this server,
 * so the cron test may abort everything in its bucket.
 */
import { env } from 'cloudflare:workers';
import { createScheduledController } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import worker from '../../src/index.ts';
import { getSigningKeys } from '../../src/auth/keys.ts';
import { signUploadToken } from '../../src/auth/tokens.ts';
import { getConfig } from '../../src/config.ts';
import { signS3Request, storageTarget } from '../../src/datastore/presign.ts';
import { createMultipartUpload } from '../../src/datastore/s3-multipart.ts';
import { abortStaleUploads } from '../../src/datastore/uploads.ts';
import { AbortResponse, AuthorizeResponse, CompleteResponse, ResumeResponse } from '../../src/datastore/schema.ts';
import type { Env } from '../../src/env.ts';
import { callWith, newUserId, permissionToken } from '../helpers/app.ts';
import { md5Base64, put, putUrl } from './helpers.ts';

const MIB = 1024 * 1024;

function binding(name: string): string {
  const value = env[`OS_TEST_MULTIPART_S3_${name}`];
  if (!value) throw new Error(`OS_TEST_MULTIPART_S3_${name} is not bound: the multipart S3 server did not start (test/services.ts)`);
  return value;
}

/** The test bindings with the datastore pointed at the multipart S3 server. */
function multipartEnv(extra: Record<string, string> = {}): Env {
  return {
    ...env,
    OS_S3_HOSTNAME: binding('HOSTNAME'),
    OS_S3_PORT: binding('PORT'),
    OS_S3_SCHEME: 'http',
    OS_ACCESS_KEY_ID: binding('ACCESS_KEY_ID'),
    OS_SECRET_ACCESS_KEY: binding('SECRET_ACCESS_KEY'),
    OS_STORAGE_BUCKET_NAME: binding('BUCKET'),
    ...extra,
  } as Env;
}
const ENV = multipartEnv();
const target = () => storageTarget(getConfig(ENV));

interface Part {
  part_number: number;
  start: number;
  end: number;
  upload_url: string;
  upload_query: Record<string, string[]>;
}
interface Plan {
  upload_id: string;
  upload_token: string;
  part_size: number;
  part_count: number;
  parts: Part[];
  parts_signed: number;
  complete_url: string;
  abort_url: string;
  resume_url: string;
}
interface Resumed {
  stored: Array<{ part_number: number; size: number }>;
  parts: Part[];
  parts_remaining: number;
}

function bytesOf(length: number, seed = 1): Uint8Array {
  const bytes = new Uint8Array(length);
  for (let i = 0; i < length; i++) bytes[i] = (i * 13 + seed + (i >> 18)) & 0xff;
  return bytes;
}

/** The 5/5/2 MiB digests of a 12 MiB file. */
async function partDigests(file: Uint8Array, partSize = 5 * MIB): Promise<string[]> {
  const out: string[] = [];
  for (let start = 0; start < file.length; start += partSize) out.push(await md5Base64(file.subarray(start, start + partSize)));
  return out;
}

async function authorize(owner: string, file: Record<string, unknown>, path = 'data/big.csv'): Promise<{ res: Response; plan?: Plan }> {
  const res = await callWith(ENV, '/datastore/authorize', {
    method: 'POST',
    headers: { 'Auth-Token': await permissionToken(owner) },
    body: JSON.stringify({ metadata: { owner, name: 'big-dataset' }, filedata: { [path]: { md5: await md5Base64('whole'), name: 'big', ...file } } }),
  });
  if (res.status !== 200) return { res };
  const body = (await res.clone().json()) as { filedata: Record<string, { multipart?: Plan }> };
  expect(AuthorizeResponse.safeParse(body).success).toBe(true);
  return { res, plan: body.filedata[path]?.multipart };
}

/** POSTs to one of the plan's endpoint URLs (the Worker under test serves them). */
async function post(url: string, owner: string | null, body: unknown, token?: string): Promise<Response> {
  const headers: Record<string, string> = {};
  const auth = token ?? (owner !== null ? await permissionToken(owner) : undefined);
  if (auth !== undefined) headers['Auth-Token'] = auth;
  return callWith(ENV, new URL(url).pathname, { method: 'POST', headers, body: typeof body === 'string' ? body : JSON.stringify(body) });
}

async function readObject(key: string): Promise<{ status: number; bytes: Uint8Array; type: string | null }> {
  const res = await fetch(await signS3Request(target(), { method: 'GET', key }));
  return { status: res.status, bytes: new Uint8Array(await res.arrayBuffer()), type: res.headers.get('content-type') };
}

async function sendPart(part: Part, file: Uint8Array, md5?: string): Promise<Response> {
  return put(putUrl(part), file.subarray(part.start, part.end), md5 ? { 'Content-MD5': md5 } : {});
}

describe('multipart upload endpoints (real S3 server with the multipart API)', () => {
  it('uploads a 3-part file end to end: authorize, PUT each part with its Content-MD5, complete', async () => {
    const owner = newUserId();
    const file = bytesOf(12 * MIB);
    const digests = await partDigests(file);
    const { plan } = await authorize(owner, { length: file.length, type: 'text/csv', multipart: true, part_md5: digests });
    expect(plan).toMatchObject({ part_size: 5 * MIB, part_count: 3, parts_signed: 3 });
    expect(plan?.complete_url).toBe('http://conductor.test/datastore/multipart/complete');
    for (const part of plan?.parts ?? []) {
      expect((await sendPart(part, file, digests[part.part_number - 1])).status).toBe(200);
    }
    const done = await post(plan!.complete_url, owner, { upload_token: plan!.upload_token });
    expect(done.status).toBe(200);
    const body = await done.json();
    expect(CompleteResponse.parse(body)).toEqual({
      upload_url: expect.stringMatching(new RegExp(`/${owner}/big-dataset/data/big\\.csv$`)),
      length: file.length,
      part_count: 3,
    });
    const back = await readObject(`${owner}/big-dataset/data/big.csv`);
    expect(back.status).toBe(200);
    expect(back.type).toBe('text/csv');
    expect(back.bytes.length).toBe(file.length);
    expect(await md5Base64(back.bytes)).toBe(await md5Base64(file));
    // Done once: the upload is gone.
    expect((await post(plan!.complete_url, owner, { upload_token: plan!.upload_token })).status).toBe(404);
  });

  it('resumes after an interrupted part: resume lists the stored parts and signs fresh URLs for the rest only', async () => {
    const owner = newUserId();
    const file = bytesOf(12 * MIB, 7);
    const digests = await partDigests(file);
    const { plan } = await authorize(owner, { length: file.length, multipart: true, part_md5: digests });
    const [one, two, three] = plan!.parts;
    expect((await sendPart(one!, file, digests[0])).status).toBe(200);
    expect((await sendPart(three!, file, digests[2])).status).toBe(200);
    // Part 2's connection drops after 1 MiB of its 5 MiB.
    let sent = 0;
    const dropping = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent >= MIB) {
          controller.error(new Error('connection dropped'));
          return;
        }
        controller.enqueue(file.subarray(two!.start + sent, two!.start + sent + 256 * 1024));
        sent += 256 * 1024;
      },
    });
    const interrupted = await fetch(putUrl(two!), {
      method: 'PUT',
      body: dropping,
      headers: { 'Content-MD5': digests[1]!, 'Content-Length': String(5 * MIB) },
    }).then(
      (r) => r.status,
      () => 'failed',
    );
    expect(interrupted).not.toBe(200);

    const res = await post(plan!.resume_url, owner, { upload_token: plan!.upload_token, part_md5: digests });
    expect(res.status).toBe(200);
    const resumed = ResumeResponse.parse(await res.json()) as Resumed;
    expect(resumed.stored).toEqual([
      { part_number: 1, size: 5 * MIB },
      { part_number: 3, size: 2 * MIB },
    ]);
    expect(resumed.parts.map((p) => [p.part_number, p.start, p.end])).toEqual([[2, 5 * MIB, 10 * MIB]]);
    expect(resumed.parts_remaining).toBe(0);
    // The fresh URL signs part 2's digest again.
    expect(resumed.parts[0]?.upload_query['X-Amz-SignedHeaders']).toEqual(['content-md5;host']);
    expect((await sendPart(resumed.parts[0]!, file, digests[1])).status).toBe(200);

    expect((await post(plan!.complete_url, owner, { upload_token: plan!.upload_token })).status).toBe(200);
    const back = await readObject(`${owner}/big-dataset/data/big.csv`);
    expect(await md5Base64(back.bytes)).toBe(await md5Base64(file));
  });

  it('refuses to complete with a short or missing part (409 naming it), and completes once it is sent again', async () => {
    const owner = newUserId();
    const file = bytesOf(12 * MIB, 3);
    const { plan } = await authorize(owner, { length: file.length, multipart: true });
    const [one, two] = plan!.parts;
    // Part 2 sent short (1 MiB of its 5), part 3 not at all.
    expect((await put(putUrl(two!), file.subarray(two!.start, two!.start + MIB), {})).status).toBe(200);
    expect((await sendPart(one!, file)).status).toBe(200);
    let res = await post(plan!.complete_url, owner, { upload_token: plan!.upload_token });
    expect(res.status).toBe(409);
    expect(await res.json()).toEqual({ error: `part 2 has ${MIB} bytes, the plan says ${5 * MIB}`, part_number: 2 });

    expect((await sendPart(two!, file)).status).toBe(200); // a PUT of the same part replaces it
    res = await post(plan!.complete_url, owner, { upload_token: plan!.upload_token });
    expect(res.status).toBe(409);
    expect(await res.json()).toEqual({ error: 'part 3 is missing', part_number: 3 });

    const resumed = (await (await post(plan!.resume_url, owner, { upload_token: plan!.upload_token })).json()) as Resumed;
    expect(resumed.parts.map((p) => p.part_number)).toEqual([3]);
    expect((await sendPart(resumed.parts[0]!, file)).status).toBe(200);
    expect((await post(plan!.complete_url, owner, { upload_token: plan!.upload_token })).status).toBe(200);
    const back = await readObject(`${owner}/big-dataset/data/big.csv`);
    expect(await md5Base64(back.bytes)).toBe(await md5Base64(file));
  });

  it('aborts an upload: its parts are dropped, its part URLs refused, and complete and resume answer 404', async () => {
    const owner = newUserId();
    const file = bytesOf(12 * MIB, 5);
    const { plan } = await authorize(owner, { length: file.length, multipart: true });
    expect((await sendPart(plan!.parts[0]!, file)).status).toBe(200);
    const res = await post(plan!.abort_url, owner, { upload_token: plan!.upload_token });
    expect(res.status).toBe(200);
    expect(AbortResponse.parse(await res.json())).toEqual({ aborted: true, upload_id: plan!.upload_id });
    // A small body: the server answers before reading a large one and drops the connection.
    const late = await put(putUrl(plan!.parts[1]!), 'abc', {});
    expect(late.status).toBe(404);
    expect(await late.text()).toContain('NoSuchUpload');
    for (const url of [plan!.complete_url, plan!.resume_url, plan!.abort_url]) {
      const again = await post(url, owner, { upload_token: plan!.upload_token });
      expect(again.status).toBe(404);
      expect(await again.json()).toEqual({ error: 'no such upload: it was completed, aborted or has expired' });
    }
    expect((await readObject(`${owner}/big-dataset/data/big.csv`)).status).toBe(404);
  });

  it('signs only the first 100 part URLs of a large plan, and resume signs the next 1000', async () => {
    const owner = newUserId();
    // 6 GiB, above one PUT's limit: 1,229 parts of 5 MiB.
    const { plan } = await authorize(owner, { length: 6 * 1024 * MIB });
    expect(plan).toMatchObject({ part_size: 5 * MIB, part_count: 1229, parts_signed: 100 });
    expect(plan?.parts.map((p) => p.part_number)).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
    const res = await post(plan!.resume_url, owner, { upload_token: plan!.upload_token });
    const resumed = (await res.json()) as Resumed;
    expect(resumed.stored).toEqual([]);
    expect(resumed.parts).toHaveLength(1000);
    expect(resumed.parts[999]).toMatchObject({ part_number: 1000, start: 999 * 5 * MIB, end: 1000 * 5 * MIB });
    expect(resumed.parts_remaining).toBe(229);
    expect((await post(plan!.abort_url, owner, { upload_token: plan!.upload_token })).status).toBe(200);
  });

  it('refuses the upload token of another user’s upload (401) and leaves that upload alone', async () => {
    const owner = newUserId();
    const other = newUserId();
    const { plan } = await authorize(owner, { length: 12 * MIB, multipart: true });
    for (const url of [plan!.complete_url, plan!.abort_url, plan!.resume_url]) {
      const res = await post(url, other, { upload_token: plan!.upload_token });
      expect(res.status).toBe(401);
      expect(await res.json()).toEqual({ error: 'the upload is not the token user’s' });
    }
    // Still there for its owner.
    expect((await post(plan!.resume_url, owner, { upload_token: plan!.upload_token })).status).toBe(200);
    expect((await post(plan!.abort_url, owner, { upload_token: plan!.upload_token })).status).toBe(200);
  });

  it('refuses a forged, expired or foreign upload token and a missing, expired or wrong permission token (401)', async () => {
    const owner = newUserId();
    const { plan } = await authorize(owner, { length: 12 * MIB, multipart: true });
    const token = plan!.upload_token;
    const [header, payload, signature] = token.split('.');
    const claims = JSON.parse(atob(payload!.replace(/-/g, '+').replace(/_/g, '/'))) as Record<string, unknown>;
    const reencode = (o: unknown) => btoa(JSON.stringify(o)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
    // The same signature over a payload naming another key of the owner's folder.
    const forged = `${header}.${reencode({ ...claims, key: `${owner}/other/file.csv` })}.${signature}`;
    const config = getConfig(ENV);
    const keys = await getSigningKeys(config);
    const expired = await signUploadToken(keys, config, { userid: owner, key: String(claims.key), uploadId: plan!.upload_id, length: 12 * MIB }, -10);
    const badTokens: Array<[string, string]> = [
      ['forged', forged],
      ['expired', expired],
      ['a permission token instead', await permissionToken(owner)],
      ['garbage', 'not-a-token'],
    ];
    for (const [what, bad] of badTokens) {
      const res = await post(plan!.complete_url, owner, { upload_token: bad });
      expect(res.status, what).toBe(401);
      expect(await res.json(), what).toEqual({ error: 'upload_token is not a valid, unexpired upload token of this service' });
    }
    const badPermissions: Array<[string, string | undefined]> = [
      ['none', undefined],
      ['expired', await permissionToken(owner, 'os.datastore', { 'datapackage-upload': true }, -10)],
      ['without datapackage-upload', await permissionToken(owner, 'os.datastore', {})],
      ['of another service', await permissionToken(owner, 'os.conductor', { 'datapackage-upload': true })],
      ['the upload token itself', token],
    ];
    for (const [what, bad] of badPermissions) {
      const res = await callWith(ENV, '/datastore/multipart/abort', {
        method: 'POST',
        headers: bad !== undefined ? { 'Auth-Token': bad } : {},
        body: JSON.stringify({ upload_token: token }),
      });
      expect(res.status, what).toBe(401);
    }
    // None of that touched the upload.
    expect((await post(plan!.abort_url, owner, { upload_token: token })).status).toBe(200);
  });

  it.each([
    ['a body that is not JSON', '{', 'request body is not valid JSON'],
    ['no upload_token', {}, 'upload_token: is missing'],
    ['an upload_token that is not a string', { upload_token: 5 }, 'upload_token: must be a string'],
  ])('refuses %s (400)', async (_what, body, error) => {
    const owner = newUserId();
    const { plan } = await authorize(owner, { length: 12 * MIB, multipart: true });
    const res = await post(plan!.complete_url, owner, body);
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ error });
    await post(plan!.abort_url, owner, { upload_token: plan!.upload_token });
  });

  it('refuses per-part digests of the wrong count at resume (400)', async () => {
    const owner = newUserId();
    const { plan } = await authorize(owner, { length: 12 * MIB, multipart: true });
    const res = await post(plan!.resume_url, owner, { upload_token: plan!.upload_token, part_md5: ['1B2M2Y8AsgTpgAmY7PhCfg=='] });
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ error: `part_md5: must have 3 digests (parts of ${5 * MIB} bytes)` });
    await post(plan!.abort_url, owner, { upload_token: plan!.upload_token });
  });

  it('cleanup aborts only uploads older than the age, and at most its bound per run', async () => {
    const owner = newUserId();
    const keys = [1, 2, 3].map((i) => `${owner}/ds/file-${i}.csv`);
    for (const key of keys) await createMultipartUpload(target(), key);
    const young = await abortStaleUploads(target(), { maxAgeSeconds: 3600, prefix: `${owner}/` });
    expect(young).toEqual({ seen: 3, aborted: 0, failed: 0, more: false });
    // As if two hours had passed, with room for two aborts this run.
    const later = new Date(Date.now() + 2 * 3600_000);
    const first = await abortStaleUploads(target(), { maxAgeSeconds: 3600, prefix: `${owner}/`, now: later, maxAborts: 2 });
    expect(first).toMatchObject({ aborted: 2, failed: 0, more: true });
    const second = await abortStaleUploads(target(), { maxAgeSeconds: 3600, prefix: `${owner}/`, now: later });
    expect(second).toEqual({ seen: 1, aborted: 1, failed: 0, more: false });
    expect(await abortStaleUploads(target(), { maxAgeSeconds: 3600, prefix: `${owner}/`, now: later })).toEqual({
      seen: 0,
      aborted: 0,
      failed: 0,
      more: false,
    });
  });

  it('the cron aborts unfinished uploads older than OS_MULTIPART_MAX_AGE, and leaves younger ones', async () => {
    const owner = newUserId();
    const { plan: old } = await authorize(owner, { length: 12 * MIB, multipart: true }, 'old.csv');
    expect((await post(old!.resume_url, owner, { upload_token: old!.upload_token })).status).toBe(200);
    // The server's Initiated times have whole seconds.
    await new Promise((r) => setTimeout(r, 2100));
    const { plan: fresh } = await authorize(owner, { length: 12 * MIB, multipart: true }, 'fresh.csv');
    await worker.scheduled(createScheduledController({ cron: '*/5 * * * *' }), multipartEnv({ OS_MULTIPART_MAX_AGE: '2' }));
    expect((await post(old!.resume_url, owner, { upload_token: old!.upload_token })).status).toBe(404);
    expect((await post(fresh!.resume_url, owner, { upload_token: fresh!.upload_token })).status).toBe(200);
    await post(fresh!.abort_url, owner, { upload_token: fresh!.upload_token });
  });
});
