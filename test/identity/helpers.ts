/**
 * Helpers for the identity tests: drive a real login through the loopback
 * OpenID provider by hand (workers tests cannot run a browser, and
 * http://conductor.test is not a real host), craft bad tokens, and read the
 * database to prove what did or did not change.
 */
import { env } from 'cloudflare:workers';
import { base64url, SignJWT } from 'jose';
import { getSigningKeys } from '../../src/auth/keys.ts';
import { USER_TOKEN_AUDIENCE, USER_TOKEN_TYPE } from '../../src/auth/tokens.ts';
import { withDb } from '../../src/db/client.ts';
import { BASE, call, config, permissionToken } from '../helpers/app.ts';

/** A minimal cookie jar: every cookie is sent everywhere on the provider (one host). */
export class CookieJar {
  readonly cookies = new Map<string, string>();
  store(res: Response): void {
    for (const line of res.headers.getSetCookie()) {
      const [pair = '', ...attrs] = line.split(';');
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      const expired = attrs.some((a) => /^\s*max-age=0\s*$/i.test(a) || /^\s*expires=.*1970/i.test(a));
      if (expired || value === '') this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }
  header(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }
}

export interface StartedLogin {
  /** `providers.google.url` from /user/check: the hop on our service. */
  hopUrl: string;
  /** Where the hop redirected: the provider's authorization URL. */
  providerUrl: string;
  /** `os_login=<value>` for the Cookie header of the callback. */
  cookie: string;
  /** The raw Set-Cookie header of the hop. */
  setCookie: string;
  state: string;
}

/** Sends a request to a Worker; `call` (the test bindings) unless a test needs other settings. */
export type Send = (path: string, init?: RequestInit) => Promise<Response>;

/** GET /user/check without a token: the hop URL it hands out (and its state). */
export async function checkLogin(next?: string, send: Send = call): Promise<{ hopUrl: string; state: string; res: Response }> {
  const qs = next === undefined ? '' : `?next=${encodeURIComponent(next)}`;
  const res = await send(`/user/check${qs}`);
  if (res.status !== 200) throw new Error(`/user/check: ${res.status} ${await res.text()}`);
  const body = (await res.clone().json()) as { authenticated: boolean; providers: { google: { url: string } } };
  const hopUrl = body.providers.google.url;
  return { hopUrl, state: new URL(hopUrl).searchParams.get('state') ?? '', res };
}

/** Opens a hop URL (absolute, on BASE) like a top-level navigation, with `cookie` if given. */
export function openHop(hopUrl: string, cookie?: string, send: Send = call): Promise<Response> {
  if (!hopUrl.startsWith(BASE + '/')) throw new Error(`hop URL not on the service: ${hopUrl}`);
  return send(hopUrl.slice(BASE.length), { headers: cookie ? { cookie } : {}, redirect: 'manual' });
}

/**
 * /user/check without a token, then its hop (as the browser that holds
 * `cookie`, or a fresh one): the provider URL and the binding cookie.
 */
export async function startLogin(next?: string, cookie?: string, send: Send = call): Promise<StartedLogin> {
  const { hopUrl, state } = await checkLogin(next, send);
  const res = await openHop(hopUrl, cookie, send);
  if (res.status !== 302) throw new Error(`hop: ${res.status} ${await res.text()}`);
  const setCookie = res.headers.get('set-cookie') ?? '';
  return {
    hopUrl,
    providerUrl: res.headers.get('location') ?? '',
    setCookie,
    cookie: setCookie.split(';')[0] ?? '',
    state,
  };
}

/**
 * Follows the provider URL like a browser: its login form (any account
 * name), its consent form, until it redirects back to our callback. Returns
 * that callback URL (relative to BASE) untouched.
 */
export async function authenticateAtProvider(providerUrl: string, account: string): Promise<string> {
  const jar = new CookieJar();
  let url = providerUrl;
  let method = 'GET';
  let body: URLSearchParams | undefined;
  for (let hop = 0; hop < 20; hop++) {
    const res = await fetch(url, {
      method,
      body,
      redirect: 'manual',
      headers: {
        cookie: jar.header(),
        ...(body ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
      },
    });
    jar.store(res);
    method = 'GET';
    body = undefined;
    const location = res.headers.get('location');
    if (location) {
      await res.body?.cancel();
      const next = new URL(location, url).href;
      if (next.startsWith(BASE)) return next.slice(BASE.length);
      url = next;
      continue;
    }
    const html = await res.text();
    if (res.status !== 200) throw new Error(`provider answered ${res.status}: ${html.slice(0, 300)}`);
    const action = /<form[^>]*action="([^"]+)"/.exec(html)?.[1];
    if (!action) throw new Error(`provider page without a form: ${html.slice(0, 300)}`);
    url = new URL(action.replace(/&amp;/g, '&'), url).href;
    method = 'POST';
    if (html.includes('name="prompt" value="login"')) {
      body = new URLSearchParams({ prompt: 'login', login: account, password: 'any' });
    } else if (html.includes('name="prompt" value="consent"')) {
      body = new URLSearchParams({ prompt: 'consent' });
    } else {
      throw new Error(`unexpected provider page: ${html.slice(0, 300)}`);
    }
  }
  throw new Error('too many redirects at the provider');
}

/** The whole login: returns the final redirect of the callback. */
export async function login(
  account: string,
  next?: string,
  send: Send = call,
): Promise<{ location: string; callbackPath: string; started: StartedLogin }> {
  const started = await startLogin(next, undefined, send);
  const callbackPath = await authenticateAtProvider(started.providerUrl, account);
  const res = await send(callbackPath, { headers: { cookie: started.cookie }, redirect: 'manual' });
  if (res.status !== 302) throw new Error(`callback: ${res.status} ${await res.text()}`);
  return { location: res.headers.get('location') ?? '', callbackPath, started };
}

/** md5 hex, as the service computes idhash. */
export async function md5(text: string): Promise<string> {
  const d = await crypto.subtle.digest('MD5', new TextEncoder().encode(text));
  return [...new Uint8Array(d)].map((b) => b.toString(16).padStart(2, '0')).join('');
}

/** A unique account name for the loopback provider. */
export function newAccount(prefix = 'user'): string {
  return `${prefix}-${crypto.randomUUID().slice(0, 8)}`;
}

/** Runs one query against the test database. */
export function query<T extends Record<string, unknown>>(sql: string, params: unknown[] = []): Promise<T[]> {
  return withDb(config(), async (db) => (await db.query<T>(sql, params)).rows);
}

/** The users row of `id` as JSON text (null when absent), for before/after comparisons. */
export async function userRow(id: string): Promise<string | null> {
  const rows = await query('SELECT row_to_json(u)::text AS j FROM users u WHERE id = $1', [id]);
  return (rows[0]?.j as string | undefined) ?? null;
}

/** Inserts a user directly (a profile as a past login would have stored it). */
export async function insertUser(id: string, fields: { username?: string | null; email?: string } = {}): Promise<void> {
  await query('INSERT INTO users (id, provider_id, name, email, username) VALUES ($1, $2, $3, $4, $5)', [
    id,
    `google:${id}`,
    'Test User',
    fields.email ?? `${id}@example.org`,
    fields.username ?? null,
  ]);
}

/** Tokens that must never be accepted as user tokens. */
export async function badUserTokens(userid: string): Promise<Record<string, string>> {
  const cfg = config();
  const keys = await getSigningKeys(cfg);
  const now = Math.floor(Date.now() / 1000);
  const claims = { userid };
  const build = (header: Record<string, unknown>, exp = now + 3600) =>
    new SignJWT(claims)
      .setProtectedHeader({ alg: 'RS256', typ: USER_TOKEN_TYPE, kid: keys.kid, ...header })
      .setIssuer(cfg.OS_BASE_URL)
      .setAudience(USER_TOKEN_AUDIENCE)
      .setSubject(userid)
      .setIssuedAt(now - 7200)
      .setExpirationTime(exp)
      .setJti(crypto.randomUUID());

  const other = (await crypto.subtle.generateKey(
    { name: 'RSASSA-PKCS1-v1_5', modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' },
    true,
    ['sign', 'verify'],
  )) as CryptoKeyPair;
  const forged = await build({}).sign(other.privateKey);
  const expired = await build({}, now - 60).sign(keys.privateKey);
  const hsWithPublicKey = await build({ alg: 'HS256' }).sign(new TextEncoder().encode(keys.publicPem));
  const [, payload] = forged.split('.');
  const none = `${base64url.encode(JSON.stringify({ alg: 'none', typ: USER_TOKEN_TYPE, kid: keys.kid }))}.${payload}.`;
  const unknownKid = await build({ kid: 'not-a-known-key' }).sign(keys.privateKey);
  const wrongAudience = await build({}).setAudience('os.datastore').sign(keys.privateKey);
  // A permission token of the same user: the wrong kind of token here.
  const permission = await permissionToken(userid);
  return {
    forged,
    expired,
    'alg:none': none,
    'HS256 signed with the public key': hsWithPublicKey,
    'unknown kid': unknownKid,
    'wrong audience': wrongAudience,
    'permission token': permission,
    garbage: 'not.a.token',
  };
}

export { env };
