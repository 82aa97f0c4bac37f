/**
 * User tokens and permission tokens: the whole trust boundary for JWTs.
 *
 * Both kinds are RS256 (the only algorithm any key is used with) and carry
 * iss/aud/sub/iat/exp/jti. They can never stand in for each other: the `typ`
 * header differs, and so does the audience (this service for user tokens,
 * the permission's service for permission tokens). Verification pins the
 * algorithm and the key id, so alg:none, HS/RS confusion and unknown keys are
 * rejected. Verifiers return null instead of throwing: a bad token is a normal
 * input, never a 500.
 */
import { SignJWT, jwtVerify, type JWTHeaderParameters, type FlattenedJWSInput } from 'jose';
import type { Config } from '../config.ts';
import type { SigningKeys } from './keys.ts';

export const USER_TOKEN_TYPE = 'os-user+jwt';
export const PERMISSION_TOKEN_TYPE = 'os-permission+jwt';
/** Audience of user tokens: the identity service itself. */
export const USER_TOKEN_AUDIENCE = 'os.user';
const ALGORITHM = 'RS256';

export type Permissions = Record<string, unknown>;

export interface UserTokenClaims {
  userid: string;
}

export interface PermissionTokenClaims {
  userid: string;
  service: string;
  permissions: Permissions;
}

type TokenConfig = Pick<Config, 'OS_BASE_URL'>;

function keyResolver(keys: SigningKeys) {
  return (header: JWTHeaderParameters, _token: FlattenedJWSInput) => {
    const key = header.kid ? keys.verificationKeys.get(header.kid) : undefined;
    if (!key) throw new Error('unknown key id');
    return key;
  };
}

async function sign(
  keys: SigningKeys,
  config: TokenConfig,
  typ: string,
  audience: string,
  claims: Record<string, unknown> & { userid: string },
  ttlSeconds: number,
): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT(claims)
    .setProtectedHeader({ alg: ALGORITHM, typ, kid: keys.kid })
    .setIssuer(config.OS_BASE_URL)
    .setAudience(audience)
    .setSubject(claims.userid)
    .setIssuedAt(now)
    .setExpirationTime(now + ttlSeconds)
    .setJti(crypto.randomUUID())
    .sign(keys.privateKey);
}

/** Issues a user token (the `jwt` a browser gets after login). */
export function signUserToken(
  keys: SigningKeys,
  config: TokenConfig,
  userid: string,
  ttlSeconds: number,
): Promise<string> {
  return sign(keys, config, USER_TOKEN_TYPE, USER_TOKEN_AUDIENCE, { userid }, ttlSeconds);
}

/** Issues a permission token for one service (the `token` of /user/authorize). */
export function signPermissionToken(
  keys: SigningKeys,
  config: TokenConfig,
  claims: PermissionTokenClaims,
  ttlSeconds: number,
): Promise<string> {
  return sign(keys, config, PERMISSION_TOKEN_TYPE, claims.service, { ...claims }, ttlSeconds);
}

/** The user id of a valid user token, or null for anything else. */
export async function verifyUserToken(
  keys: SigningKeys,
  config: TokenConfig,
  token: string | undefined | null,
): Promise<UserTokenClaims | null> {
  if (!token) return null;
  try {
    const { payload } = await jwtVerify(token, keyResolver(keys), {
      algorithms: [ALGORITHM],
      issuer: config.OS_BASE_URL,
      audience: USER_TOKEN_AUDIENCE,
      typ: USER_TOKEN_TYPE,
      requiredClaims: ['exp', 'iat', 'jti', 'sub'],
    });
    if (typeof payload.userid !== 'string' || payload.userid !== payload.sub) return null;
    return { userid: payload.userid };
  } catch {
    return null;
  }
}

/**
 * The claims of a valid permission token, or null. With `service`, the token
 * must have been issued for that service.
 */
export async function verifyPermissionToken(
  keys: SigningKeys,
  config: TokenConfig,
  token: string | undefined | null,
  service?: string,
): Promise<PermissionTokenClaims | null> {
  if (!token) return null;
  try {
    const { payload } = await jwtVerify(token, keyResolver(keys), {
      algorithms: [ALGORITHM],
      issuer: config.OS_BASE_URL,
      typ: PERMISSION_TOKEN_TYPE,
      requiredClaims: ['exp', 'iat', 'jti', 'sub', 'aud'],
      ...(service ? { audience: service } : {}),
    });
    const { userid, permissions } = payload;
    const tokenService = payload.service;
    if (typeof userid !== 'string' || userid !== payload.sub) return null;
    if (typeof tokenService !== 'string' || payload.aud !== tokenService) return null;
    if (typeof permissions !== 'object' || permissions === null || Array.isArray(permissions)) return null;
    return { userid, service: tokenService, permissions: permissions as Permissions };
  } catch {
    return null;
  }
}

/**
 * True when a permission token grants os.datastore datapackage-upload: the
 * claim must be JSON `true` (permissions are booleans; a "false" string in an
 * older token grants nothing).
 */
export function canUpload(claims: PermissionTokenClaims | null): claims is PermissionTokenClaims {
  return !!claims && claims.service === 'os.datastore' && claims.permissions['datapackage-upload'] === true;
}
