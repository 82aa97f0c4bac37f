/**
 * The browser login: /user/check starts it, the first-party hop
 * /oauth/google_login binds it to the browser, /oauth/google_callback ends it.
 *
 * Start: a random `state`, PKCE verifier and `nonce` are stored in
 * `oauth_states` (state only as a SHA-256 hash) with NO browser binding:
 * /user/check is usually an XHR from another site, and browsers refuse to set
 * our cookie on such a response. Hop: the browser navigates top-level to
 * `/oauth/google_login?state=` (first-party, so the cookie sticks); one
 * statement binds the still-unbound row to a random value in an HttpOnly
 * SameSite=Lax cookie (stored as a hash), so the first opener owns the login,
 * and the browser goes on to the provider. End: the row is consumed in one
 * statement that also checks the cookie and the expiry, so a state works
 * once, only in the browser that claimed it, within 10 minutes of its start.
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
import { hasLoneSurrogate } from '../http/text.ts';

type Db = Pick<Client, 'query'>;

/** The only provider slot; the name is part of the wire contract (`providers.google`). */
export const PROVIDER = 'google';
/** Callback path registered in provider consoles (kept from the original). */
export const CALLBACK_PATH = '/oauth/google_callback';
/** The first-party hop that binds a started login to the browser (`providers.google.url` points here). */
export const LOGIN_PATH = '/oauth/google_login';
/** How long a started login stays valid. */
export const STATE_TTL_SECONDS = 600;

/** Cookie values and states are both `randomToken()`s: 32 random bytes, base64url. */
const COOKIE_VALUE = /^[A-Za-z0-9_-]{43}$/;

/** Whether `state` has the shape of a state we issued (anything else cannot match a row). */
export function isWellFormedState(state: string | undefined): state is string {
  return state !== undefined && COOKIE_VALUE.test(state);
}

/** The hop URL handed out as `providers.google.url`. */
export function loginHopUrl(config: Pick<Config, 'OS_BASE_URL'>, state: string): string {
  return `${config.OS_BASE_URL}${LOGIN_PATH}?state=${encodeURIComponent(state)}`;
}

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
  return {
    baseUrl: config.OS_BASE_URL,
    frontendOrigins: config.OS_FRONTEND_ORIGINS,
    devMode: config.OS_DEV_MODE,
    loopbackLiterals: config.OS_LOGIN_LOOPBACK_NEXT,
  };
}

/**
 * Starts a login: stores the pending state, not yet bound to any browser,
 * and returns the hop URL the browser must navigate to. Sets no cookie (the
 * caller is typically a cross-site XHR, where the cookie would be dropped).
 */
/**
 * `next` as stored until the callback checks it (safeNext). Text Postgres
 * cannot hold (NUL, an unpaired surrogate) could never be a safe redirect
 * anyway: it is stored as no `next` (home), instead of failing the request.
 */
function storableNext(next: string | undefined): string | null {
  if (next === undefined || next.includes('\0') || hasLoneSurrogate(next)) return null;
  return next;
}

export async function startLogin(db: Db, config: Config, next: string | undefined): Promise<{ url: string }> {
  const state = randomToken();
  // Expired rows go first, so abandoned logins never pile up.
  await db.query('DELETE FROM oauth_states WHERE expires_at < now()');
  await db.query(
    `INSERT INTO oauth_states (state_hash, binding_hash, code_verifier, nonce, next_url, provider, expires_at)
     VALUES ($1, NULL, $2, $3, $4, $5, now() + make_interval(secs => $6))`,
    [await sha256hex(state), randomToken(), randomToken(), storableNext(next), PROVIDER, STATE_TTL_SECONDS],
  );
  return { url: loginHopUrl(config, state) };
}

/** Where the hop sends the browser, and why (for the log). */
export interface ClaimOutcome {
  location: string;
  /** Set-Cookie for the login binding; only when the login was claimed. */
  setCookie?: string;
  outcome: 'claimed' | 'invalid-state';
}

/**
 * The first-party hop: binds the pending login of `state` to this browser's
 * login cookie (an existing well-formed one is reused, so several tabs work)
 * and sends it to the provider. Claim-once: a row already bound, expired or
 * unknown sends the browser to the base URL with no cookie and changes
 * nothing, so whoever opens the hop first owns the login.
 */
export async function claimLogin(
  db: Db,
  config: Config,
  state: string | undefined,
  cookieHeader: string | undefined,
): Promise<ClaimOutcome> {
  const home = config.OS_BASE_URL + '/';
  if (!isWellFormedState(state)) return { location: home, outcome: 'invalid-state' };
  // Provider first: a discovery failure must not burn the pending login.
  const keys = await getSigningKeys(config);
  const client = clientCredentials(config, keys);
  const meta = await resolveProvider(config);
  const binding = readLoginCookie(config, cookieHeader) ?? randomToken();
  const { rows } = await db.query<{ code_verifier: string; nonce: string }>(
    `UPDATE oauth_states SET binding_hash = $2
      WHERE state_hash = $1 AND binding_hash IS NULL AND provider = $3 AND expires_at > now()
      RETURNING code_verifier, nonce`,
    [await sha256hex(state), await sha256hex(binding), PROVIDER],
  );
  const pending = rows[0];
  if (!pending) return { location: home, outcome: 'invalid-state' };
  const location = authorizationUrl(meta, {
    clientId: client.clientId,
    redirectUri: config.OS_BASE_URL + CALLBACK_PATH,
    state,
    nonce: pending.nonce,
    codeChallenge: await pkceChallenge(pending.code_verifier),
  });
  return { location, setCookie: loginCookie(config, binding), outcome: 'claimed' };
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
  // A row the hop has not claimed has a NULL binding and never matches here.
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
