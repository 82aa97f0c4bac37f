/**
 * The browser login against a real OpenID provider on loopback:
 * /user/check -> hop /oauth/google_login (binds the login to the browser's
 * cookie, once) -> provider (login + consent forms) -> /oauth/google_callback
 * -> 302 to `next` with jwt -> /user/check returns the profile.
 * Security rules: RFC 9700 §2.1 (PKCE), §2.1.1 (state bound to the browser),
 * §4.11 (open redirectors); OIDC Core §3.1.3.7 (ID token validation, nonce).
 */
import { describe, expect, it } from 'vitest';
import { call } from '../helpers/app.ts';
import { authenticateAtProvider, checkLogin, login, md5, newAccount, openHop, query, startLogin } from './helpers.ts';

const FRONTEND = 'http://127.0.0.1:8001';

async function usersWithEmail(email: string): Promise<number> {
  const rows = await query('SELECT count(*)::int AS n FROM users WHERE email = $1', [email]);
  return Number(rows[0]?.n);
}

async function stateHash(state: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(state));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('');
}

async function stateRows(state: string): Promise<number> {
  const rows = await query('SELECT count(*)::int AS n FROM oauth_states WHERE state_hash = $1', [await stateHash(state)]);
  return Number(rows[0]?.n);
}

/** The whole oauth_states row of `state` as JSON text (null when absent), for before/after comparisons. */
async function stateRow(state: string): Promise<string | null> {
  const rows = await query('SELECT row_to_json(s)::text AS j FROM oauth_states s WHERE state_hash = $1', [await stateHash(state)]);
  return (rows[0]?.j as string | undefined) ?? null;
}

describe('login: OpenID Connect code flow with PKCE, state and nonce', () => {
  it('completes check -> hop -> provider -> callback -> next?jwt= -> check with the profile', async () => {
    const account = newAccount('ada');
    const { location } = await login(account, `${FRONTEND}/logged-in?tab=1#/home`);
    const target = new URL(location);
    expect(target.origin + target.pathname).toBe(`${FRONTEND}/logged-in`);
    expect(target.hash).toBe('#/home');
    expect(target.searchParams.get('tab')).toBe('1');
    const jwt = target.searchParams.get('jwt');
    expect(jwt).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);

    const res = await call(`/user/check?jwt=${jwt}`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { authenticated: boolean; profile: Record<string, unknown> };
    const email = `${account}@example.org`;
    expect(body.authenticated).toBe(true);
    expect(body.profile).toEqual({
      id: `google:${account}`,
      idhash: await md5(email),
      email,
      name: expect.stringMatching(/^Ada /),
      avatar_url: `https://example.org/avatars/${account}.png`,
      username: null,
      join_date: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
    });
  });

  it('hands out the hop URL from /user/check and sets no cookie there (cross-site XHRs cannot keep one)', async () => {
    const { hopUrl, state, res } = await checkLogin(FRONTEND);
    expect(hopUrl).toMatch(/^http:\/\/conductor\.test\/oauth\/google_login\?state=[\w-]{43}$/);
    expect(res.headers.get('set-cookie')).toBeNull();
    // Stored, but bound to no browser yet.
    const rows = await query('SELECT binding_hash FROM oauth_states WHERE state_hash = $1', [await stateHash(state)]);
    expect(rows).toEqual([{ binding_hash: null }]);
  });

  it('the hop binds the login to a new cookie and redirects to the provider, uncached and without a Referer', async () => {
    const { hopUrl, state } = await checkLogin(FRONTEND);
    const res = await openHop(hopUrl);
    expect(res.status).toBe(302);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(res.headers.get('referrer-policy')).toBe('no-referrer');
    const cookie = (res.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
    expect(cookie).toMatch(/^os_login=[\w-]{43}$/);
    const rows = await query('SELECT binding_hash FROM oauth_states WHERE state_hash = $1', [await stateHash(state)]);
    expect(rows).toEqual([{ binding_hash: await stateHash(cookie.slice('os_login='.length)) }]);
    expect(new URL(res.headers.get('location') ?? '').searchParams.get('state')).toBe(state);
  });

  it('builds the provider URL with code flow, S256 PKCE, state, nonce and our callback', async () => {
    const { providerUrl, setCookie, state } = await startLogin(FRONTEND);
    const url = new URL(providerUrl);
    const p = url.searchParams;
    expect(p.get('state')).toBe(state);
    expect(p.get('response_type')).toBe('code');
    expect(p.get('code_challenge_method')).toBe('S256');
    expect(p.get('code_challenge')).toMatch(/^[\w-]{43}$/);
    expect(p.get('state')).toMatch(/^[\w-]{43}$/);
    expect(p.get('nonce')).toMatch(/^[\w-]{43}$/);
    expect(p.get('redirect_uri')).toBe('http://conductor.test/oauth/google_callback');
    expect(p.get('scope')).toBe('openid email profile');
    // Plain-http development base URL: no __Host- prefix and no Secure (browsers would drop it).
    expect(setCookie).toMatch(/^os_login=[\w-]{43}; Path=\/; Max-Age=600; HttpOnly; SameSite=Lax$/);
  });

  it('logs in again as the same person without changing id, username or join date', async () => {
    const account = newAccount('bob');
    const first = new URL((await login(account, FRONTEND)).location).searchParams.get('jwt');
    const idhash = await md5(`${account}@example.org`);
    await query("UPDATE users SET username = $2, join_date = '2020-01-02T03:04:05Z' WHERE id = $1", [idhash, account]);
    const second = new URL((await login(account, FRONTEND)).location).searchParams.get('jwt');
    expect(second).not.toBe(first);
    const body = (await (await call(`/user/check?jwt=${second}`)).json()) as { profile: Record<string, unknown> };
    expect(body.profile).toMatchObject({ idhash, username: account, join_date: '2020-01-02T03:04:05.000Z' });
  });

  it('redirects gobble-style loopback next to exactly /?jwt=<token>', async () => {
    const { location } = await login(newAccount(), 'http://127.0.0.1:8001');
    expect(location).toMatch(/^http:\/\/127\.0\.0\.1:8001\/\?jwt=[\w-]+\.[\w-]+\.[\w-]+$/);
  });

  it('replaces a jwt already in next and keeps repeated keys', async () => {
    const { location } = await login(newAccount(), `${FRONTEND}/v?jwt=stale&c[]=a&c[]=b`);
    expect(location).toMatch(/^http:\/\/127\.0\.0\.1:8001\/v\?c\[\]=a&c\[\]=b&jwt=[\w-]+\.[\w-]+\.[\w-]+$/);
  });

  it('sends a login without next to the base URL with the token', async () => {
    const { location } = await login(newAccount());
    expect(location).toMatch(/^http:\/\/conductor\.test\/\?jwt=/);
  });

  it('treats a next holding NUL (which Postgres cannot store) as no next, instead of a 500', async () => {
    const { location } = await login(newAccount(), 'http://conductor.test/a\u0000b');
    expect(location).toMatch(/^http:\/\/conductor\.test\/\?jwt=/);
  });

  it('keeps logins started in two tabs valid (the hop reuses the cookie: one cookie, two states)', async () => {
    const a = await startLogin(FRONTEND);
    const b = await startLogin(FRONTEND, a.cookie);
    expect(b.cookie).toBe(a.cookie);
    for (const started of [a, b]) {
      const path = await authenticateAtProvider(started.providerUrl, newAccount('tab'));
      const res = await call(path, { headers: { cookie: started.cookie }, redirect: 'manual' });
      expect(res.headers.get('location')).toContain('jwt=');
    }
  });
});

describe('login hop: a login is claimed once, by the first browser; refusals change nothing', () => {
  it('sends a second opening of the same hop (another browser, no cookie) home without a cookie; the first still logs in', async () => {
    const first = await startLogin(FRONTEND);
    const before = await stateRow(first.state);
    const second = await openHop(first.hopUrl);
    expect(second.status).toBe(302);
    expect(second.headers.get('location')).toBe('http://conductor.test/');
    expect(second.headers.get('set-cookie')).toBeNull();
    expect(await stateRow(first.state)).toBe(before);
    const path = await authenticateAtProvider(first.providerUrl, newAccount('first'));
    const ok = await call(path, { headers: { cookie: first.cookie }, redirect: 'manual' });
    expect(ok.headers.get('location')).toContain('jwt=');
  });

  it('does not let a second browser with its own cookie take over a claimed login', async () => {
    const first = await startLogin(FRONTEND);
    const before = await stateRow(first.state);
    const other = `os_login=${'B'.repeat(43)}`;
    const second = await openHop(first.hopUrl, other);
    expect(second.headers.get('location')).toBe('http://conductor.test/');
    expect(second.headers.get('set-cookie')).toBeNull();
    expect(await stateRow(first.state)).toBe(before);
    // Even with the first browser's provider URL, its callback fails with the second browser's cookie.
    const account = newAccount('thief');
    const path = await authenticateAtProvider(first.providerUrl, account);
    const res = await call(path, { headers: { cookie: other }, redirect: 'manual' });
    expect(res.headers.get('location')).toBe('http://conductor.test/');
    expect(await usersWithEmail(`${account}@example.org`)).toBe(0);
  });

  it('refuses the hop of a finished login (replay): home, no cookie', async () => {
    const { started } = await login(newAccount('done'), FRONTEND);
    const res = await openHop(started.hopUrl);
    expect(res.status).toBe(302);
    expect(res.headers.get('location')).toBe('http://conductor.test/');
    expect(res.headers.get('set-cookie')).toBeNull();
    expect(await stateRows(started.state)).toBe(0);
  });

  it('refuses the hop of an expired login and leaves its row as it was', async () => {
    const { hopUrl, state } = await checkLogin(FRONTEND);
    await query("UPDATE oauth_states SET expires_at = now() - interval '1 second' WHERE state_hash = $1", [await stateHash(state)]);
    const before = await stateRow(state);
    const res = await openHop(hopUrl);
    expect(res.headers.get('location')).toBe('http://conductor.test/');
    expect(res.headers.get('set-cookie')).toBeNull();
    expect(await stateRow(state)).toBe(before);
  });

  it.each([
    ['an unknown state', `?state=${'U'.repeat(43)}`],
    ['a malformed state', '?state=not-a-state'],
    ['a state with a quote', `?state=${'x'.repeat(42)}'`],
    ['no state', ''],
    ['an empty state', '?state='],
  ])('refuses the hop with %s: home, no cookie', async (_name, qs) => {
    const res = await call(`/oauth/google_login${qs}`, { redirect: 'manual' });
    expect(res.status).toBe(302);
    expect(res.headers.get('location')).toBe('http://conductor.test/');
    expect(res.headers.get('set-cookie')).toBeNull();
  });

  it('answers an oversized state at the hop with a 400 JSON error', async () => {
    const res = await call(`/oauth/google_login?state=${'s'.repeat(5000)}`, { redirect: 'manual' });
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ error: expect.stringContaining('state') });
  });

  it('issues a fresh cookie at the hop when the browser sends a malformed one', async () => {
    const { hopUrl } = await checkLogin(FRONTEND);
    const res = await openHop(hopUrl, 'os_login=short');
    expect(res.status).toBe(302);
    expect(res.headers.get('set-cookie')).toMatch(/^os_login=[\w-]{43};/);
  });

  it('refuses a callback for a login nobody claimed (no hop): no token, the row stays unbound and claimable', async () => {
    const { hopUrl, state } = await checkLogin(FRONTEND);
    const before = await stateRow(state);
    for (const cookie of [undefined, `os_login=${'C'.repeat(43)}`]) {
      const res = await call(`/oauth/google_callback?code=abc&state=${state}`, {
        headers: cookie ? { cookie } : {},
        redirect: 'manual',
      });
      expect(res.status).toBe(302);
      expect(res.headers.get('location')).toBe('http://conductor.test/');
    }
    expect(await stateRow(state)).toBe(before);
    expect((await openHop(hopUrl)).headers.get('set-cookie')).toMatch(/^os_login=/);
  });
});

describe('login: a bad callback leaves no token and changes nothing', () => {
  it('refuses a replayed state: the second use goes to the base URL without a token', async () => {
    const account = newAccount('replay');
    const { callbackPath, started } = await login(account, FRONTEND);
    const before = await query('SELECT row_to_json(u)::text AS j FROM users u WHERE email = $1', [`${account}@example.org`]);
    const res = await call(callbackPath, { headers: { cookie: started.cookie }, redirect: 'manual' });
    expect(res.status).toBe(302);
    expect(res.headers.get('location')).toBe('http://conductor.test/');
    const after = await query('SELECT row_to_json(u)::text AS j FROM users u WHERE email = $1', [`${account}@example.org`]);
    expect(after).toEqual(before);
  });

  it.each([
    ['no cookie', (_c: string) => undefined],
    ['a cookie of another browser', (_c: string) => `os_login=${'A'.repeat(43)}`],
    ['a malformed cookie', (_c: string) => 'os_login=short'],
    ['the cookie under another name', (c: string) => c.replace('os_login=', 'other=')],
  ])('refuses a callback with %s, and the state stays usable by its own browser', async (_name, cookieFor) => {
    const account = newAccount('cookie');
    const started = await startLogin(FRONTEND);
    const path = await authenticateAtProvider(started.providerUrl, account);
    const cookie = cookieFor(started.cookie);
    const res = await call(path, { headers: cookie ? { cookie } : {}, redirect: 'manual' });
    expect(res.status).toBe(302);
    expect(res.headers.get('location')).toBe('http://conductor.test/');
    expect(await usersWithEmail(`${account}@example.org`)).toBe(0);
    expect(await stateRows(started.state)).toBe(1);
    // The rightful browser can still finish.
    const ok = await call(path, { headers: { cookie: started.cookie }, redirect: 'manual' });
    expect(ok.headers.get('location')).toContain('jwt=');
  });

  it('refuses an unknown or missing state', async () => {
    const started = await startLogin(FRONTEND);
    for (const qs of ['?code=abc&state=forged-state', '?code=abc', '']) {
      const res = await call(`/oauth/google_callback${qs}`, { headers: { cookie: started.cookie }, redirect: 'manual' });
      expect(res.status).toBe(302);
      expect(res.headers.get('location')).toBe('http://conductor.test/');
    }
    expect(await stateRows(started.state)).toBe(1);
  });

  it('refuses an expired state', async () => {
    const account = newAccount('late');
    const started = await startLogin(FRONTEND);
    const path = await authenticateAtProvider(started.providerUrl, account);
    const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(started.state));
    const hash = [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('');
    await query("UPDATE oauth_states SET expires_at = now() - interval '1 second' WHERE state_hash = $1", [hash]);
    const res = await call(path, { headers: { cookie: started.cookie }, redirect: 'manual' });
    expect(res.headers.get('location')).toBe('http://conductor.test/');
    expect(await usersWithEmail(`${account}@example.org`)).toBe(0);
  });

  it('gets no token when the PKCE verifier does not match (the provider refuses the code)', async () => {
    const account = newAccount('pkce');
    const started = await startLogin(FRONTEND);
    const path = await authenticateAtProvider(started.providerUrl, account);
    const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(started.state));
    const hash = [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('');
    await query('UPDATE oauth_states SET code_verifier = $2 WHERE state_hash = $1', [hash, 'x'.repeat(43)]);
    const res = await call(path, { headers: { cookie: started.cookie }, redirect: 'manual' });
    expect(res.status).toBe(302);
    expect(res.headers.get('location')).toBe(`${FRONTEND}/`);
    expect(await usersWithEmail(`${account}@example.org`)).toBe(0);
  });

  it('gets no token when the nonce does not match the ID token', async () => {
    const account = newAccount('nonce');
    const started = await startLogin(FRONTEND);
    const path = await authenticateAtProvider(started.providerUrl, account);
    const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(started.state));
    const hash = [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('');
    await query('UPDATE oauth_states SET nonce = $2 WHERE state_hash = $1', [hash, 'another-nonce']);
    const res = await call(path, { headers: { cookie: started.cookie }, redirect: 'manual' });
    expect(res.headers.get('location')).toBe(`${FRONTEND}/`);
    expect(await usersWithEmail(`${account}@example.org`)).toBe(0);
  });

  it('gets no token when the response names another issuer (RFC 9207 mix-up)', async () => {
    const account = newAccount('mixup');
    const started = await startLogin(FRONTEND);
    const path = await authenticateAtProvider(started.providerUrl, account);
    const url = new URL(path, 'http://conductor.test');
    expect(url.searchParams.get('iss')).toBeTruthy();
    url.searchParams.set('iss', 'https://evil.example');
    const res = await call(url.pathname + url.search, { headers: { cookie: started.cookie }, redirect: 'manual' });
    expect(res.headers.get('location')).toBe(`${FRONTEND}/`);
    expect(await usersWithEmail(`${account}@example.org`)).toBe(0);
  });

  it('sends a provider denial back to next without a token', async () => {
    const started = await startLogin(`${FRONTEND}/app`);
    const res = await call(`/oauth/google_callback?error=access_denied&state=${started.state}`, {
      headers: { cookie: started.cookie },
      redirect: 'manual',
    });
    expect(res.status).toBe(302);
    expect(res.headers.get('location')).toBe(`${FRONTEND}/app`);
    expect(await stateRows(started.state)).toBe(0);
  });

  it.each([
    'https://evil.example/steal',
    '//evil.example',
    'http://conductor.test@evil.example/',
    'javascript:alert(document.cookie)',
    'http:\\\\evil.example',
  ])('never hands a token to next=%s: base URL without jwt, no user created', async (next) => {
    const account = newAccount('redir');
    const started = await startLogin(next);
    const path = await authenticateAtProvider(started.providerUrl, account);
    const res = await call(path, { headers: { cookie: started.cookie }, redirect: 'manual' });
    expect(res.status).toBe(302);
    expect(res.headers.get('location')).toBe('http://conductor.test/');
    expect(await usersWithEmail(`${account}@example.org`)).toBe(0);
  });

  it('answers an oversized next or state with a 400 JSON error', async () => {
    const check = await call(`/user/check?next=${'a'.repeat(5000)}`);
    expect(check.status).toBe(400);
    expect(await check.json()).toEqual({ error: expect.stringContaining('next') });
    const cb = await call(`/oauth/google_callback?state=${'s'.repeat(5000)}`, { redirect: 'manual' });
    expect(cb.status).toBe(400);
    expect(await cb.json()).toEqual({ error: expect.stringContaining('state') });
  });
});
