/**
 * The multipart plan of POST /datastore/authorize, through the Worker and
 * against the real S3 server: a file that asks for it (or is above
 * OS_MULTIPART_THRESHOLD) gets part URLs besides its usual single-PUT grant.
 * s3rver has no ListParts, so completing is done here with the service's
 * own signing; the complete, abort and resume endpoints are tested against
 * versitygw in multipart-endpoints.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { getSigningKeys } from '../../src/auth/keys.ts';
import { authorizeUpload } from '../../src/datastore/authorize.ts';
import { bucketUrl, signS3Request, storageTarget } from '../../src/datastore/presign.ts';
import { AuthorizeResponse } from '../../src/datastore/schema.ts';
import { config, newUserId, permissionToken } from '../helpers/app.ts';
import { authorizeCall, md5Base64, put, putUrl, readBack } from './helpers.ts';

const MIB = 1024 * 1024;

interface PartGrant {
  part_number: number;
  start: number;
  end: number;
  upload_url: string;
  upload_query: Record<string, string[]>;
}
interface PlanGrant {
  upload_url: string;
  upload_query: Record<string, string[]>;
  multipart?: { upload_id: string; part_size: number; part_count: number; parts: PartGrant[] };
}

function bytesOf(length: number): Uint8Array {
  const bytes = new Uint8Array(length);
  for (let i = 0; i < length; i++) bytes[i] = (i * 7 + (i >> 16)) & 0xff;
  return bytes;
}

async function authorize(owner: string, filedata: Record<string, unknown>): Promise<Response> {
  return authorizeCall({ metadata: { owner, name: 'big-dataset' }, filedata }, { headers: { 'Auth-Token': await permissionToken(owner) } });
}

async function errorOf(res: Response): Promise<string> {
  expect(res.status).toBe(400);
  return ((await res.json()) as { error: string }).error;
}

describe('POST /datastore/authorize multipart plan', () => {
  it('uploads a 3-part file through the presigned part URLs, each with its signed Content-MD5', async () => {
    const owner = newUserId();
    const file = bytesOf(12 * MIB);
    const ranges = [0, 5 * MIB, 10 * MIB, 12 * MIB];
    const partMd5 = await Promise.all([0, 1, 2].map((i) => md5Base64(file.subarray(ranges[i], ranges[i + 1]))));
    const res = await authorize(owner, {
      'data/big.csv': { md5: await md5Base64(file), name: 'big', length: file.length, type: 'text/csv', multipart: true, part_md5: partMd5 },
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { filedata: Record<string, PlanGrant> };
    expect(AuthorizeResponse.safeParse(body).success).toBe(true);
    const grant = body.filedata['data/big.csv'];
    const plan = grant?.multipart;
    expect(plan).toMatchObject({ part_size: 5 * MIB, part_count: 3 });
    expect(plan?.parts.map((p) => [p.part_number, p.start, p.end])).toEqual([
      [1, 0, 5 * MIB],
      [2, 5 * MIB, 10 * MIB],
      [3, 10 * MIB, 12 * MIB],
    ]);
    // The object's URL is the same as the single PUT's.
    for (const part of plan?.parts ?? []) expect(part.upload_url).toBe(grant?.upload_url);

    const etags: string[] = [];
    for (const part of plan?.parts ?? []) {
      expect(part.upload_query['X-Amz-SignedHeaders']).toEqual(['content-md5;host']);
      const md5 = partMd5[part.part_number - 1] ?? '';
      // Another part's bytes under this part's URL are refused.
      const swapped = await put(putUrl(part), file.subarray(0, 10), { 'Content-MD5': md5 });
      expect(swapped.status).toBe(400);
      const ok = await put(putUrl(part), file.subarray(part.start, part.end), { 'Content-MD5': md5 });
      expect(ok.status).toBe(200);
      etags.push(ok.headers.get('ETag') ?? '');
    }
    const target = storageTarget(config());
    const key = `${owner}/big-dataset/data/big.csv`;
    const xml = etags.map((e, i) => `<Part><PartNumber>${i + 1}</PartNumber><ETag>${e}</ETag></Part>`).join('');
    const done = await fetch(
      await signS3Request(target, {
        method: 'POST',
        key,
        query: { uploadId: plan?.upload_id ?? '' },
        body: `<CompleteMultipartUpload>${xml}</CompleteMultipartUpload>`,
      }),
    );
    expect(done.status).toBe(200);
    const back = await readBack(`${bucketUrl(target)}/${key}`);
    expect(back.bytes.length).toBe(file.length);
    expect(await md5Base64(back.bytes)).toBe(await md5Base64(file));
  });

  it('plans a file above the threshold (100 MB) without being asked: 20 parts of 5 MiB, no MD5 signed', async () => {
    const owner = newUserId();
    const res = await authorize(owner, { 'big.csv': { md5: await md5Base64('x'), name: 'big', length: 100_000_001 } });
    expect(res.status).toBe(200);
    const plan = ((await res.json()) as { filedata: Record<string, PlanGrant> }).filedata['big.csv']?.multipart;
    expect(plan?.part_count).toBe(20);
    expect(plan?.parts).toHaveLength(20);
    expect(plan?.parts[19]?.end).toBe(100_000_001);
    expect(plan?.parts[0]?.upload_query['X-Amz-SignedHeaders']).toEqual(['host']);
    expect(new Set(plan?.parts.map((p) => p.upload_query.partNumber?.[0]))).toEqual(new Set(plan?.parts.map((p) => String(p.part_number))));
  });

  it('keeps the answer of files at or below the threshold exactly as before', async () => {
    const owner = newUserId();
    const res = await authorize(owner, {
      'a.csv': { md5: await md5Base64('x'), name: 'a', length: 100_000_000 },
      'b.csv': { md5: await md5Base64('x'), name: 'b', length: 10, multipart: false },
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { filedata: Record<string, object> };
    for (const grant of Object.values(body.filedata)) {
      expect(Object.keys(grant).sort()).toEqual(['length', 'md5', 'name', 'upload_query', 'upload_url']);
    }
  });

  it.each([
    ['per-part digests of the wrong count', { length: 12 * MIB, multipart: true, part_md5: ['1B2M2Y8AsgTpgAmY7PhCfg=='] }, /part_md5: must have 3 digests \(parts of 5242880 bytes\)/],
    ['per-part digests for a single-PUT file', { length: 10, part_md5: ['1B2M2Y8AsgTpgAmY7PhCfg=='] }, /part_md5: only for a file uploaded in parts/],
    ['a digest that is not one', { length: 10, multipart: true, part_md5: ['abc'] }, /part_md5\.0: must be the base64 encoding/],
    ['multipart that is not a boolean', { length: 10, multipart: 'yes' }, /multipart: must be true or false/],
  ])('refuses %s (400)', async (_what, fields, message) => {
    const owner = newUserId();
    const res = await authorize(owner, { 'x.csv': { md5: await md5Base64('x'), name: 'x', ...fields } });
    expect(await errorOf(res)).toMatch(message);
  });

  it('signs the first 100 part URLs of each file until the answer holds 1000; later files get theirs from resume', async () => {
    const owner = newUserId();
    const md5 = await md5Base64('x');
    // 11 files of 5 GiB (1,024 parts each).
    const files = Object.fromEntries(Array.from({ length: 11 }, (_, i) => [`f${i}.csv`, { md5, name: 'f', length: 5 * 1024 * MIB }]));
    const res = await authorize(owner, files);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { filedata: Record<string, PlanGrant & { multipart: { parts_signed: number; resume_url: string } }> };
    const signed = Object.keys(files).map((path) => body.filedata[path]?.multipart.parts_signed);
    expect(signed).toEqual([100, 100, 100, 100, 100, 100, 100, 100, 100, 100, 0]);
    expect(body.filedata['f10.csv']?.multipart.parts).toEqual([]);
    expect(body.filedata['f10.csv']?.multipart.resume_url).toBe('http://conductor.test/datastore/multipart/resume');
  });

  it('refuses more than 100 files in parts in one request (400)', async () => {
    const owner = newUserId();
    const md5 = await md5Base64('x');
    const files = Object.fromEntries(Array.from({ length: 101 }, (_, i) => [`f${i}.csv`, { md5, name: 'f', length: 1, multipart: true }]));
    expect(await errorOf(await authorize(owner, files))).toMatch(/filedata: more than 100 files in parts in one request/);
  });

  it('answers 502 with a JSON error when the storage refuses to start the upload', async () => {
    const owner = newUserId();
    const cfg = config();
    const outcome = await authorizeUpload({
      bodyText: JSON.stringify({ metadata: { owner, name: 'ds' }, filedata: { 'x.csv': { md5: await md5Base64('x'), name: 'x', length: 1, multipart: true } } }),
      token: await permissionToken(owner),
      keys: await getSigningKeys(cfg),
      config: cfg,
      target: { ...storageTarget(cfg), secretAccessKey: 'not-the-secret' },
    });
    expect(outcome).toMatchObject({ ok: false, status: 502, error: expect.stringMatching(/did not start a multipart upload \(S3 answered 403/) });
  });
});
