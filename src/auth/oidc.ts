/**
 * OpenID Connect relying party: authorization code flow with PKCE (S256)
 * and nonce, for Google by default and any OIDC provider through the
 * OS_OIDC_* settings. The ID token is verified against the provider's JWKS
 * with issuer, audience (our client id), nonce and an asymmetric algorithm.
 *
 * The pure parts (URL building, PKCE, profile extraction) are exported for
 * unit tests; the I/O parts take the provider metadata explicitly.
 */
import { createRemoteJWKSet, jwtVerify, type JWTPayload } from 'jose';
import { ConfigError, type Config } from '../config.ts';
import type { SigningKeys } from './keys.ts';

/** The endpoints we use of one provider. */
export interface ProviderMetadata {
  issuer: string;
  authorizationEndpoint: string;
  tokenEndpoint: string;
  userinfoEndpoint?: string;
  jwksUri: string;
  /** client_secret_basic unless the provider only lists client_secret_post. */
  tokenAuth: 'client_secret_basic' | 'client_secret_post';
}

export const GOOGLE_ISSUER = 'https://accounts.google.com';

/** Google's published endpoints, so the default setup needs no discovery request. */
export const GOOGLE_METADATA: ProviderMetadata = {
  issuer: GOOGLE_ISSUER,
  authorizationEndpoint: 'https://accounts.google.com/o/oauth2/v2/auth',
  tokenEndpoint: 'https://oauth2.googleapis.com/token',
  userinfoEndpoint: 'https://openidconnect.googleapis.com/v1/userinfo',
  jwksUri: 'https://www.googleapis.com/oauth2/v3/certs',
  tokenAuth: 'client_secret_basic',
};

/** Scopes asked for: the profile fields the original read (email, name, picture). */
export const SCOPES = 'openid email profile';

/** Thrown for anything the provider says or sends that ends the login. */
export class OidcError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'OidcError';
  }
}

const TIMEOUT_MS = 10_000;
const metadataCache = new Map<string, Promise<ProviderMetadata>>();
const jwksCache = new Map<string, ReturnType<typeof createRemoteJWKSet>>();

type OidcConfig = Pick<
  Config,
  | 'OS_OIDC_ISSUER'
  | 'OS_OIDC_AUTHORIZATION_ENDPOINT'
  | 'OS_OIDC_TOKEN_ENDPOINT'
  | 'OS_OIDC_USERINFO_ENDPOINT'
  | 'OS_OIDC_JWKS_URI'
>;

/**
 * The provider's endpoints: configured ones win; Google's are known; the
 * rest come from `<issuer>/.well-known/openid-configuration`, fetched once
 * per isolate.
 */
export function resolveProvider(config: OidcConfig): Promise<ProviderMetadata> {
  const issuer = config.OS_OIDC_ISSUER.replace(/\/+$/, '');
  const explicit = {
    authorizationEndpoint: config.OS_OIDC_AUTHORIZATION_ENDPOINT,
    tokenEndpoint: config.OS_OIDC_TOKEN_ENDPOINT,
    userinfoEndpoint: config.OS_OIDC_USERINFO_ENDPOINT,
    jwksUri: config.OS_OIDC_JWKS_URI,
  };
  const cacheKey = JSON.stringify([issuer, explicit]);
  let meta = metadataCache.get(cacheKey);
  if (!meta) {
    meta = loadMetadata(issuer, explicit);
    meta.catch(() => metadataCache.delete(cacheKey));
    metadataCache.set(cacheKey, meta);
  }
  return meta;
}

async function loadMetadata(
  issuer: string,
  explicit: Partial<Omit<ProviderMetadata, 'issuer' | 'tokenAuth'>>,
): Promise<ProviderMetadata> {
  const complete = explicit.authorizationEndpoint && explicit.tokenEndpoint && explicit.jwksUri;
  let base: ProviderMetadata;
  if (complete) {
    base = { ...GOOGLE_METADATA, issuer, userinfoEndpoint: undefined, tokenAuth: 'client_secret_basic' };
  } else if (issuer === GOOGLE_ISSUER) {
    base = GOOGLE_METADATA;
  } else {
    base = await discover(issuer);
  }
  const out: ProviderMetadata = { ...base };
  for (const [k, v] of Object.entries(explicit) as Array<[keyof typeof explicit, string | undefined]>) {
    if (v) out[k] = v;
  }
  return out;
}

const DiscoveryFields = ['authorization_endpoint', 'token_endpoint', 'jwks_uri'] as const;

async function discover(issuer: string): Promise<ProviderMetadata> {
  const url = `${issuer}/.well-known/openid-configuration`;
  let doc: Record<string, unknown>;
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(TIMEOUT_MS), headers: { accept: 'application/json' } });
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    doc = (await res.json()) as Record<string, unknown>;
  } catch (err) {
    throw new OidcError(`OIDC discovery failed for ${issuer}: ${(err as Error).message}`);
  }
  // OpenID Connect Discovery §4.3: the document must name the issuer we asked.
  if (doc.issuer !== issuer) throw new OidcError(`OIDC discovery: issuer mismatch (${String(doc.issuer)})`);
  for (const field of DiscoveryFields) {
    if (typeof doc[field] !== 'string') throw new OidcError(`OIDC discovery: ${field} missing`);
  }
  const methods = Array.isArray(doc.token_endpoint_auth_methods_supported)
    ? (doc.token_endpoint_auth_methods_supported as unknown[])
    : ['client_secret_basic'];
  return {
    issuer,
    authorizationEndpoint: doc.authorization_endpoint as string,
    tokenEndpoint: doc.token_endpoint as string,
    userinfoEndpoint: typeof doc.userinfo_endpoint === 'string' ? doc.userinfo_endpoint : undefined,
    jwksUri: doc.jwks_uri as string,
    tokenAuth:
      !methods.includes('client_secret_basic') && methods.includes('client_secret_post')
        ? 'client_secret_post'
        : 'client_secret_basic',
  };
}

/** Our OAuth client: OS_OIDC_CLIENT_ID/SECRET, else google.key/google.secret.key of the secrets envelope. */
export function clientCredentials(
  config: Pick<Config, 'OS_OIDC_CLIENT_ID' | 'OS_OIDC_CLIENT_SECRET'>,
  keys: Pick<SigningKeys, 'oauthClientId' | 'oauthClientSecret'>,
): { clientId: string; clientSecret: string } {
  const clientId = config.OS_OIDC_CLIENT_ID || keys.oauthClientId;
  const clientSecret = config.OS_OIDC_CLIENT_SECRET || keys.oauthClientSecret;
  if (!clientId || !clientSecret) {
    throw new ConfigError('OAuth client missing: set OS_OIDC_CLIENT_ID/OS_OIDC_CLIENT_SECRET or google.key/google.secret.key');
  }
  return { clientId, clientSecret };
}

function base64url(bytes: Uint8Array): string {
  let bin = '';
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/** A random URL-safe string with `bytes` bytes of entropy. */
export function randomToken(bytes = 32): string {
  return base64url(crypto.getRandomValues(new Uint8Array(bytes)));
}

/** RFC 7636 §4.2: BASE64URL(SHA256(ASCII(code_verifier))). */
export async function pkceChallenge(verifier: string): Promise<string> {
  return base64url(new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier))));
}

/** The provider URL /oauth/google_login redirects the browser to (after binding the login cookie). */
export function authorizationUrl(
  meta: Pick<ProviderMetadata, 'authorizationEndpoint'>,
  params: { clientId: string; redirectUri: string; state: string; nonce: string; codeChallenge: string },
): string {
  const url = new URL(meta.authorizationEndpoint);
  url.searchParams.set('response_type', 'code');
  url.searchParams.set('client_id', params.clientId);
  url.searchParams.set('redirect_uri', params.redirectUri);
  url.searchParams.set('scope', SCOPES);
  url.searchParams.set('state', params.state);
  url.searchParams.set('nonce', params.nonce);
  url.searchParams.set('code_challenge', params.codeChallenge);
  url.searchParams.set('code_challenge_method', 'S256');
  return url.href;
}

/** RFC 6749 §2.3.1: id and secret are form-encoded before Basic encoding. */
function basicAuth(clientId: string, clientSecret: string): string {
  const enc = (s: string) => encodeURIComponent(s).replace(/%20/g, '+');
  return 'Basic ' + btoa(`${enc(clientId)}:${enc(clientSecret)}`);
}

/** Exchanges the authorization code (with the PKCE verifier) for tokens. */
export async function exchangeCode(
  meta: ProviderMetadata,
  client: { clientId: string; clientSecret: string },
  params: { code: string; redirectUri: string; codeVerifier: string },
): Promise<{ idToken: string; accessToken?: string }> {
  const body = new URLSearchParams({
    grant_type: 'authorization_code',
    code: params.code,
    redirect_uri: params.redirectUri,
    code_verifier: params.codeVerifier,
  });
  const headers: Record<string, string> = {
    'content-type': 'application/x-www-form-urlencoded',
    accept: 'application/json',
  };
  if (meta.tokenAuth === 'client_secret_post') {
    body.set('client_id', client.clientId);
    body.set('client_secret', client.clientSecret);
  } else {
    headers.authorization = basicAuth(client.clientId, client.clientSecret);
  }
  let res: Response;
  try {
    res = await fetch(meta.tokenEndpoint, { method: 'POST', headers, body, signal: AbortSignal.timeout(TIMEOUT_MS) });
  } catch (err) {
    throw new OidcError(`token endpoint unreachable: ${(err as Error).message}`);
  }
  const data = (await res.json().catch(() => ({}))) as Record<string, unknown>;
  if (!res.ok) throw new OidcError(`token endpoint refused the code: ${String(data.error ?? res.status)}`);
  if (typeof data.id_token !== 'string') throw new OidcError('token endpoint returned no id_token');
  return {
    idToken: data.id_token,
    accessToken: typeof data.access_token === 'string' ? data.access_token : undefined,
  };
}

function jwksFor(uri: string) {
  let set = jwksCache.get(uri);
  if (!set) {
    set = createRemoteJWKSet(new URL(uri), { timeoutDuration: TIMEOUT_MS });
    jwksCache.set(uri, set);
  }
  return set;
}

/** Asymmetric algorithms only: a provider's ID token is never HMAC-signed with our secret. */
const ID_TOKEN_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'];

/** Verifies the ID token's signature, issuer, audience, expiry and nonce. */
export async function verifyIdToken(
  meta: Pick<ProviderMetadata, 'issuer' | 'jwksUri'>,
  clientId: string,
  idToken: string,
  nonce: string,
): Promise<JWTPayload> {
  let payload: JWTPayload;
  try {
    ({ payload } = await jwtVerify(idToken, jwksFor(meta.jwksUri), {
      issuer: meta.issuer,
      audience: clientId,
      algorithms: ID_TOKEN_ALGORITHMS,
      requiredClaims: ['sub', 'exp', 'iat'],
      clockTolerance: 60,
    }));
  } catch (err) {
    throw new OidcError(`ID token rejected: ${(err as Error).message}`);
  }
  if (payload.nonce !== nonce) throw new OidcError('ID token rejected: nonce mismatch');
  // OIDC Core §3.1.3.7 (4–5): with several audiences, azp must name us; when present it always must.
  const multipleAudiences = Array.isArray(payload.aud) && payload.aud.length > 1;
  if ((multipleAudiences || payload.azp !== undefined) && payload.azp !== clientId) {
    throw new OidcError('ID token rejected: authorized party is not this client');
  }
  return payload;
}

/** The userinfo claims (Bearer access token). */
export async function fetchUserinfo(
  meta: Pick<ProviderMetadata, 'userinfoEndpoint'>,
  accessToken: string,
): Promise<Record<string, unknown>> {
  if (!meta.userinfoEndpoint) return {};
  try {
    const res = await fetch(meta.userinfoEndpoint, {
      headers: { authorization: `Bearer ${accessToken}`, accept: 'application/json' },
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    return (await res.json()) as Record<string, unknown>;
  } catch (err) {
    throw new OidcError(`userinfo failed: ${(err as Error).message}`);
  }
}

/** Profile fields of a login, as stored by the identity module. */
export interface OidcIdentity {
  sub: string;
  email: string;
  name: string | null;
  picture: string | null;
}

const str = (v: unknown, max = 1024): string | null =>
  typeof v === 'string' && v.trim() !== '' ? v.trim().slice(0, max) : null;

/**
 * Pure: sub, email, name and picture from the ID token claims, completed by
 * userinfo (whose `sub` must be the same person, OIDC Core §5.3.2). An
 * e-mail the provider says is unverified is refused: the user id is derived
 * from it, so accepting it would let anyone claim someone else's account.
 */
export function identityFromClaims(idClaims: JWTPayload, userinfo: Record<string, unknown>): OidcIdentity {
  const sub = str(idClaims.sub, 255);
  if (!sub) throw new OidcError('ID token has no subject');
  if (userinfo.sub !== undefined && userinfo.sub !== sub) throw new OidcError('userinfo subject mismatch');
  const merged: Record<string, unknown> = { ...userinfo, ...stripUndefined(idClaims) };
  const email = str(merged.email, 320);
  if (!email || !/^[^\s@]+@[^\s@]+$/.test(email)) throw new OidcError('the provider returned no e-mail address');
  if (merged.email_verified === false || merged.email_verified === 'false') {
    throw new OidcError('the provider says the e-mail address is not verified');
  }
  const picture = str(merged.picture, 2048);
  return {
    sub,
    email,
    name: str(merged.name, 256),
    picture: picture && /^https?:\/\//i.test(picture) ? picture : null,
  };
}

function stripUndefined(o: object): Record<string, unknown> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));
}
