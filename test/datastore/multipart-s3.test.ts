/**
 * Multipart uploads against the real S3 server that verifies SigV4 (s3rver
 * behind tools/services/s3.ts): the service starts an upload with a signed
 * request, clients PUT parts through presigned part URLs, and what those
 * URLs refuse.
 */
import { describe, expect, it } from 'vitest';
import { partRanges, planParts } from '../../src/datastore/multipart.ts';
import { objectKey } from '../../src/datastore/paths.ts';
import { bucketUrl, presignUploadPart, signS3Request, storageTarget, type PresignPartRequest } from '../../src/datastore/presign.ts';
import { createMultipartUpload, S3CallError } from '../../src/datastore/s3-multipart.ts';
import { config, newUserId } from '../helpers/app.ts';
import { md5Base64, put, putUrl, readBack } from './helpers.ts';

const MIB = 1024 * 1024;
const target = () => storageTarget(config());
const newKey = () => objectKey(newUserId(), 'dataset', 'big/data.csv');

/** Deterministic bytes that differ from part to part. */
function bytesOf(length: number): Uint8Array {
  const bytes = new Uint8Array(length);
  for (let i = 0; i < length; i++) bytes[i] = (i * 31 + (i >> 20)) & 0xff;
  return bytes;
}

async function partUrl(request: Omit<PresignPartRequest, 'expiresIn'> & { expiresIn?: number }): Promise<string> {
  const signed = await presignUploadPart(target(), { expiresIn: 600, ...request });
  return putUrl({ upload_url: signed.uploadUrl, upload_query: signed.uploadQuery });
}

async function s3Code(res: Response): Promise<string> {
  return (/<Code>([^<]+)<\/Code>/.exec(await res.text()) ?? [])[1] ?? `(no code, HTTP ${res.status})`;
}

/** CompleteMultipartUpload, signed as the service will sign it. */
async function complete(key: string, uploadId: string, etags: string[]): Promise<Response> {
  const parts = etags.map((etag, i) => `<Part><PartNumber>${i + 1}</PartNumber><ETag>${etag}</ETag></Part>`).join('');
  const request = await signS3Request(target(), {
    method: 'POST',
    key,
    query: { uploadId },
    headers: { 'Content-Type': 'application/xml' },
    body: `<CompleteMultipartUpload>${parts}</CompleteMultipartUpload>`,
  });
  return fetch(request);
}

describe('multipart upload through presigned part URLs', () => {
  it('uploads a 3-part file (12 MiB, 5 MiB parts) with per-part Content-MD5, and completes it', async () => {
    const key = newKey();
    const file = bytesOf(12 * MIB);
    const plan = planParts(file.length);
    expect(plan.partCount).toBe(3);
    const uploadId = await createMultipartUpload(target(), key, 'text/csv');
    expect(uploadId).not.toBe('');

    const etags: string[] = [];
    for (const range of partRanges(plan)) {
      const part = file.subarray(range.start, range.end);
      const md5 = await md5Base64(part);
      const url = await partUrl({ key, uploadId, partNumber: range.partNumber, contentMd5: md5 });
      const res = await put(url, part, { 'Content-MD5': md5 });
      expect(res.status).toBe(200);
      const etag = res.headers.get('ETag');
      expect(etag).toBeTruthy();
      etags.push(etag ?? '');
    }
    const done = await complete(key, uploadId, etags);
    expect(done.status).toBe(200);
    const back = await readBack(`${bucketUrl(target())}/${key}`);
    expect(back.status).toBe(200);
    expect(back.bytes.length).toBe(file.length);
    expect(await md5Base64(back.bytes)).toBe(await md5Base64(file));
  });

  it('signs partNumber and uploadId into the URL, and Content-MD5 only when given', async () => {
    const withMd5 = await presignUploadPart(target(), { key: newKey(), uploadId: 'abc', partNumber: 7, contentMd5: await md5Base64('x'), expiresIn: 600 });
    expect(withMd5.uploadQuery.partNumber).toEqual(['7']);
    expect(withMd5.uploadQuery.uploadId).toEqual(['abc']);
    expect(withMd5.uploadQuery['X-Amz-SignedHeaders']).toEqual(['content-md5;host']);
    const without = await presignUploadPart(target(), { key: newKey(), uploadId: 'abc', partNumber: 7, expiresIn: 600 });
    expect(without.uploadQuery['X-Amz-SignedHeaders']).toEqual(['host']);
  });

  it('takes a part without Content-MD5 when the URL signed none', async () => {
    const key = newKey();
    const uploadId = await createMultipartUpload(target(), key);
    const res = await put(await partUrl({ key, uploadId, partNumber: 1 }), 'abc', {});
    expect(res.status).toBe(200);
  });

  it('refuses a part sent with another Content-MD5 than the signed one (403)', async () => {
    const key = newKey();
    const uploadId = await createMultipartUpload(target(), key);
    const url = await partUrl({ key, uploadId, partNumber: 1, contentMd5: await md5Base64('abc') });
    const res = await put(url, 'abd', { 'Content-MD5': await md5Base64('abd') });
    expect(res.status).toBe(403);
    expect(await s3Code(res)).toBe('SignatureDoesNotMatch');
  });

  it('refuses a part whose bytes do not match the signed Content-MD5 (400 BadDigest)', async () => {
    const key = newKey();
    const uploadId = await createMultipartUpload(target(), key);
    const md5 = await md5Base64('abc');
    const res = await put(await partUrl({ key, uploadId, partNumber: 1, contentMd5: md5 }), 'abd', { 'Content-MD5': md5 });
    expect(res.status).toBe(400);
    expect(await s3Code(res)).toBe('BadDigest');
  });

  it('refuses a part URL used for another part number (403)', async () => {
    const key = newKey();
    const uploadId = await createMultipartUpload(target(), key);
    const url = new URL(await partUrl({ key, uploadId, partNumber: 2 }));
    url.searchParams.set('partNumber', '3');
    const res = await put(url.toString(), 'abc', {});
    expect(res.status).toBe(403);
  });

  it('refuses an expired part URL (403)', async () => {
    const key = newKey();
    const uploadId = await createMultipartUpload(target(), key);
    const url = await partUrl({ key, uploadId, partNumber: 1, expiresIn: 60, now: new Date(Date.now() - 3600_000) });
    const res = await put(url, 'abc', {});
    expect(res.status).toBe(403);
  });

  it('reports the bucket refusing to start an upload as an S3CallError', async () => {
    const wrong = { ...target(), secretAccessKey: 'not-the-secret' };
    const failure = await createMultipartUpload(wrong, newKey()).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(S3CallError);
    expect((failure as S3CallError).status).toBe(403);
  });

  it.each([
    ['part number 0', { partNumber: 0 }, /partNumber/],
    ['part number 10001', { partNumber: 10_001 }, /partNumber/],
    ['a fractional part number', { partNumber: 1.5 }, /partNumber/],
    ['an empty upload id', { uploadId: '' }, /uploadId/],
    ['a lifetime over 7 days', { expiresIn: 8 * 24 * 3600 }, /expiresIn/],
  ])('refuses to sign %s', async (_what, overrides, message) => {
    await expect(presignUploadPart(target(), { key: newKey(), uploadId: 'u', partNumber: 1, expiresIn: 600, ...overrides })).rejects.toThrow(message);
  });
});
