/**
 * Named API keys through the Worker against the real Postgres: /user/api_keys
 * (create, list), DELETE /user/api_keys/{id} and POST …/{id}/revoke, and
 * their use at /user/authenticate_api_key beside the configured keys.
 */
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import type { Env } from '../../src/env.ts';
import { parseApiKeys } from '../../src/identity/api-keys.ts';
import { API_KEY_ERRORS, hashApiKey } from '../../src/identity/user-api-keys.ts';
import { UPDATE_ERRORS } from '../../src/identity/username.ts';
import { call, callWith, newUserId, userToken } from '../helpers/app.ts';
import { badUserTokens, insertUser, query, type Send } from './helpers.ts';

interface ApiKeyInfo {
  id: string;
  name: string;
  created: string;
  last_used: string | null;
  expires: string | null;
}
interface Created {
  success: true;
  key: string;
  api_key: ApiKeyInfo;
}

const form = (fields: Record<string, string>, method = 'POST'): RequestInit => ({
  method,
  headers: { 'content-type': 'application/x-www-form-urlencoded' },
  body: new URLSearchParams(fields).toString(),
});

async function json(res: Response): Promise<Record<string, unknown>> {
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^application\/json/);
  return (await res.json()) as Record<string, unknown>;
}

/** A user with a stored profile and a user token. */
async function newUser(): Promise<{ id: string; jwt: string }> {
  const id = newUserId();
  await insertUser(id);
  return { id, jwt: await userToken(id) };
}

async function createKey(jwt: string, name: string, extra: Record<string, string> = {}, send: Send = call): Promise<Created> {
  const body = await json(await send('/user/api_keys', form({ jwt, name, ...extra })));
  expect(body.success, JSON.stringify(body)).toBe(true);
  return body as unknown as Created;
}

async function listKeys(jwt: string): Promise<ApiKeyInfo[]> {
  const body = await json(await call(`/user/api_keys?jwt=${jwt}`));
  expect(body.success, JSON.stringify(body)).toBe(true);
  return body.api_keys as ApiKeyInfo[];
}

function authenticate(key: string): Promise<Response> {
  return call('/user/authenticate_api_key', { method: 'POST', headers: { 'x-api-key': key } });
}

async function expect401(key: string): Promise<void> {
  const res = await authenticate(key);
  expect(res.status).toBe(401);
  expect(await res.json()).toEqual({ error: 'Unauthorized' });
}

function storedKeys(userid: string): Promise<Record<string, unknown>[]> {
  return query('SELECT * FROM user_api_keys WHERE userid = $1', [userid]);
}

describe('/user/api_keys: create and list', () => {
  it('shows a new key once, lists it without the key, and the key logs in like a configured one', async () => {
    const user = await newUser();
    const created = await createKey(user.jwt, 'nightly upload');
    expect(created.key).toMatch(/^osk_[A-Za-z0-9_-]{43}$/);
    expect(created.api_key).toEqual({
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      name: 'nightly upload',
      created: expect.any(String),
      last_used: null,
      expires: null,
    });

    const listRes = await call(`/user/api_keys?jwt=${user.jwt}`);
    expect(listRes.headers.get('cache-control')).toBe('no-store');
    const listText = await listRes.text();
    expect(listText).not.toContain(created.key);
    expect(listText).not.toContain(created.key.slice(4, 20));
    expect((JSON.parse(listText) as { api_keys: ApiKeyInfo[] }).api_keys).toEqual([created.api_key]);

    const res = await authenticate(created.key);
    expect(res.status).toBe(200);
    const { token } = (await res.json()) as { token: string };
    const check = (await (await call(`/user/check?jwt=${token}`)).json()) as { authenticated: boolean; profile: { idhash: string } };
    expect(check).toMatchObject({ authenticated: true, profile: { idhash: user.id } });
    const authz = (await (await call(`/user/authorize?jwt=${token}&service=os.datastore`)).json()) as Record<string, unknown>;
    expect(authz).toMatchObject({ userid: user.id, permissions: { 'datapackage-upload': true } });

    const [used] = await listKeys(user.jwt);
    expect(used?.last_used).not.toBeNull();
    expect(Date.parse(used?.last_used ?? '')).toBeGreaterThanOrEqual(Date.parse(created.api_key.created));
  });

  it('stores only the SHA-256 of the key', async () => {
    const user = await newUser();
    const created = await createKey(user.jwt, 'hashed');
    const rows = await storedKeys(user.id);
    expect(rows).toHaveLength(1);
    expect(rows[0]?.key_hash).toBe(await hashApiKey(created.key));
    expect(JSON.stringify(rows)).not.toContain(created.key.slice(4));
  });

  it('takes the parameters from the query as well, with an expiry in days', async () => {
    const user = await newUser();
    const before = Date.now();
    const body = await json(await call(`/user/api_keys?jwt=${user.jwt}&name=ci&expires_in_days=30`, { method: 'POST' }));
    const expires = Date.parse((body as unknown as Created).api_key.expires ?? '');
    expect(expires - before).toBeGreaterThanOrEqual(30 * 24 * 3600 * 1000 - 1000);
    expect(expires - before).toBeLessThanOrEqual(30 * 24 * 3600 * 1000 + 60_000);
  });

  it.each([
    ['missing', undefined],
    ['empty', ''],
    ['leading space', ' ci'],
    ['65 characters', 'n'.repeat(65)],
    ['markup', '<b>ci</b>'],
    ['a newline', 'ci\nbot'],
    ['non-ASCII', 'clé'],
  ])('refuses a name that is %s and stores nothing', async (_what, name) => {
    const user = await newUser();
    const fields: Record<string, string> = { jwt: user.jwt };
    if (name !== undefined) fields.name = name;
    expect(await json(await call('/user/api_keys', form(fields)))).toEqual({ success: false, error: API_KEY_ERRORS.invalidName });
    expect(await storedKeys(user.id)).toEqual([]);
  });

  it('refuses a name already used by another of the same user keys, case-insensitively', async () => {
    const user = await newUser();
    await createKey(user.jwt, 'Deploy');
    for (const name of ['Deploy', 'deploy', 'DEPLOY']) {
      expect(await json(await call('/user/api_keys', form({ jwt: user.jwt, name })))).toEqual({
        success: false,
        error: API_KEY_ERRORS.nameTaken,
      });
    }
    expect(await storedKeys(user.id)).toHaveLength(1);
    // Another user may use the name.
    await createKey((await newUser()).jwt, 'deploy');
  });

  it.each(['0', '366', '-1', '1.5', 'never', '1e2'])('refuses expires_in_days=%j and stores nothing', async (days) => {
    const user = await newUser();
    const body = await json(await call('/user/api_keys', form({ jwt: user.jwt, name: 'ci', expires_in_days: days })));
    expect(body).toEqual({ success: false, error: API_KEY_ERRORS.invalidExpiry });
    expect(await storedKeys(user.id)).toEqual([]);
  });

  it('refuses an oversized name with a 400 JSON error', async () => {
    const user = await newUser();
    const res = await call('/user/api_keys', form({ jwt: user.jwt, name: 'n'.repeat(9000) }));
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ error: expect.stringContaining('name') });
    expect(await storedKeys(user.id)).toEqual([]);
    // As /user/update: the parameter is refused before the token is looked at.
    expect((await call('/user/api_keys', form({ name: 'n'.repeat(9000) }))).status).toBe(400);
  });

  it('refuses more unexpired keys than OS_USER_API_KEYS_MAX; revoking or expiry frees a slot', async () => {
    const e = { ...env, OS_USER_API_KEYS_MAX: '3' } as Env;
    const send: Send = (path, init) => callWith(e, path, init);
    const user = await newUser();
    const keys = [];
    for (const name of ['a', 'b', 'c']) keys.push(await createKey(user.jwt, name, {}, send));
    const refused = await json(await send('/user/api_keys', form({ jwt: user.jwt, name: 'd' })));
    expect(refused).toEqual({ success: false, error: API_KEY_ERRORS.tooMany });
    expect(await storedKeys(user.id)).toHaveLength(3);

    await json(await send(`/user/api_keys/${keys[0]?.api_key.id}?jwt=${user.jwt}`, { method: 'DELETE' }));
    await createKey(user.jwt, 'd', {}, send);
    await query("UPDATE user_api_keys SET expires_at = now() - interval '1 second' WHERE id = $1", [keys[1]?.api_key.id]);
    await createKey(user.jwt, 'e', {}, send);
    expect(await json(await send('/user/api_keys', form({ jwt: user.jwt, name: 'f' })))).toEqual({
      success: false,
      error: API_KEY_ERRORS.tooMany,
    });
  });

  it('lets no concurrent requests past the limit', async () => {
    const e = { ...env, OS_USER_API_KEYS_MAX: '1' } as Env;
    const user = await newUser();
    const answers = await Promise.all(
      ['p', 'q', 'r', 's', 't', 'u', 'v', 'w', 'x', 'y'].map(async (name) =>
        (await callWith(e, '/user/api_keys', form({ jwt: user.jwt, name }))).json() as Promise<{ success: boolean }>,
      ),
    );
    expect(answers.filter((a) => a.success)).toHaveLength(1);
    expect(await storedKeys(user.id)).toHaveLength(1);
  });
});

describe('revoking', () => {
  it.each([
    ['DELETE /user/api_keys/{id}', (id: string, jwt: string) => call(`/user/api_keys/${id}?jwt=${jwt}`, { method: 'DELETE' })],
    ['POST /user/api_keys/{id}/revoke (form)', (id: string, jwt: string) => call(`/user/api_keys/${id}/revoke`, form({ jwt }))],
  ])('%s: the key gets 401 at once and leaves the list', async (_how, revoke) => {
    const user = await newUser();
    const kept = await createKey(user.jwt, 'kept');
    const gone = await createKey(user.jwt, 'gone');
    expect((await authenticate(gone.key)).status).toBe(200);
    expect(await json(await revoke(gone.api_key.id, user.jwt))).toEqual({ success: true });
    await expect401(gone.key);
    expect((await listKeys(user.jwt)).map((k) => k.name)).toEqual(['kept']);
    expect((await authenticate(kept.key)).status).toBe(200);
    // Revoking twice: the key is unknown now.
    expect(await json(await revoke(gone.api_key.id, user.jwt))).toEqual({ success: false, error: API_KEY_ERRORS.unknownKey });
  });

  it('an expired key gets 401 at once, and stays listed with its expiry', async () => {
    const user = await newUser();
    const created = await createKey(user.jwt, 'short', { expires_in_days: '1' });
    expect((await authenticate(created.key)).status).toBe(200);
    await query("UPDATE user_api_keys SET expires_at = now() - interval '1 second', last_used_at = NULL WHERE id = $1", [
      created.api_key.id,
    ]);
    await expect401(created.key);
    const [listed] = await listKeys(user.jwt);
    expect(listed?.last_used).toBeNull();
    expect(Date.parse(listed?.expires ?? '')).toBeLessThan(Date.now());
  });

  it("another user's keys are invisible and cannot be revoked", async () => {
    const owner = await newUser();
    const other = await newUser();
    const created = await createKey(owner.jwt, 'mine');
    expect(await listKeys(other.jwt)).toEqual([]);
    const unknown = { success: false, error: API_KEY_ERRORS.unknownKey };
    expect(await json(await call(`/user/api_keys/${created.api_key.id}?jwt=${other.jwt}`, { method: 'DELETE' }))).toEqual(unknown);
    expect(await json(await call(`/user/api_keys/${created.api_key.id}/revoke`, form({ jwt: other.jwt })))).toEqual(unknown);
    expect(await listKeys(owner.jwt)).toEqual([created.api_key]);
    expect((await authenticate(created.key)).status).toBe(200);
  });

  it.each(['not-a-uuid', '00000000-0000-0000-0000-000000000000', "1' OR '1'='1"])(
    'answers an id that is no key (%j) as unknown',
    async (id) => {
      const user = await newUser();
      const res = await call(`/user/api_keys/${encodeURIComponent(id)}?jwt=${user.jwt}`, { method: 'DELETE' });
      expect(await json(res)).toEqual({ success: false, error: API_KEY_ERRORS.unknownKey });
    },
  );

  it("a deleted user's keys stop working", async () => {
    const user = await newUser();
    const created = await createKey(user.jwt, 'orphan');
    await query('DELETE FROM users WHERE id = $1', [user.id]);
    await expect401(created.key);
    expect(await storedKeys(user.id)).toEqual([]);
  });

  it('a key-shaped string that was never issued gets 401', async () => {
    await expect401('osk_' + 'A'.repeat(43));
  });
});

describe('tokens, JSONP and CORS as on the other /user endpoints', () => {
  it('gives a missing, bad or wrong-kind token, and an unknown user, the answers /user/update gives', async () => {
    const user = await newUser();
    const created = await createKey(user.jwt, 'target');
    const tokens: Record<string, string | undefined> = {
      none: undefined,
      empty: '',
      'unknown user': await userToken(newUserId()),
      ...(await badUserTokens(user.id)),
    };
    const withJwt = (path: string, jwt: string | undefined) => (jwt === undefined ? path : `${path}?jwt=${encodeURIComponent(jwt)}`);
    for (const [kind, jwt] of Object.entries(tokens)) {
      const expected = await json(await call(withJwt('/user/update', jwt), { method: 'POST' }));
      expect([UPDATE_ERRORS.noToken, UPDATE_ERRORS.notAuthenticated, UPDATE_ERRORS.unknownUser], kind).toContain(expected.error);
      const answers = [
        await call(withJwt('/user/api_keys', jwt) + `${jwt === undefined ? '?' : '&'}name=stolen`, { method: 'POST' }),
        await call(withJwt('/user/api_keys', jwt)),
        await call(withJwt(`/user/api_keys/${created.api_key.id}`, jwt), { method: 'DELETE' }),
        await call(withJwt(`/user/api_keys/${created.api_key.id}/revoke`, jwt), { method: 'POST' }),
      ];
      for (const res of answers) expect(await json(res), kind).toEqual(expected);
    }
    expect(await storedKeys(user.id)).toHaveLength(1);
    expect((await authenticate(created.key)).status).toBe(200);
  });

  it('answers JSONP with callback', async () => {
    const user = await newUser();
    const created = await createKey(user.jwt, 'jsonp');
    const res = await call(`/user/api_keys?callback=cb&jwt=${user.jwt}`);
    expect(res.headers.get('content-type')).toMatch(/^application\/javascript/);
    expect(await res.text()).toBe(`/**/cb(${JSON.stringify({ success: true, api_keys: [created.api_key] })});`);
    const anonymous = await call('/user/api_keys?callback=cb');
    expect(await anonymous.text()).toBe('/**/cb({"success":false,"error":"No token"});');
    expect((await call('/user/api_keys?callback=alert(1)')).status).toBe(400);
  });

  it('answers credentialed CORS, and preflights allow DELETE', async () => {
    const user = await newUser();
    const origin = 'https://packager.example';
    const res = await call(`/user/api_keys?jwt=${user.jwt}`, { headers: { origin } });
    expect(res.headers.get('access-control-allow-origin')).toBe(origin);
    expect(res.headers.get('access-control-allow-credentials')).toBe('true');
    const pre = await call('/user/api_keys/some-id', {
      method: 'OPTIONS',
      headers: { origin, 'access-control-request-method': 'DELETE' },
    });
    expect(pre.status).toBe(204);
    expect(pre.headers.get('access-control-allow-origin')).toBe(origin);
    expect(pre.headers.get('access-control-allow-methods')).toContain('DELETE');
  });

  it('keeps the configured OS_CLIENT_API_KEYS keys working beside the named ones', async () => {
    const entry = parseApiKeys(env.OS_CLIENT_API_KEYS)[1];
    if (!entry) throw new Error('test API keys missing');
    expect((await authenticate(entry.key)).status).toBe(200);
  });
});

describe('OpenAPI document', () => {
  it('lists the API key endpoints', async () => {
    const doc = (await (await call('/openapi.json')).json()) as { paths: Record<string, Record<string, unknown>> };
    for (const [path, method] of [
      ['/user/api_keys', 'post'],
      ['/user/api_keys', 'get'],
      ['/user/api_keys/{id}', 'delete'],
      ['/user/api_keys/{id}/revoke', 'post'],
    ] as const) {
      expect(doc.paths[path]?.[method], `${method} ${path}`).toBeDefined();
    }
  });
});
