/**
 * Command-line logins (gobble) with production settings: OS_DEV_MODE off,
 * through the real OpenID provider on loopback. gobble asks for
 * `next=http://127.0.0.1:8001`, listens there, and reads the token as
 * `path[6:]` of the request it receives (`/?jwt=<token>`).
 */
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import type { Env } from '../../src/env.ts';
import { BASE, callWith } from '../helpers/app.ts';
import { authenticateAtProvider, login, newAccount, query, startLogin, type Send } from './helpers.ts';

/** A Worker with `settings` over the test bindings (a distinct env object: a distinct Config). */
function workerWith(settings: Record<string, string>): Send {
  const e = { ...env, ...settings } as Env;
  return (path, init) => callWith(e, path, init);
}

/** Production: no development mode, loopback literals at their default (on). */
const production = workerWith({ OS_DEV_MODE: '' });
/** Production with loopback targets turned off. */
const closed = workerWith({ OS_DEV_MODE: '', OS_LOGIN_LOOPBACK_NEXT: 'off' });

async function usersWithEmail(email: string): Promise<number> {
  const rows = await query('SELECT count(*)::int AS n FROM users WHERE email = $1', [email]);
  return Number(rows[0]?.n);
}

describe('login for command-line clients, production settings', () => {
  it("ends at gobble's http://127.0.0.1:8001/?jwt=<token>, and the token gobble extracts is a valid user token", async () => {
    const account = newAccount('gobble');
    const { location } = await login(account, 'http://127.0.0.1:8001', production);
    expect(location).toMatch(/^http:\/\/127\.0\.0\.1:8001\/\?jwt=[\w-]+\.[\w-]+\.[\w-]+$/);
    // gobble's LocalHost.do_GET: token = self.path[6:], the path being "/?jwt=<token>".
    const target = new URL(location);
    const token = (target.pathname + target.search).slice(6);
    const check = await production(`/user/check?jwt=${token}`);
    expect(await check.json()).toMatchObject({ authenticated: true, profile: { email: `${account}@example.org` } });
  });

  it.each(['http://127.0.0.1:49999/token?x=1', 'http://[::1]:8001/'])('accepts the loopback literal %s', async (next) => {
    const { location } = await login(newAccount('cli'), next, production);
    const target = new URL(location);
    const asked = new URL(next);
    expect(target.origin).toBe(asked.origin);
    expect(target.pathname).toBe(asked.pathname);
    expect(target.searchParams.get('jwt')).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
  });

  it.each([
    'http://localhost:8001/',
    'http://127.0.0.1.evil.example/',
    'http://localhost.evil.example/',
    'http://127.0.0.1:8001@evil.example/',
    'https://127.0.0.1@evil.example/',
    'http://user:pw@127.0.0.1:8001/',
    'https://127.0.0.1:8001/',
    'ftp://127.0.0.1:8001/',
    'javascript://127.0.0.1/%0aalert(1)',
  ])('never hands a token to next=%s: base URL without jwt, no user created', async (next) => {
    const account = newAccount('refused');
    const started = await startLogin(next, undefined, production);
    const path = await authenticateAtProvider(started.providerUrl, account);
    const res = await production(path, { headers: { cookie: started.cookie }, redirect: 'manual' });
    expect(res.status).toBe(302);
    expect(res.headers.get('location')).toBe(`${BASE}/`);
    expect(await usersWithEmail(`${account}@example.org`)).toBe(0);
  });

  it('OS_LOGIN_LOOPBACK_NEXT=off refuses gobble\'s target: base URL without jwt', async () => {
    const account = newAccount('closed');
    const started = await startLogin('http://127.0.0.1:8001', undefined, closed);
    const path = await authenticateAtProvider(started.providerUrl, account);
    const res = await closed(path, { headers: { cookie: started.cookie }, redirect: 'manual' });
    expect(res.headers.get('location')).toBe(`${BASE}/`);
    expect(await usersWithEmail(`${account}@example.org`)).toBe(0);
  });

  it('refuses an unrecognised OS_LOGIN_LOOPBACK_NEXT value with a 503 instead of guessing', async () => {
    const res = await workerWith({ OS_LOGIN_LOOPBACK_NEXT: 'sometimes' })('/user/check');
    expect(res.status).toBe(503);
    expect(await res.json()).toMatchObject({ error: 'service misconfigured' });
  });
});
