/**
 * User tokens and permission tokens: the whole trust boundary for JWTs.
 *
 * All kinds (and the multipart upload tokens) are RS256 (the only algorithm any key is used with) and carry
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
/** Multipart upload tokens: what /datastore/authorize planned, for complete, abort and resume. */
export const UPLOAD_TOKEN_TYPE = 'os-upload+jwt';
const UPLOAD_TOKEN_AUDIENCE = 'os.datastore.multipart';
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

/**
 * What a multipart upload token vouches for: the upload the service started
 * (its key and id) and the length the plan was cut from. complete, abort and
 * resume check parts against this, never against what a client says.
 */
export interface UploadTokenClaims {
  /** The owner (metadata.owner, the permission token's user). */
  userid: string;
  key: string;
  uploadId: string;
  length: number;
}

/** Issues the token of one multipart upload (its `upload_token` in the plan). */
export function signUploadToken(
  keys: SigningKeys,
  config: TokenConfig,
  claims: UploadTokenClaims,
  ttlSeconds: number,
): Promise<string> {
  const { userid, key, uploadId, length } = claims;
  return sign(keys, config, UPLOAD_TOKEN_TYPE, UPLOAD_TOKEN_AUDIENCE, { userid, key, upload_id: uploadId, length }, ttlSeconds);
}

/** The claims of a valid, unexpired upload token, or null. */
export async function verifyUploadToken(
  keys: SigningKeys,
  config: TokenConfig,
  token: string | undefined | null,
): Promise<UploadTokenClaims | null> {
  if (!token) return null;
  try {
    const { payload } = await jwtVerify(token, keyResolver(keys), {
      algorithms: [ALGORITHM],
      issuer: config.OS_BASE_URL,
      audience: UPLOAD_TOKEN_AUDIENCE,
      typ: UPLOAD_TOKEN_TYPE,
      requiredClaims: ['exp', 'iat', 'jti', 'sub'],
    });
    const { userid, key, upload_id: uploadId, length } = payload;
    if (typeof userid !== 'string' || userid !== payload.sub) return null;
    if (typeof key !== 'string' || typeof uploadId !== 'string' || uploadId === '') return null;
    if (typeof length !== 'number' || !Number.isSafeInteger(length) || length < 0) return null;
    return { userid, key, uploadId, length };
  } catch {
    return null;
  }
}
