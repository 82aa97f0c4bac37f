/**
 * Signed reads of datastore objects (for server-side readers such as the
 * loader), against the real S3 server, which verifies the signature.
 */
import { describe, expect, it } from 'vitest';
import { objectKey } from '../../src/datastore/paths.ts';
import { presignUpload, storageTarget } from '../../src/datastore/presign.ts';
import { isDatastoreObjectUrl, signedDatastoreRequest } from '../../src/datastore/read.ts';
import { config, newUserId } from '../helpers/app.ts';
import { md5Base64, put, putUrl } from './helpers.ts';

const BODY = 'id,amount\n1,10\n2,20\n';

async function uploaded(): Promise<string> {
  const target = storageTarget(config());
  const md5 = await md5Base64(BODY);
  const signed = await presignUpload(target, {
    key: objectKey(newUserId(), 'ds', 'data.csv'),
    contentMd5: md5,
    expiresIn: 60,
  });
  const res = await put(putUrl({ upload_url: signed.uploadUrl, upload_query: signed.uploadQuery }), BODY, {
    'Content-MD5': md5,
  });
  expect(res.status).toBe(200);
  return signed.uploadUrl;
}

describe('signedDatastoreRequest', () => {
  it('reads an uploaded object with a signature the server accepts', async () => {
    const url = await uploaded();
    const req = await signedDatastoreRequest(storageTarget(config()), url);
    expect(req?.headers.get('authorization')).toMatch(/^AWS4-HMAC-SHA256 Credential=/);
    const res = await fetch(req as Request);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe(BODY);
  });

  it('passes Range through, and HEAD works', async () => {
    const url = await uploaded();
    const target = storageTarget(config());
    const ranged = await fetch((await signedDatastoreRequest(target, url, { headers: { Range: 'bytes=3-' } })) as Request);
    expect(ranged.status).toBe(206);
    expect(await ranged.text()).toBe(BODY.slice(3));
    const head = await fetch((await signedDatastoreRequest(target, url, { method: 'HEAD' })) as Request);
    expect(head.status).toBe(200);
    expect(head.headers.get('content-length')).toBe(String(BODY.length));
  });

  it('is refused by the server when the signature is tampered with', async () => {
    const url = await uploaded();
    const req = (await signedDatastoreRequest(storageTarget(config()), url)) as Request;
    const auth = req.headers.get('authorization') ?? '';
    const headers = new Headers(req.headers);
    headers.set('authorization', auth.replace(/Signature=([0-9a-f])/, (_m, c: string) => `Signature=${c === '0' ? '1' : '0'}`));
    const res = await fetch(url, { headers });
    expect(res.status).toBe(403);
  });

  it.each([
    ['another host', (u: string) => u.replace('127.0.0.1', 'localhost')],
    ['another bucket', (u: string) => u.replace(`/${config().OS_STORAGE_BUCKET_NAME}/`, '/other-bucket/')],
    ['the bucket root', (u: string) => u.slice(0, u.indexOf(`/${config().OS_STORAGE_BUCKET_NAME}/`)) + `/${config().OS_STORAGE_BUCKET_NAME}/`],
    ['https instead of http', (u: string) => u.replace(/^http:/, 'https:')],
    ['not a URL', () => 'not a url'],
  ])('never signs a URL outside the bucket: %s', async (_what, change) => {
    const url = change(await uploaded());
    expect(isDatastoreObjectUrl(storageTarget(config()), url)).toBe(false);
    expect(await signedDatastoreRequest(storageTarget(config()), url)).toBeNull();
  });
});
