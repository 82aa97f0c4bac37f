/**
 * Presigned upload URLs against a real S3-compatible server that verifies
 * SigV4 (s3rver): what the URL lets through and what the server refuses.
 */
import { describe, expect, it } from 'vitest';
import { objectKey } from '../../src/datastore/paths.ts';
import { presignUpload, storageTarget, type PresignRequest } from '../../src/datastore/presign.ts';
import { config, newUserId } from '../helpers/app.ts';
import { md5Base64, put, putUrl, readBack } from './helpers.ts';

const CSV = 'year,amount\n2014,1000\n2015,2500\n';

async function grant(overrides: Partial<PresignRequest> & { path?: string } = {}) {
  const target = storageTarget(config());
  const key = overrides.key ?? objectKey(newUserId(), 'dataset', overrides.path ?? 'data/file.csv');
  const signed = await presignUpload(target, {
    key,
    contentMd5: await md5Base64(CSV),
    contentType: 'text/csv',
    expiresIn: 600,
    ...overrides,
  });
  const grantLike = { upload_url: signed.uploadUrl, upload_query: signed.uploadQuery };
  return { key, signed, url: putUrl(grantLike), md5: await md5Base64(CSV) };
}

async function s3Error(res: Response): Promise<string> {
  return (/<Code>([^<]+)<\/Code>/.exec(await res.text()) ?? [])[1] ?? `(no code, HTTP ${res.status})`;
}

describe('presigned PUT URL against a real S3 server', () => {
  it('uploads exactly the bytes sent, readable anonymously at upload_url', async () => {
    const { url, signed, md5 } = await grant();
    const res = await put(url, CSV, { 'Content-MD5': md5, 'Content-Type': 'text/csv' });
    expect(res.status).toBe(200);
    const back = await readBack(signed.uploadUrl);
    expect(back.status).toBe(200);
    expect(new TextDecoder().decode(back.bytes)).toBe(CSV);
  });

  it('puts the object under <bucket>/<key> path-style on the configured host, without a query', async () => {
    const cfg = config();
    const { signed, key } = await grant();
    expect(signed.uploadUrl).toBe(
      `http://${cfg.OS_S3_HOSTNAME}:${cfg.OS_S3_PORT}/${cfg.OS_STORAGE_BUCKET_NAME}/${key}`,
    );
    expect(new URL(signed.uploadUrl).search).toBe('');
  });

  it('gives every query parameter as a one-element array, and signs host, content-md5 and content-type only', async () => {
    const { signed } = await grant();
    for (const values of Object.values(signed.uploadQuery)) expect(values).toHaveLength(1);
    const q = Object.fromEntries(Object.entries(signed.uploadQuery).map(([k, v]) => [k, v[0]]));
    expect(q['X-Amz-Algorithm']).toBe('AWS4-HMAC-SHA256');
    expect(q['X-Amz-Expires']).toBe('600');
    expect(q['X-Amz-SignedHeaders']).toBe('content-md5;content-type;host');
    expect(q['X-Amz-Credential']).toMatch(new RegExp(`^${config().OS_ACCESS_KEY_ID}/\\d{8}/us-east-1/s3/aws4_request$`));
    expect(q['X-Amz-Signature']).toMatch(/^[0-9a-f]{64}$/);
  });

  it('does not sign Content-Type when no type was given, so any (or no) Content-Type is accepted', async () => {
    const { url, signed, md5 } = await grant({ contentType: undefined });
    expect(signed.uploadQuery['X-Amz-SignedHeaders']).toEqual(['content-md5;host']);
    const res = await put(url, new TextEncoder().encode(CSV), { 'Content-MD5': md5 });
    expect(res.status).toBe(200);
    const again = await put(url, CSV, { 'Content-MD5': md5, 'Content-Type': 'text/plain' });
    expect(again.status).toBe(200);
  });

  it('does not sign Content-Length: a PUT passes with or without an explicit Content-Length header', async () => {
    const { url, signed, md5 } = await grant();
    expect(signed.uploadQuery['X-Amz-SignedHeaders']?.[0]).not.toMatch(/content-length/);
    const explicit = await put(url, CSV, {
      'Content-MD5': md5,
      'Content-Type': 'text/csv',
      'Content-Length': String(CSV.length),
    });
    expect(explicit.status).toBe(200);
    // Without the header (os-packager's XHR path) the runtime still sends the real length.
    const implicit = await put(url, CSV, { 'Content-MD5': md5, 'Content-Type': 'text/csv' });
    expect(implicit.status).toBe(200);
    expect(new TextDecoder().decode((await readBack(signed.uploadUrl)).bytes)).toBe(CSV);
  });

  it('keeps unusual characters of a file name intact in the key', async () => {
    const path = "data/été (2014) + q?x#y 'it'.csv";
    const { url, signed, md5, key } = await grant({ path });
    expect(key.endsWith(path)).toBe(true);
    const res = await put(url, CSV, { 'Content-MD5': md5, 'Content-Type': 'text/csv' });
    expect(res.status).toBe(200);
    expect(new TextDecoder().decode((await readBack(signed.uploadUrl)).bytes)).toBe(CSV);
  });

  describe('refused by the server', () => {
    it('a tampered signature', async () => {
      const { url, md5 } = await grant();
      const u = new URL(url);
      const sig = u.searchParams.get('X-Amz-Signature') ?? '';
      u.searchParams.set('X-Amz-Signature', (sig[0] === '0' ? '1' : '0') + sig.slice(1));
      const res = await put(u.toString(), CSV, { 'Content-MD5': md5, 'Content-Type': 'text/csv' });
      expect(res.status).toBe(403);
      expect(await s3Error(res)).toBe('SignatureDoesNotMatch');
    });

    it('the signature used for another key (path)', async () => {
      const { url, signed, md5 } = await grant();
      const other = url.replace(signed.uploadUrl, signed.uploadUrl.replace(/file\.csv$/, 'other.csv'));
      expect(other).not.toBe(url);
      const res = await put(other, CSV, { 'Content-MD5': md5, 'Content-Type': 'text/csv' });
      expect(res.status).toBe(403);
      expect(await s3Error(res)).toBe('SignatureDoesNotMatch');
      expect((await readBack(signed.uploadUrl.replace(/file\.csv$/, 'other.csv'))).status).toBe(404);
    });

    it('another owner prefix', async () => {
      const { url, signed, md5, key } = await grant();
      const owner = key.split('/')[0] ?? '';
      const res = await put(url.replace(`/${owner}/`, `/${newUserId()}/`), CSV, {
        'Content-MD5': md5,
        'Content-Type': 'text/csv',
      });
      expect(res.status).toBe(403);
      expect((await readBack(signed.uploadUrl)).status).toBe(404);
    });

    it('another Content-Type than authorised', async () => {
      const { url, md5 } = await grant();
      const res = await put(url, CSV, { 'Content-MD5': md5, 'Content-Type': 'text/html' });
      expect(res.status).toBe(403);
      expect(await s3Error(res)).toBe('SignatureDoesNotMatch');
    });

    it('no Content-Type when one was authorised', async () => {
      const { url, md5 } = await grant();
      const res = await put(url, new TextEncoder().encode(CSV), { 'Content-MD5': md5 });
      expect(res.status).toBe(403);
    });

    it('another Content-MD5 than authorised', async () => {
      const { url } = await grant();
      const res = await put(url, 'other', { 'Content-MD5': await md5Base64('other'), 'Content-Type': 'text/csv' });
      expect(res.status).toBe(403);
      expect(await s3Error(res)).toBe('SignatureDoesNotMatch');
    });

    it('a body other than the one whose MD5 was authorised (the signed Content-MD5 pins the bytes)', async () => {
      const { url, signed, md5 } = await grant();
      const res = await put(url, CSV.replace('1000', '9999'), { 'Content-MD5': md5, 'Content-Type': 'text/csv' });
      expect(res.status).toBe(400);
      expect(await s3Error(res)).toBe('BadDigest');
      expect((await readBack(signed.uploadUrl)).status).toBe(404);
    });

    it('no Content-MD5', async () => {
      const { url } = await grant();
      const res = await put(url, CSV, { 'Content-Type': 'text/csv' });
      expect(res.status).toBe(403);
    });

    it('an expired URL (signed in the past), while the same time with a longer lifetime still works', async () => {
      const twoHoursAgo = new Date(Date.now() - 2 * 3600 * 1000);
      const expired = await grant({ now: twoHoursAgo, expiresIn: 3600 });
      const res = await put(expired.url, CSV, { 'Content-MD5': expired.md5, 'Content-Type': 'text/csv' });
      expect(res.status).toBe(403);
      expect(await s3Error(res)).toBe('AccessDenied');

      const valid = await grant({ now: twoHoursAgo, expiresIn: 3 * 3600 });
      const ok = await put(valid.url, CSV, { 'Content-MD5': valid.md5, 'Content-Type': 'text/csv' });
      expect(ok.status).toBe(200);
    });

    it('a GET or DELETE with the PUT signature', async () => {
      const { url, signed, md5 } = await grant();
      expect((await put(url, CSV, { 'Content-MD5': md5, 'Content-Type': 'text/csv' })).status).toBe(200);
      const del = await fetch(url, { method: 'DELETE', headers: { 'Content-MD5': md5, 'Content-Type': 'text/csv' } });
      expect(del.status).toBe(403);
      expect((await readBack(signed.uploadUrl)).status).toBe(200);
    });

    it('an unsigned PUT (the bucket is public for reading only)', async () => {
      const { signed } = await grant();
      const res = await put(signed.uploadUrl, CSV, { 'Content-Type': 'text/csv' });
      expect(res.status).toBe(403);
      expect((await readBack(signed.uploadUrl)).status).toBe(404);
    });
  });

  it('refuses to sign for more than the SigV4 maximum of 7 days', async () => {
    await expect(grant({ expiresIn: 7 * 24 * 3600 + 1 })).rejects.toThrow(RangeError);
  });
});
