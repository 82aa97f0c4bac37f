/**
 * /user/check, /user/authorize, /user/update, /user/public-key,
 * /.well-known/jwks.json and /user/authenticate_api_key through the Worker.
 * Token rules: RFC 8725 §3.1 (pinned algorithms), §3.11–3.12 (typ/aud keep
 * token kinds apart); a bad token is "anonymous", never a 500.
 */
import { env } from 'cloudflare:workers';
import { createLocalJWKSet, importSPKI, jwtVerify } from 'jose';
import { describe, expect, it } from 'vitest';
import { parseApiKeys } from '../../src/identity/api-keys.ts';
import { UPDATE_ERRORS } from '../../src/identity/username.ts';
import { call, newUserId, userToken } from '../helpers/app.ts';
import { badUserTokens, insertUser, query, userRow } from './helpers.ts';

/** A user id with a stored profile (as after a login): only such users get permission tokens. */
async function knownUserId(): Promise<string> {
  const id = newUserId();
  await insertUser(id);
  return id;
}

const form = (fields: Record<string, string>): RequestInit => ({
  method: 'POST',
  headers: { 'content-type': 'application/x-www-form-urlencoded' },
  body: new URLSearchParams(fields).toString(),
});

async function json(res: Response): Promise<unknown> {
  expect(res.headers.get('content-type')).toMatch(/^application\/json/);
  return res.json();
}

describe('/user/check', () => {
  it('returns the stored profile for a valid user token', async () => {
    const id = newUserId();
    await insertUser(id, { username: `u${id.slice(0, 10)}` });
    const res = await call(`/user/check?jwt=${await userToken(id)}`);
    expect(res.status).toBe(200);
    expect(await json(res)).toEqual({
      authenticated: true,
      profile: {
        id: `google:${id}`,
        idhash: id,
        name: 'Test User',
        email: `${id}@example.org`,
        avatar_url: null,
        username: `u${id.slice(0, 10)}`,
        join_date: expect.any(String),
      },
    });
  });

  it('answers JSONP with callback', async () => {
    const id = newUserId();
    await insertUser(id);
    const res = await call(`/user/check?callback=cb&jwt=${await userToken(id)}`);
    expect(res.headers.get('content-type')).toMatch(/^application\/javascript/);
    expect(await res.text()).toMatch(/^\/\*\*\/cb\(\{"authenticated":true,/);
  });

  it('treats a valid token of an unknown user as not authenticated', async () => {
    const res = await call(`/user/check?jwt=${await userToken(newUserId())}`);
    expect(await json(res)).toEqual({ authenticated: false, providers: { google: { url: expect.any(String) } } });
  });

  it('treats every bad token as not authenticated (200, providers), never a 500', async () => {
    const id = newUserId();
    await insertUser(id);
    for (const [kind, token] of Object.entries(await badUserTokens(id))) {
      const res = await call(`/user/check?jwt=${encodeURIComponent(token)}`);
      expect(res.status, kind).toBe(200);
      const body = (await res.json()) as { authenticated: boolean; providers?: unknown };
      expect(body.authenticated, kind).toBe(false);
      expect(body.providers, kind).toBeDefined();
    }
  });

  it('starts a login only when not authenticated: hop URL, no cookie, no-store, credentialed CORS', async () => {
    const id = newUserId();
    await insertUser(id);
    const origin = 'http://frontend.example';
    const anonymous = await call('/user/check', { headers: { origin } });
    const body = (await anonymous.json()) as { providers: { google: { url: string } } };
    expect(body.providers.google.url).toMatch(/^http:\/\/conductor\.test\/oauth\/google_login\?state=[\w-]{43}$/);
    // The cookie is set by the first-party hop: on this (often cross-site) XHR browsers would drop it.
    expect(anonymous.headers.get('set-cookie')).toBeNull();
    expect(anonymous.headers.get('cache-control')).toBe('no-store');
    expect(anonymous.headers.get('access-control-allow-origin')).toBe(origin);
    expect(anonymous.headers.get('access-control-allow-credentials')).toBe('true');
    const known = await call(`/user/check?jwt=${await userToken(id)}`, { headers: { origin } });
    expect(known.headers.get('set-cookie')).toBeNull();
  });

  it('refuses an oversized jwt with a 400 JSON error', async () => {
    const res = await call(`/user/check?jwt=${'a'.repeat(9000)}`);
    expect(res.status).toBe(400);
    expect(await json(res)).toEqual({ error: expect.stringContaining('jwt') });
  });
});

describe('/user/authorize', () => {
  async function verifyWithPublicKey(token: string, service: string) {
    const pem = await (await call('/user/public-key')).text();
    const key = await importSPKI(pem, 'RS256');
    return jwtVerify(token, key, { algorithms: ['RS256'], audience: service });
  }

  it('issues a permission token with the default grant, verifiable with /user/public-key', async () => {
    const id = await knownUserId();
    const res = await call(`/user/authorize?jwt=${await userToken(id)}&service=os.datastore`);
    const body = (await json(res)) as Record<string, unknown>;
    expect(Object.keys(body)).toEqual(['permissions', 'service', 'token', 'userid']);
    expect(body).toMatchObject({ permissions: { 'datapackage-upload': true }, service: 'os.datastore', userid: id });
    const { payload, protectedHeader } = await verifyWithPublicKey(body.token as string, 'os.datastore');
    expect(protectedHeader.typ).toBe('os-permission+jwt');
    expect(payload).toMatchObject({ userid: id, service: 'os.datastore', permissions: { 'datapackage-upload': true } });
    const lifetime = (payload.exp ?? 0) - (payload.iat ?? 0);
    expect(lifetime).toBe(Number(env.OS_PERMISSION_TOKEN_TTL ?? 24 * 3600));
  });

  it("merges the '*' row first, then the user's row", async () => {
    const service = `svc.${newUserId().slice(0, 8)}`;
    const id = await knownUserId();
    await query("INSERT INTO permissions (userid, service, permissions) VALUES ('*', $1, $2)", [service, { read: true, write: false }]);
    await query('INSERT INTO permissions (userid, service, permissions) VALUES ($1, $2, $3)', [id, service, { write: true }]);
    const mine = (await (await call(`/user/authorize?jwt=${await userToken(id)}&service=${service}`)).json()) as Record<string, unknown>;
    expect(mine.permissions).toEqual({ read: true, write: true });
    const other = (await (await call(`/user/authorize?jwt=${await userToken(await knownUserId())}&service=${service}`)).json()) as Record<string, unknown>;
    expect(other.permissions).toEqual({ read: true, write: false });
  });

  it('gives an unknown service a token with empty permissions', async () => {
    const body = (await (await call(`/user/authorize?jwt=${await userToken(await knownUserId())}&service=no.such.service`)).json()) as Record<string, unknown>;
    expect(body.permissions).toEqual({});
    expect(typeof body.token).toBe('string');
  });

  it('grants only JSON true: a stored "false" string (or 1) comes back as false and the token cannot upload', async () => {
    const id = await knownUserId();
    await query('INSERT INTO permissions (userid, service, permissions) VALUES ($1, $2, $3)', [
      id,
      'os.datastore',
      { 'datapackage-upload': 'false', other: 1 },
    ]);
    const body = (await (await call(`/user/authorize?jwt=${await userToken(id)}&service=os.datastore`)).json()) as Record<string, unknown>;
    expect(body.permissions).toEqual({ 'datapackage-upload': false, other: false });
    const info = await call('/datastore/info', { headers: { 'auth-token': body.token as string } });
    expect(info.status).toBe(401);
  });

  it('gives a deleted or unknown user no permission token ({"permissions":{}}, as /user/check calls it anonymous)', async () => {
    const unknown = await userToken(newUserId());
    const deleted = await knownUserId();
    const deletedToken = await userToken(deleted);
    await query('DELETE FROM users WHERE id = $1', [deleted]);
    for (const token of [unknown, deletedToken]) {
      const check = (await (await call(`/user/check?jwt=${token}`)).json()) as { authenticated: boolean };
      expect(check.authenticated).toBe(false);
      const res = await call(`/user/authorize?jwt=${token}&service=os.datastore`);
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ permissions: {} });
    }
  });

  it('answers {"permissions":{}} for a missing or bad token, or a missing or malformed service', async () => {
    const id = await knownUserId();
    const good = await userToken(id);
    const cases = [
      '/user/authorize',
      '/user/authorize?service=os.datastore',
      `/user/authorize?jwt=${good}`,
      `/user/authorize?jwt=${good}&service=${encodeURIComponent('bad service<>')}`,
      ...Object.values(await badUserTokens(id)).map((t) => `/user/authorize?jwt=${encodeURIComponent(t)}&service=os.datastore`),
    ];
    for (const path of cases) {
      const res = await call(path);
      expect(res.status, path).toBe(200);
      expect(await res.json(), path).toEqual({ permissions: {} });
    }
  });

  it('refuses an oversized service with a 400 JSON error', async () => {
    const res = await call(`/user/authorize?jwt=${await userToken(newUserId())}&service=${'s'.repeat(9000)}`);
    expect(res.status).toBe(400);
    expect(await json(res)).toEqual({ error: expect.stringContaining('service') });
  });

  it('answers JSONP with callback', async () => {
    const res = await call('/user/authorize?callback=cb');
    expect(await res.text()).toBe('/**/cb({"permissions":{}});');
  });
});

describe('/user/update', () => {
  it('sets the username once, from the query or a form body', async () => {
    const id = newUserId();
    await insertUser(id);
    const name = `Name_${id.slice(0, 8)}`;
    const res = await call('/user/update', form({ jwt: await userToken(id), username: name }));
    expect(await json(res)).toEqual({ success: true });
    expect(JSON.parse((await userRow(id)) ?? '{}').username).toBe(name);

    const again = await call(`/user/update?jwt=${await userToken(id)}&username=other_${id.slice(0, 6)}`, { method: 'POST' });
    expect(await again.json()).toEqual({ success: false, error: UPDATE_ERRORS.alreadySet });
    expect(JSON.parse((await userRow(id)) ?? '{}').username).toBe(name);
  });

  it('answers JSONP with callback', async () => {
    const res = await call('/user/update?callback=cb', { method: 'POST' });
    expect(res.headers.get('content-type')).toMatch(/^application\/javascript/);
    expect(await res.text()).toBe('/**/cb({"success":false,"error":"No token"});');
  });

  it('ignores other profile fields silently', async () => {
    const id = newUserId();
    await insertUser(id);
    const before = await userRow(id);
    const res = await call(`/user/update?jwt=${await userToken(id)}&email=evil@example.org&name=Evil`, { method: 'POST' });
    expect(await res.json()).toEqual({ success: true });
    expect(await userRow(id)).toBe(before);
  });

  it('refuses a username already taken, case-insensitively, and changes nothing', async () => {
    const owner = newUserId();
    const taken = `Taken_${owner.slice(0, 8)}`;
    await insertUser(owner, { username: taken });
    const id = newUserId();
    await insertUser(id);
    const before = await userRow(id);
    for (const name of [taken, taken.toLowerCase(), taken.toUpperCase()]) {
      const res = await call(`/user/update?jwt=${await userToken(id)}&username=${name}`, { method: 'POST' });
      expect(await res.json()).toEqual({ success: false, error: UPDATE_ERRORS.taken });
    }
    expect(await userRow(id)).toBe(before);
  });

  it.each(['ab', '.dot', 'has space', '<b>x</b>', 'x'.repeat(41), 'ünï', ''])(
    'refuses the invalid username %j and changes nothing',
    async (name) => {
      const id = newUserId();
      await insertUser(id);
      const before = await userRow(id);
      const res = await call('/user/update', form({ jwt: await userToken(id), username: name }));
      expect(await res.json()).toEqual({ success: false, error: UPDATE_ERRORS.invalid });
      expect(await userRow(id)).toBe(before);
    },
  );

  it('keeps the original errors: No token, Not authenticated, Unknown User', async () => {
    const cases: Array<[string, string]> = [
      ['/user/update?username=someone', UPDATE_ERRORS.noToken],
      [`/user/update?username=someone&jwt=${await userToken(newUserId())}`, UPDATE_ERRORS.unknownUser],
    ];
    for (const [path, error] of cases) {
      const res = await call(path, { method: 'POST' });
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ success: false, error });
    }
  });

  it('answers every bad token with Not authenticated and changes nothing', async () => {
    const id = newUserId();
    await insertUser(id);
    const before = await userRow(id);
    for (const [kind, token] of Object.entries(await badUserTokens(id))) {
      const res = await call('/user/update', form({ jwt: token, username: `n_${id.slice(0, 8)}` }));
      expect(res.status, kind).toBe(200);
      expect(await res.json(), kind).toEqual({ success: false, error: UPDATE_ERRORS.notAuthenticated });
    }
    expect(await userRow(id)).toBe(before);
  });

  it('refuses an oversized username with a 400 JSON error and changes nothing', async () => {
    const id = newUserId();
    await insertUser(id);
    const before = await userRow(id);
    const res = await call('/user/update', form({ jwt: await userToken(id), username: 'u'.repeat(9000) }));
    expect(res.status).toBe(400);
    expect(await json(res)).toEqual({ error: expect.stringContaining('username') });
    expect(await userRow(id)).toBe(before);
  });
});

describe('keys: /user/public-key and /.well-known/jwks.json', () => {
  it('serves the PEM as text without JSONP', async () => {
    const res = await call('/user/public-key?callback=cb');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
    const pem = await res.text();
    expect(pem).toMatch(/^-----BEGIN PUBLIC KEY-----\n[\s\S]+\n-----END PUBLIC KEY-----\n?$/);
  });

  it('serves a JWKS whose kid verifies the tokens we issue', async () => {
    const res = await call('/.well-known/jwks.json');
    const jwks = (await json(res)) as { keys: Array<Record<string, unknown>> };
    expect(jwks.keys[0]).toMatchObject({ kty: 'RSA', alg: 'RS256', use: 'sig', kid: expect.any(String) });
    expect(jwks.keys[0]).not.toHaveProperty('d');
    const body = (await (await call(`/user/authorize?jwt=${await userToken(await knownUserId())}&service=os.datastore`)).json()) as { token: string };
    const { protectedHeader } = await jwtVerify(body.token, createLocalJWKSet(jwks as never), { algorithms: ['RS256'] });
    expect(protectedHeader.kid).toBe(jwks.keys[0]?.kid);
  });
});

describe('/user/authenticate_api_key', () => {
  const keys = parseApiKeys(env.OS_CLIENT_API_KEYS);

  it('exchanges a configured key for a user token that works like a login token', async () => {
    const entry = keys[1];
    if (!entry) throw new Error('test API keys missing');
    const res = await call('/user/authenticate_api_key', { method: 'POST', headers: { 'x-api-key': entry.key } });
    expect(res.status).toBe(200);
    const { token } = (await json(res)) as { token: string };
    const check = (await (await call(`/user/check?jwt=${token}`)).json()) as { authenticated: boolean; profile: { idhash: string } };
    expect(check.authenticated).toBe(true);
    expect(check.profile.idhash).toBe(entry.userid);
    const authz = (await (await call(`/user/authorize?jwt=${token}&service=os.datastore`)).json()) as Record<string, unknown>;
    expect(authz).toMatchObject({ userid: entry.userid, permissions: { 'datapackage-upload': true } });
    const pem = await (await call('/user/public-key')).text();
    const { payload } = await jwtVerify(token, await importSPKI(pem, 'RS256'), { algorithms: ['RS256'] });
    expect((payload.exp ?? 0) - (payload.iat ?? 0)).toBe(Number(env.OS_API_KEY_TOKEN_TTL ?? 24 * 3600));
  });

  it.each([
    ['no header', undefined],
    ['an empty key', ''],
    ['an unknown key', 'not-a-configured-key'],
    ['a configured key plus a character', 'test-api-key-automation-0001x'],
    ['an oversized key', 'k'.repeat(5000)],
  ])('answers %s with 401 and creates no user', async (_name, key) => {
    const res = await call('/user/authenticate_api_key', {
      method: 'POST',
      headers: key === undefined ? {} : { 'x-api-key': key },
    });
    expect(res.status).toBe(401);
    expect(await json(res)).toEqual({ error: 'Unauthorized' });
  });

  it('creates no user for a refused key: the first test key user stays absent until used', async () => {
    const entry = keys[0];
    if (!entry) throw new Error('test API keys missing');
    await call('/user/authenticate_api_key', { method: 'POST', headers: { 'x-api-key': entry.key + 'nope' } });
    expect(await userRow(entry.userid)).toBeNull();
  });
});

describe('OpenAPI document', () => {
  it('declares every identity route', async () => {
    const doc = (await (await call('/openapi.json')).json()) as { paths: Record<string, Record<string, unknown>> };
    for (const [path, method] of [
      ['/user/check', 'get'],
      ['/user/authorize', 'get'],
      ['/user/update', 'post'],
      ['/user/public-key', 'get'],
      ['/user/lib', 'get'],
      ['/user/authenticate_api_key', 'post'],
      ['/oauth/google_login', 'get'],
      ['/oauth/google_callback', 'get'],
      ['/.well-known/jwks.json', 'get'],
    ] as const) {
      expect(doc.paths[path]?.[method], `${method} ${path}`).toBeDefined();
    }
  });
});
