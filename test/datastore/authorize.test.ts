/**
 * POST /datastore/ and /datastore/authorize, GET /datastore/info through the
 * Worker: response shape, token rules and every refusal (api.md §1.3 rows
 * 8–9, §3 quirks 2–7 and 23; security.md).
 */
import { describe, expect, it } from 'vitest';
import { config, newUserId, permissionToken, userToken, call } from '../helpers/app.ts';
import { AuthorizeResponse } from '../../src/datastore/schema.ts';
import { authorizeCall, md5Base64, uploadRequest, type Grant } from './helpers.ts';

const MD5 = await md5Base64('a,b\n1,2\n');

function oneFile(owner: string, file: Record<string, unknown> = {}, path = 'data/x.csv') {
  return uploadRequest(owner, 'my-dataset', {
    [path]: { md5: MD5, name: 'x', length: 8, ...file } as { md5: string; name: string; length: number },
  });
}

async function expectError(res: Response, status: number, pattern?: RegExp): Promise<string> {
  expect(res.status).toBe(status);
  expect(res.headers.get('content-type')).toMatch(/^application\/json/);
  const body = (await res.json()) as { error?: unknown };
  expect(typeof body.error).toBe('string');
  if (pattern) expect(body.error).toMatch(pattern);
  return body.error as string;
}

describe('POST /datastore/ success', () => {
  it('answers {"filedata": {path: {md5, name, length, type, upload_url, upload_query}}} as application/json', async () => {
    const owner = newUserId();
    const token = await permissionToken(owner);
    const res = await authorizeCall(oneFile(owner, { type: 'text/csv' }), { headers: { 'Auth-Token': token } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(res.headers.get('cache-control')).toBe('no-store');
    const body = (await res.json()) as { filedata: Record<string, Grant> };
    expect(AuthorizeResponse.safeParse(body).success).toBe(true); // the documented schema
    expect(Object.keys(body)).toEqual(['filedata']);
    const grant = body.filedata['data/x.csv'];
    expect(grant).toBeDefined();
    expect(Object.keys(grant ?? {}).sort()).toEqual(['length', 'md5', 'name', 'type', 'upload_query', 'upload_url']);
    const cfg = config();
    expect(grant?.upload_url).toBe(
      `http://${cfg.OS_S3_HOSTNAME}:${cfg.OS_S3_PORT}/${cfg.OS_STORAGE_BUCKET_NAME}/${owner}/my-dataset/data/x.csv`,
    );
    for (const v of Object.values(grant?.upload_query ?? {})) {
      expect(Array.isArray(v)).toBe(true);
      expect(v).toHaveLength(1);
    }
  });

  it('expires upload URLs after OS_UPLOAD_URL_TTL (1 hour by default)', async () => {
    const owner = newUserId();
    const res = await authorizeCall(oneFile(owner), { headers: { 'Auth-Token': await permissionToken(owner) } });
    const body = (await res.json()) as { filedata: Record<string, Grant> };
    expect(body.filedata['data/x.csv']?.upload_query['X-Amz-Expires']).toEqual([String(config().OS_UPLOAD_URL_TTL)]);
    expect(config().OS_UPLOAD_URL_TTL).toBe(3600);
  });

  it.each([
    ['a number', 1234],
    ['a numeric string (as os-cli sends)', '1234'],
    ['zero', 0],
  ])('echoes md5, name and length as given when length is %s, and omits type when none was sent', async (_what, length) => {
    const owner = newUserId();
    const res = await authorizeCall(oneFile(owner, { length, name: 'Été 2014.csv' }), {
      headers: { 'Auth-Token': await permissionToken(owner) },
    });
    expect(res.status).toBe(200);
    const grant = ((await res.json()) as { filedata: Record<string, Grant> }).filedata['data/x.csv'];
    expect(grant?.length).toStrictEqual(length);
    expect(grant?.md5).toBe(MD5);
    expect(grant?.name).toBe('Été 2014.csv');
    expect(grant && 'type' in grant).toBe(false);
  });

  it('answers POST /datastore/authorize exactly like POST /datastore/', async () => {
    const owner = newUserId();
    const token = await permissionToken(owner);
    const res = await authorizeCall(oneFile(owner), { path: '/datastore/authorize', headers: { 'Auth-Token': token } });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { filedata: Record<string, Grant> };
    expect(body.filedata['data/x.csv']?.upload_url).toMatch(new RegExp(`/${owner}/my-dataset/data/x\\.csv$`));
  });

  it('accepts the body as JSON whatever the Content-Type: text/plain, none, application/json', async () => {
    const owner = newUserId();
    const token = await permissionToken(owner);
    const text = JSON.stringify(oneFile(owner));
    const bodies: Array<[string, BodyInit, Record<string, string>]> = [
      ['text/plain', text, { 'Content-Type': 'text/plain;charset=UTF-8' }],
      ['none', new TextEncoder().encode(text), {}],
      ['application/json', text, { 'Content-Type': 'application/json' }],
    ];
    for (const [what, body, headers] of bodies) {
      const res = await call('/datastore/', { method: 'POST', body, headers: { ...headers, 'Auth-Token': token } });
      expect(res.status, what).toBe(200);
    }
  });

  it('never answers JSONP, even with a callback parameter', async () => {
    const owner = newUserId();
    const res = await authorizeCall(oneFile(owner), {
      query: 'callback=cb',
      headers: { 'Auth-Token': await permissionToken(owner) },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await res.text()).toMatch(/^\{"filedata"/);
  });

  it('refuses a file whose path is "__proto__" instead of silently dropping it', async () => {
    const owner = newUserId();
    const res = await authorizeCall(
      `{"metadata":{"owner":"${owner}","name":"d"},"filedata":{"__proto__":{"md5":"${MD5}","name":"p","length":1}}}`,
      { headers: { 'Auth-Token': await permissionToken(owner) } },
    );
    await expectError(res, 400, /filedata\["__proto__"\]: path is a reserved name/);
  });

  it('grants up to 1000 files in one call', async () => {
    const owner = newUserId();
    const files: Record<string, { md5: string; name: string; length: number }> = {};
    for (let i = 0; i < 1000; i++) files[`data/part-${i}.csv`] = { md5: MD5, name: `part-${i}`, length: i };
    const started = Date.now();
    const res = await authorizeCall(uploadRequest(owner, 'big', files), {
      headers: { 'Auth-Token': await permissionToken(owner) },
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { filedata: Record<string, Grant> };
    expect(Object.keys(body.filedata)).toHaveLength(1000);
    console.log(`datastore: 1000 presigned URLs in ${Date.now() - started} ms`);
  });
});

describe('POST /datastore/ token rules', () => {
  it('reads the token from the Auth-Token header in any case (vulekamali sends auth-token)', async () => {
    const owner = newUserId();
    const token = await permissionToken(owner);
    for (const name of ['Auth-Token', 'auth-token', 'AUTH-TOKEN']) {
      const res = await authorizeCall(oneFile(owner), { headers: { [name]: token } });
      expect(res.status, name).toBe(200);
    }
  });

  it('reads the token from jwt in the query', async () => {
    const owner = newUserId();
    const token = await permissionToken(owner);
    expect((await authorizeCall(oneFile(owner), { query: `jwt=${encodeURIComponent(token)}` })).status).toBe(200);
  });

  it('reads jwt from a form-encoded body too (request.values), while the same bytes must still be JSON', async () => {
    const owner = newUserId();
    const token = await permissionToken(owner);
    // A JSON text that also parses as a form with a jwt field.
    const body = JSON.stringify({ ...(oneFile(owner) as object), pad: `&jwt=${token}&` });
    const headers = { 'Content-Type': 'application/x-www-form-urlencoded' };
    expect((await authorizeCall(body, { headers })).status).toBe(200);
    // A plain form is not JSON: 400, as in the original (Flask consumed the form).
    const form = await call('/datastore/', { method: 'POST', body: new URLSearchParams({ jwt: token }) });
    await expectError(form, 400, /not valid JSON/);
  });

  it('prefers the Auth-Token header over jwt', async () => {
    const owner = newUserId();
    const good = await permissionToken(owner);
    const other = await permissionToken(newUserId());
    expect((await authorizeCall(oneFile(owner), { headers: { 'Auth-Token': good }, query: `jwt=${other}` })).status).toBe(200);
    const res = await authorizeCall(oneFile(owner), { headers: { 'Auth-Token': other }, query: `jwt=${good}` });
    await expectError(res, 401, /owner/);
  });

  const refusals: Array<[string, (owner: string) => Promise<string | undefined>]> = [
    ['no token', async () => undefined],
    ['a token for another service', (o) => permissionToken(o, 'os.other')],
    ['a token without datapackage-upload', (o) => permissionToken(o, 'os.datastore', {})],
    ['a token with datapackage-upload false', (o) => permissionToken(o, 'os.datastore', { 'datapackage-upload': false })],
    ['a user token instead of a permission token', (o) => userToken(o)],
    ['an expired token', (o) => permissionToken(o, 'os.datastore', { 'datapackage-upload': true }, -60)],
    ['a token with a tampered payload', async (o) => {
      const t = await permissionToken(o);
      const [h, p, s] = t.split('.');
      const claims = JSON.parse(atob((p ?? '').replace(/-/g, '+').replace(/_/g, '/'))) as Record<string, unknown>;
      claims.permissions = { 'datapackage-upload': true, admin: true };
      const forged = btoa(JSON.stringify(claims)).replace(/=+$/, '').replace(/\+/g, '-').replace(/\//g, '_');
      return `${h}.${forged}.${s}`;
    }],
    ['an unsigned (alg: none) token', async (o) => {
      const enc = (v: unknown) => btoa(JSON.stringify(v)).replace(/=+$/, '');
      return `${enc({ alg: 'none', typ: 'os-permission+jwt' })}.${enc({ userid: o, service: 'os.datastore', permissions: { 'datapackage-upload': true } })}.`;
    }],
    ['garbage', async () => 'not-a-jwt'],
    ['the original test backdoor token', async () => 'testing-token'],
  ];
  it.each(refusals)('answers 401 with a JSON error for %s', async (_what, makeToken) => {
    const owner = newUserId();
    const token = await makeToken(owner);
    const res = await authorizeCall(oneFile(owner), token ? { headers: { 'Auth-Token': token } } : {});
    await expectError(res, 401, /permission token/);
  });

  it('answers 401 when metadata.owner is not the token user, and grants nothing', async () => {
    const res = await authorizeCall(oneFile(newUserId()), { headers: { 'Auth-Token': await permissionToken(newUserId()) } });
    const error = await expectError(res, 401, /owner/);
    expect(error).not.toMatch(/upload_url/);
  });

  it('answers 401 for the original backdoor owner __tests with testing-token', async () => {
    const res = await authorizeCall(oneFile('__tests'), { headers: { 'Auth-Token': 'testing-token' } });
    await expectError(res, 401);
  });

  it('answers 401 for an over-long token without verifying it', async () => {
    const owner = newUserId();
    const res = await authorizeCall(oneFile(owner), { headers: { 'Auth-Token': 'x'.repeat(9000) } });
    await expectError(res, 401);
  });
});

describe('POST /datastore/ bad input: 400 with a JSON error, never 500', () => {
  const bodies: Array<[string, (owner: string) => unknown, RegExp]> = [
    ['invalid JSON', () => '{"metadata": ', /not valid JSON/],
    ['an empty body', () => '', /not valid JSON/],
    ['a JSON array', () => '[]', /body: must be a JSON object/],
    ['JSON null', () => 'null', /must be a JSON object/],
    ['no metadata', () => ({ filedata: {} }), /metadata: is missing/],
    ['no owner', () => ({ metadata: { name: 'n' }, filedata: {} }), /metadata\.owner: is missing/],
    ['no name', (o) => ({ metadata: { owner: o }, filedata: {} }), /metadata\.name: is missing/],
    ['a numeric owner', () => ({ metadata: { owner: 1, name: 'n' }, filedata: {} }), /metadata\.owner: must be a string/],
    ['a dataset name with a slash', (o) => ({ metadata: { owner: o, name: 'a/b' }, filedata: {} }), /metadata\.name: contains '\/'/],
    ['a dataset name ".."', (o) => ({ metadata: { owner: o, name: '..' }, filedata: {} }), /metadata\.name: is '\.\.'/],
    ['a dataset name with a control character', (o) => ({ metadata: { owner: o, name: 'a\nb' }, filedata: {} }), /control character/],
    ['an owner with a slash', () => ({ metadata: { owner: 'a/../b', name: 'n' }, filedata: {} }), /metadata\.owner: contains '\/'/],
  ];
  it.each(bodies)('refuses %s before looking at the token', async (_what, make, pattern) => {
    const owner = newUserId();
    await expectError(await authorizeCall(make(owner), { headers: { 'Auth-Token': await permissionToken(owner) } }), 400, pattern);
  });

  const files: Array<[string, (owner: string) => unknown, RegExp]> = [
    ['no filedata', (o) => ({ metadata: { owner: o, name: 'n' } }), /filedata: is missing/],
    ['filedata as an array', (o) => ({ metadata: { owner: o, name: 'n' }, filedata: [] }), /filedata: must be an object of files/],
    ['a file entry that is a string', (o) => uploadRequest(o, 'n', { 'x.csv': 'abc' as never }), /filedata\["x\.csv"\]: must be an object/],
    ['a file without md5', (o) => oneFile(o, { md5: undefined }), /filedata\["data\/x\.csv"\]\.md5: is missing/],
    ['a file without name', (o) => oneFile(o, { name: undefined }), /\.name: is missing/],
    ['a file without length', (o) => oneFile(o, { length: undefined }), /\.length: is missing/],
    ['an md5 in hex', (o) => oneFile(o, { md5: 'd41d8cd98f00b204e9800998ecf8427e' }), /\.md5: must be the base64 encoding of a 16-byte MD5/],
    ['an md5 of 20 bytes', (o) => oneFile(o, { md5: 'AAAAAAAAAAAAAAAAAAAAAAAAAAA=' }), /\.md5: must be the base64/],
    ['an md5 with a newline', (o) => oneFile(o, { md5: MD5.slice(0, 23) + '\n' }), /\.md5: must be the base64/],
    ['a negative length', (o) => oneFile(o, { length: -1 }), /\.length: must be a whole number/],
    ['a fractional length', (o) => oneFile(o, { length: 1.5 }), /\.length: must be a whole number/],
    ['a non-numeric length string', (o) => oneFile(o, { length: '12a' }), /\.length: must be a whole number/],
    ['a negative length string', (o) => oneFile(o, { length: '-5' }), /\.length: must be a whole number/],
    ['a length over 5 TiB', (o) => oneFile(o, { length: 5 * 1024 ** 4 + 1 }), /\.length: must be a whole number of bytes from 0 to 5497558138880/],
    ['a boolean length', (o) => oneFile(o, { length: true }), /\.length: must be a number or a string of digits/],
    ['a type with a line break', (o) => oneFile(o, { type: 'text/csv\r\nX-Evil: 1' }), /\.type: must be printable ASCII/],
    ['a numeric type', (o) => oneFile(o, { type: 5 }), /\.type: must be a string/],
    ['an absolute path', (o) => oneFile(o, {}, '/etc/passwd'), /filedata\["\/etc\/passwd"\]: path is an absolute path/],
    ['a .. segment', (o) => oneFile(o, {}, 'data/../../other/x.csv'), /path has a '\.\.' segment/],
    ['a backslash', (o) => oneFile(o, {}, 'data\\x.csv'), /path contains a backslash/],
    ['a control character', (o) => oneFile(o, {}, 'data/x\u0007.csv'), /path contains a control character/],
    ['an empty segment', (o) => oneFile(o, {}, 'data//x.csv'), /path has an empty segment/],
    ['an empty path', (o) => oneFile(o, {}, ''), /path is empty/],
    ['a key over 1024 bytes', (o) => oneFile(o, {}, 'x'.repeat(1000)), /longer than 1024 bytes/],
  ];
  it.each(files)('refuses %s', async (_what, make, pattern) => {
    const owner = newUserId();
    await expectError(await authorizeCall(make(owner), { headers: { 'Auth-Token': await permissionToken(owner) } }), 400, pattern);
  });

  it('refuses more than 1000 files', async () => {
    const owner = newUserId();
    const many: Record<string, { md5: string; name: string; length: number }> = {};
    for (let i = 0; i < 1001; i++) many[`f${i}.csv`] = { md5: MD5, name: 'f', length: 1 };
    const res = await authorizeCall(uploadRequest(owner, 'n', many), { headers: { 'Auth-Token': await permissionToken(owner) } });
    await expectError(res, 400, /filedata: has more than 1000 files/);
  });

  it('refuses a body over 2 MiB with 413 without reading it all, also when streamed without Content-Length', async () => {
    const owner = newUserId();
    const token = await permissionToken(owner);
    const big = '{"pad":"' + 'x'.repeat(2 * 1024 * 1024) + '"}';
    await expectError(await authorizeCall(big, { headers: { 'Auth-Token': token } }), 413, /larger than/);
    const chunk = new TextEncoder().encode('x'.repeat(64 * 1024));
    let sent = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent++ < 64) controller.enqueue(chunk);
        else controller.close();
      },
    });
    const res = await call('/datastore/', { method: 'POST', body: stream, headers: { 'Auth-Token': token } });
    await expectError(res, 413, /larger than/);
  });

  it('answers a bare /datastore (no trailing slash) with 404, as no client uses it', async () => {
    const owner = newUserId();
    const res = await authorizeCall(oneFile(owner), { path: '/datastore', headers: { 'Auth-Token': await permissionToken(owner) } });
    expect(res.status).toBe(404);
  });
});

describe('GET /datastore/info', () => {
  it("lists the original eight prefix forms for the token's user, then the real upload base", async () => {
    const user = newUserId();
    const cfg = config();
    const res = await call('/datastore/info', { headers: { 'Auth-Token': await permissionToken(user) } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    const { prefixes } = (await res.json()) as { prefixes: string[] };
    const host = cfg.OS_S3_HOSTNAME;
    const bucket = cfg.OS_STORAGE_BUCKET_NAME;
    expect(prefixes).toEqual([
      `http://${host}:80/${bucket}/${user}`,
      `http://${host}/${bucket}/${user}`,
      `http://${bucket}:80/${user}`,
      `http://${bucket}/${user}`,
      `https://${host}:443/${bucket}/${user}`,
      `https://${host}/${bucket}/${user}`,
      `https://${bucket}:443/${user}`,
      `https://${bucket}/${user}`,
      `http://${host}:${cfg.OS_S3_PORT}/${bucket}/${user}`,
    ]);
  });

  it('takes the token from jwt too, and the upload_url of a grant starts with one of the prefixes', async () => {
    const user = newUserId();
    const token = await permissionToken(user);
    const info = (await (await call(`/datastore/info?jwt=${token}`)).json()) as { prefixes: string[] };
    const granted = (await (await authorizeCall(oneFile(user), { headers: { 'auth-token': token } })).json()) as {
      filedata: Record<string, Grant>;
    };
    const url = granted.filedata['data/x.csv']?.upload_url ?? '';
    expect(info.prefixes.some((p) => url.startsWith(p + '/'))).toBe(true);
  });

  it.each([
    ['no token', async () => undefined],
    ['a user token', async (u: string) => userToken(u)],
    ['a token for another service', async (u: string) => permissionToken(u, 'os.other')],
    ['a token without datapackage-upload', async (u: string) => permissionToken(u, 'os.datastore', {})],
    ['an expired token', async (u: string) => permissionToken(u, 'os.datastore', { 'datapackage-upload': true }, -60)],
  ])('answers 401 with a JSON error for %s', async (_what, makeToken) => {
    const token = await makeToken(newUserId());
    const res = await call('/datastore/info', token ? { headers: { 'Auth-Token': token } } : {});
    await expectError(res, 401);
  });
});

describe('OpenAPI document', () => {
  it('declares the three datastore routes', async () => {
    const doc = (await (await call('/openapi.json')).json()) as { paths: Record<string, Record<string, unknown>> };
    expect(doc.paths['/datastore/']?.post).toBeDefined();
    expect(doc.paths['/datastore/authorize']?.post).toBeDefined();
    expect(doc.paths['/datastore/info']?.get).toBeDefined();
  });
});
