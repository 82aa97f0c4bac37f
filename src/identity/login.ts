/**
 * The browser login: /user/check starts it, /oauth/google_callback ends it.
 *
 * Start: a random `state`, PKCE verifier and `nonce` are stored in
 * `oauth_states` (state and cookie only as SHA-256 hashes), bound to a
 * random value in an HttpOnly SameSite=Lax cookie. End: the state row is
 * consumed in one statement that also checks the cookie and the expiry, so a
 * state works once, only in the browser that started it, for 10 minutes.
 */
import type { Client } from '@neondatabase/serverless';
import type { Config } from '../config.ts';
import { getSigningKeys } from '../auth/keys.ts';
import {
  authorizationUrl,
  clientCredentials,
  exchangeCode,
  fetchUserinfo,
  identityFromClaims,
  OidcError,
  pkceChallenge,
  randomToken,
  resolveProvider,
  verifyIdToken,
} from '../auth/oidc.ts';
import { safeNext, withJwt, type RedirectPolicy } from '../auth/redirect.ts';
import { signUserToken } from '../auth/tokens.ts';
import { upsertLoginUser } from './users.ts';

type Db = Pick<Client, 'query'>;

/** The only provider slot; the name is part of the wire contract (`providers.google`). */
export const PROVIDER = 'google';
/** Callback path registered in provider consoles (kept from the original). */
export const CALLBACK_PATH = '/oauth/google_callback';
/** How long a started login stays valid. */
export const STATE_TTL_SECONDS = 600;

const COOKIE_VALUE = /^[A-Za-z0-9_-]{43}$/;

/**
 * The login cookie's name: `__Host-` (which requires Secure) when the
 * service runs on https; on a plain-http development base URL browsers
 * refuse Secure cookies, so the cookie is then `os_login` without Secure.
 */
export function loginCookieName(config: Pick<Config, 'OS_BASE_URL'>): string {
  return config.OS_BASE_URL.startsWith('https:') ? '__Host-os_login' : 'os_login';
}

/** Set-Cookie value for the login binding. */
export function loginCookie(config: Pick<Config, 'OS_BASE_URL'>, value: string): string {
  const secure = config.OS_BASE_URL.startsWith('https:') ? '; Secure' : '';
  return `${loginCookieName(config)}=${value}; Path=/; Max-Age=${STATE_TTL_SECONDS}; HttpOnly${secure}; SameSite=Lax`;
}

/** The login cookie's value from a Cookie header, when well-formed. */
export function readLoginCookie(config: Pick<Config, 'OS_BASE_URL'>, header: string | undefined): string | undefined {
  const name = loginCookieName(config);
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0 || part.slice(0, eq).trim() !== name) continue;
    const value = part.slice(eq + 1).trim();
    if (COOKIE_VALUE.test(value)) return value;
  }
  return undefined;
}

async function sha256hex(text: string): Promise<string> {
  const d = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text));
  return [...new Uint8Array(d)].map((b) => b.toString(16).padStart(2, '0')).join('');
}

/** The redirect policy of this deployment. */
export function redirectPolicy(config: Config): RedirectPolicy {
  return { baseUrl: config.OS_BASE_URL, frontendOrigins: config.OS_FRONTEND_ORIGINS, devMode: config.OS_DEV_MODE };
}

/**
 * Starts a login: stores the pending state and returns the provider URL and
 * the Set-Cookie header. An existing well-formed login cookie is reused so
 * logins started in several tabs all stay valid.
 */
export async function startLogin(
  db: Db,
  config: Config,
  next: string | undefined,
  cookieHeader: string | undefined,
): Promise<{ url: string; setCookie: string }> {
  const keys = await getSigningKeys(config);
  const client = clientCredentials(config, keys);
  const meta = await resolveProvider(config);
  const binding = readLoginCookie(config, cookieHeader) ?? randomToken();
  const state = randomToken();
  const nonce = randomToken();
  const codeVerifier = randomToken();
  // Expired rows go first, so abandoned logins never pile up.
  await db.query('DELETE FROM oauth_states WHERE expires_at < now()');
  await db.query(
    `INSERT INTO oauth_states (state_hash, binding_hash, code_verifier, nonce, next_url, provider, expires_at)
     VALUES ($1, $2, $3, $4, $5, $6, now() + make_interval(secs => $7))`,
    [await sha256hex(state), await sha256hex(binding), codeVerifier, nonce, next ?? null, PROVIDER, STATE_TTL_SECONDS],
  );
  const url = authorizationUrl(meta, {
    clientId: client.clientId,
    redirectUri: config.OS_BASE_URL + CALLBACK_PATH,
    state,
    nonce,
    codeChallenge: await pkceChallenge(codeVerifier),
  });
  return { url, setCookie: loginCookie(config, binding) };
}

/** What the callback received from the provider (already length-checked). */
export interface CallbackInput {
  state?: string;
  code?: string;
  error?: string;
  /** RFC 9207 issuer identification, when the provider sends it. */
  iss?: string;
  cookieHeader?: string;
}

/** Where the browser goes next, and why (for the log; never contains the token). */
export interface CallbackOutcome {
  location: string;
  outcome: 'logged-in' | 'invalid-state' | 'provider-error' | 'login-failed' | 'next-refused';
  detail?: string;
}

/**
 * Ends a login. A missing, unknown, replayed, expired or foreign state sends
 * the browser to the base URL (as the original did for a bad state); a
 * provider error or failed verification sends it to `next` without a token;
 * a disallowed `next` gets the base URL and no token either.
 */
export async function finishLogin(db: Db, config: Config, input: CallbackInput): Promise<CallbackOutcome> {
  const home = config.OS_BASE_URL + '/';
  const binding = readLoginCookie(config, input.cookieHeader);
  if (!input.state || !binding) return { location: home, outcome: 'invalid-state' };
  const { rows } = await db.query<{ code_verifier: string; nonce: string; next_url: string | null }>(
    `DELETE FROM oauth_states
      WHERE state_hash = $1 AND binding_hash = $2 AND provider = $3 AND expires_at > now()
      RETURNING code_verifier, nonce, next_url`,
    [await sha256hex(input.state), await sha256hex(binding), PROVIDER],
  );
  const pending = rows[0];
  if (!pending) return { location: home, outcome: 'invalid-state' };

  const next = safeNext(pending.next_url ?? home, redirectPolicy(config));
  if (!next) return { location: home, outcome: 'next-refused' };
  if (input.error || !input.code) {
    return { location: next.href, outcome: 'provider-error', detail: input.error ?? 'no code' };
  }
  try {
    const keys = await getSigningKeys(config);
    const client = clientCredentials(config, keys);
    const meta = await resolveProvider(config);
    // RFC 9207: a response naming another issuer is a mix-up attempt.
    if (input.iss !== undefined && input.iss !== meta.issuer) throw new OidcError('authorization response from another issuer');
    const redirectUri = config.OS_BASE_URL + CALLBACK_PATH;
    const tokens = await exchangeCode(meta, client, { code: input.code, redirectUri, codeVerifier: pending.code_verifier });
    const claims = await verifyIdToken(meta, client.clientId, tokens.idToken, pending.nonce);
    const needUserinfo = !claims.email || !claims.name || !claims.picture;
    const userinfo = needUserinfo && tokens.accessToken ? await fetchUserinfo(meta, tokens.accessToken) : {};
    const identity = identityFromClaims(claims, userinfo);
    const profile = await upsertLoginUser(db, {
      providerId: `${PROVIDER}:${identity.sub}`,
      email: identity.email,
      name: identity.name,
      picture: identity.picture,
    });
    const jwt = await signUserToken(keys, config, profile.idhash, config.OS_USER_TOKEN_TTL);
    return { location: withJwt(next, jwt), outcome: 'logged-in' };
  } catch (err) {
    if (err instanceof OidcError) return { location: next.href, outcome: 'login-failed', detail: err.message };
    throw err;
  }
}
