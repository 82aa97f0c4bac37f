/**
 * The upload flows of the real clients, call for call (api.md §2.1, §2.7,
 * §2.8, §2.9, §2.11), with a real fiscal data package (boost-moldova) and a
 * real S3 server. Each flow ends with the files readable at upload_url.
 */
import { describe, expect, it } from 'vitest';
import { call, newUserId, permissionToken } from '../helpers/app.ts';
import { fixture, md5Base64, putUrl, readBack, type Grant } from './helpers.ts';

const PACKAGE = 'fdp/boost-moldova';
const CSV_PATH = 'data/boost-moldova-2014.csv';

interface PackageFiles {
  csv: Uint8Array;
  descriptor: Uint8Array;
}

/** The package as a client would upload it: the CSV, and the descriptor with owner and author set. */
async function boostMoldova(owner: string, author: string): Promise<PackageFiles> {
  const csv = await fixture(`${PACKAGE}/${CSV_PATH}`);
  const descriptor = JSON.parse(new TextDecoder().decode(await fixture(`${PACKAGE}/datapackage.json`))) as Record<
    string,
    unknown
  >;
  descriptor.owner = owner;
  descriptor.author = author;
  return { csv, descriptor: new TextEncoder().encode(JSON.stringify(descriptor, null, 2)) };
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

async function expectStored(grant: Grant | undefined, bytes: Uint8Array): Promise<void> {
  expect(grant).toBeDefined();
  const back = await readBack(grant?.upload_url ?? '');
  expect(back.status).toBe(200);
  expect(back.bytes.length).toBe(bytes.length);
  expect(equalBytes(back.bytes, bytes)).toBe(true);
}

describe('os-packager (browser): Auth-Token header, text/plain body, one call per file', () => {
  it('uploads the CSV then datapackage.json, each readable at its upload_url, under a /datastore/info prefix', async () => {
    const owner = newUserId();
    const pt = await permissionToken(owner);
    const files = await boostMoldova(owner, 'Moldova Tester');

    // 1. GET /datastore/info?jwt=<PT>
    const info = await call(`/datastore/info?jwt=${encodeURIComponent(pt)}`);
    expect(info.status).toBe(200);
    const { prefixes } = (await info.json()) as { prefixes: string[] };

    // The Auth-Token header triggers a preflight from the browser.
    const preflight = await call('/datastore/', {
      method: 'OPTIONS',
      headers: {
        Origin: 'http://packager.test',
        'Access-Control-Request-Method': 'POST',
        'Access-Control-Request-Headers': 'auth-token',
      },
    });
    expect(preflight.status).toBeLessThan(300);
    expect(preflight.headers.get('access-control-allow-headers')?.toLowerCase()).toContain('auth-token');

    const uploaded: Record<string, string> = {};
    for (const [fileName, bytes] of [
      [CSV_PATH, files.csv],
      ['datapackage.json', files.descriptor],
    ] as const) {
      // 2. POST /datastore/ with a string body: fetch sends text/plain;charset=UTF-8.
      const body = JSON.stringify({
        metadata: { owner, name: 'boost-moldova', author: 'boost-moldova' },
        filedata: {
          [fileName]: {
            md5: await md5Base64(bytes),
            name: fileName.split('/').pop(),
            length: bytes.length,
            type: 'application/octet-stream',
          },
        },
      });
      const res = await call('/datastore/', {
        method: 'POST',
        body,
        headers: { 'Auth-Token': pt, Origin: 'http://packager.test' },
      });
      expect(res.status).toBe(200);
      const grant = ((await res.json()) as { filedata: Record<string, Grant> }).filedata[fileName];
      expect(grant).toBeDefined();
      if (!grant) return;

      // 3. PUT <upload_url>?<_.first of each value> with Content-MD5 and Content-Type: application/octet-stream.
      const put = await fetch(putUrl(grant), {
        method: 'PUT',
        body: bytes,
        headers: { 'Content-MD5': grant.md5, 'Content-Type': 'application/octet-stream' },
      });
      expect(put.status).toBe(200);
      await expectStored(grant, bytes);
      uploaded[fileName] = grant.upload_url;
    }
    // 4. The datapackage URL handed to /package/upload is the upload_url, under a datastore prefix.
    const datapackageUrl = uploaded['datapackage.json'] ?? '';
    expect(datapackageUrl.endsWith(`/${owner}/boost-moldova/datapackage.json`)).toBe(true);
    expect(prefixes.some((p) => datapackageUrl.startsWith(`${p}/`))).toBe(true);
  });
});

describe('gobble (Python CLI): jwt in the query, application/json, all files in one call', () => {
  it('uploads every file with the echoed type as Content-Type and an explicit Content-Length', async () => {
    const owner = newUserId();
    const pt = await permissionToken(owner);
    const files = await boostMoldova(owner, 'Gobble User');
    const res = await call(`/datastore/?jwt=${encodeURIComponent(pt)}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({
        filedata: {
          [CSV_PATH]: {
            name: 'boost-moldova-2014.csv',
            length: files.csv.length,
            md5: await md5Base64(files.csv),
            type: 'text/csv',
          },
          'datapackage.json': {
            name: 'datapackage.json',
            length: files.descriptor.length,
            md5: await md5Base64(files.descriptor),
            type: 'application/octet-stream',
          },
        },
        metadata: { owner, name: 'boost-moldova' },
      }),
    });
    expect(res.status).toBe(200);
    const { filedata } = (await res.json()) as { filedata: Record<string, Grant> };
    expect(Object.keys(filedata).sort()).toEqual([CSV_PATH, 'datapackage.json']);

    for (const [path, bytes] of [
      [CSV_PATH, files.csv],
      ['datapackage.json', files.descriptor],
    ] as const) {
      const grant = filedata[path];
      if (!grant) throw new Error(`no grant for ${path}`);
      // gobble: v[0] of each upload_query entry; headers from the echoed fields.
      const put = await fetch(putUrl(grant), {
        method: 'PUT',
        body: bytes,
        headers: {
          'Content-Length': String(grant.length),
          'Content-MD5': grant.md5,
          'Content-Type': grant.type ?? '',
        },
      });
      expect(put.status).toBe(200);
      await expectStored(grant, bytes);
    }
  });
});

describe('vulekamali automation: lower-case auth-token, application/json, one call per file', () => {
  it('uploads with Content-MD5 taken from the md5 echoed in the response', async () => {
    const owner = newUserId();
    const pt = await permissionToken(owner);
    const files = await boostMoldova(owner, 'Vulekamali');
    for (const [name, bytes] of [
      ['boost-moldova-2014.csv', files.csv],
      ['data_package.json', files.descriptor],
    ] as const) {
      const res = await call('/datastore/', {
        method: 'POST',
        headers: { 'auth-token': pt, 'Content-Type': 'application/json' },
        body: JSON.stringify({
          metadata: { owner, name: 'boost-moldova', author: 'Vulekamali' },
          filedata: {
            [name]: { md5: await md5Base64(bytes), name, length: bytes.length, type: 'application/octet-stream' },
          },
        }),
      });
      expect(res.status).toBe(200);
      const grant = ((await res.json()) as { filedata: Record<string, Grant> }).filedata[name];
      if (!grant) throw new Error(`no grant for ${name}`);
      // urlencode({k: v[0]}), then PUT with content-type and the echoed md5.
      const query = new URLSearchParams(Object.entries(grant.upload_query).map(([k, v]) => [k, v[0] ?? '']));
      const put = await fetch(`${grant.upload_url}?${query.toString()}`, {
        method: 'PUT',
        body: bytes,
        headers: { 'content-type': 'application/octet-stream', 'Content-MD5': grant.md5 },
      });
      expect(put.status).toBe(200);
      await expectStored(grant, bytes);
    }
  });
});

describe('os-cli (legacy): no Content-Type, length as a string, no type', () => {
  it('uploads with only Content-Length and Content-MD5 when the token is in the authorize URL', async () => {
    const owner = newUserId();
    const pt = await permissionToken(owner);
    const files = await boostMoldova(owner, 'CLI User');
    const md5 = await md5Base64(files.csv);
    const res = await call(`/datastore/?jwt=${encodeURIComponent(pt)}`, {
      method: 'POST',
      // A byte body: no Content-Type header at all, like requests' data=json.dumps(...).
      body: new TextEncoder().encode(
        JSON.stringify({
          metadata: { name: 'boost-moldova', owner },
          filedata: { [CSV_PATH]: { name: 'boost-moldova-2014.csv', length: String(files.csv.length), md5 } },
        }),
      ),
    });
    expect(res.status).toBe(200);
    const grant = ((await res.json()) as { filedata: Record<string, Grant> }).filedata[CSV_PATH];
    expect(grant?.length).toBe(String(files.csv.length));
    if (!grant) return;
    const put = await fetch(putUrl(grant), {
      method: 'PUT',
      body: files.csv,
      headers: { 'Content-Length': grant.length.toString(), 'Content-MD5': grant.md5 },
    });
    expect(put.status).toBe(200);
    await expectStored(grant, files.csv);
  });
});

describe('bucket CORS for browser uploads', () => {
  it('answers the browser preflight of a PUT with Content-MD5 and Content-Type from any origin', async () => {
    const owner = newUserId();
    const pt = await permissionToken(owner);
    const res = await call('/datastore/', {
      method: 'POST',
      headers: { 'Auth-Token': pt },
      body: JSON.stringify({
        metadata: { owner, name: 'cors' },
        filedata: { 'x.csv': { md5: await md5Base64('x'), name: 'x.csv', length: 1, type: 'text/csv' } },
      }),
    });
    const grant = ((await res.json()) as { filedata: Record<string, Grant> }).filedata['x.csv'];
    const preflight = await fetch(putUrl(grant ?? { upload_url: '', upload_query: {} }), {
      method: 'OPTIONS',
      headers: {
        Origin: 'https://openspending.example',
        'Access-Control-Request-Method': 'PUT',
        'Access-Control-Request-Headers': 'content-md5,content-type',
      },
    });
    expect(preflight.status).toBe(200);
    expect(preflight.headers.get('access-control-allow-origin')).toBeTruthy();
    expect(preflight.headers.get('access-control-allow-methods')).toMatch(/PUT/);
  });
});
