import { env } from 'cloudflare:workers';
import { SignJWT, base64url } from 'jose';
import { describe, expect, it } from 'vitest';
import { getConfig } from '../config.ts';
import { getSigningKeys } from './keys.ts';
import {
  canUpload,
  signPermissionToken,
  signUploadToken,
  signUserToken,
  verifyPermissionToken,
  verifyUploadToken,
  verifyUserToken,
} from './tokens.ts';

const config = getConfig(env);

function unsignedToken(claims: Record<string, unknown>): string {
  const enc = (o: unknown) => base64url.encode(JSON.stringify(o));
  return `${enc({ alg: 'none', typ: 'os-user+jwt' })}.${enc(claims)}.`;
}

describe('user tokens', () => {
  it('round-trips the user id', async () => {
    const keys = await getSigningKeys(config);
    const token = await signUserToken(keys, config, 'abc', 60);
    expect(await verifyUserToken(keys, config, token)).toEqual({ userid: 'abc' });
  });

  it('rejects an expired token', async () => {
    const keys = await getSigningKeys(config);
    const now = Math.floor(Date.now() / 1000);
    const token = await new SignJWT({ userid: 'abc' })
      .setProtectedHeader({ alg: 'RS256', typ: 'os-user+jwt', kid: keys.kid })
      .setIssuer(config.OS_BASE_URL)
      .setAudience('os.user')
      .setSubject('abc')
      .setIssuedAt(now - 120)
      .setExpirationTime(now - 60)
      .setJti('x')
      .sign(keys.privateKey);
    expect(await verifyUserToken(keys, config, token)).toBeNull();
  });

  it('rejects alg:none', async () => {
    const keys = await getSigningKeys(config);
    const now = Math.floor(Date.now() / 1000);
    const token = unsignedToken({ userid: 'abc', sub: 'abc', iss: config.OS_BASE_URL, aud: 'os.user', iat: now, exp: now + 60, jti: 'x' });
    expect(await verifyUserToken(keys, config, token)).toBeNull();
  });

  it('rejects an HS256 token whose secret is the public key PEM', async () => {
    const keys = await getSigningKeys(config);
    const token = await new SignJWT({ userid: 'abc' })
      .setProtectedHeader({ alg: 'HS256', typ: 'os-user+jwt', kid: keys.kid })
      .setIssuer(config.OS_BASE_URL)
      .setAudience('os.user')
      .setSubject('abc')
      .setIssuedAt()
      .setExpirationTime('1h')
      .setJti('x')
      .sign(new TextEncoder().encode(keys.publicPem));
    expect(await verifyUserToken(keys, config, token)).toBeNull();
  });

  it('never accepts a permission token as a user token, nor the reverse', async () => {
    const keys = await getSigningKeys(config);
    const pt = await signPermissionToken(keys, config, { userid: 'abc', service: 'os.datastore', permissions: {} }, 60);
    const ut = await signUserToken(keys, config, 'abc', 60);
    expect(await verifyUserToken(keys, config, pt)).toBeNull();
    expect(await verifyPermissionToken(keys, config, ut)).toBeNull();
    expect(await verifyPermissionToken(keys, config, pt, 'os.datastore')).toEqual({
      userid: 'abc',
      service: 'os.datastore',
      permissions: {},
    });
    expect(await verifyPermissionToken(keys, config, pt, 'other.service')).toBeNull();
  });

  it('treats garbage as no token', async () => {
    const keys = await getSigningKeys(config);
    for (const bad of ['', 'x', 'a.b.c', 'testing-token', '.'.repeat(3000)]) {
      expect(await verifyUserToken(keys, config, bad)).toBeNull();
      expect(await verifyPermissionToken(keys, config, bad)).toBeNull();
    }
  });
});

describe('multipart upload tokens', () => {
  const claims = { userid: 'abc', key: 'abc/ds/file.csv', uploadId: 'up-1', length: 12_582_912 };

  it('round-trips the upload it names', async () => {
    const keys = await getSigningKeys(config);
    expect(await verifyUploadToken(keys, config, await signUploadToken(keys, config, claims, 60))).toEqual(claims);
  });

  it('never stands in for a user or permission token, nor the reverse', async () => {
    const keys = await getSigningKeys(config);
    const upload = await signUploadToken(keys, config, claims, 60);
    expect(await verifyUserToken(keys, config, upload)).toBeNull();
    expect(await verifyPermissionToken(keys, config, upload)).toBeNull();
    expect(await verifyUploadToken(keys, config, await signUserToken(keys, config, 'abc', 60))).toBeNull();
    const pt = await signPermissionToken(keys, config, { userid: 'abc', service: 'os.datastore', permissions: {} }, 60);
    expect(await verifyUploadToken(keys, config, pt)).toBeNull();
  });

  it('refuses an expired, unsigned or altered upload token', async () => {
    const keys = await getSigningKeys(config);
    expect(await verifyUploadToken(keys, config, await signUploadToken(keys, config, claims, -1))).toBeNull();
    const now = Math.floor(Date.now() / 1000);
    const unsigned = `${base64url.encode(JSON.stringify({ alg: 'none', typ: 'os-upload+jwt' }))}.${base64url.encode(
      JSON.stringify({ userid: 'abc', sub: 'abc', key: 'abc/x', upload_id: 'u', length: 1, iss: config.OS_BASE_URL, aud: 'os.datastore.multipart', iat: now, exp: now + 60, jti: 'x' }),
    )}.`;
    expect(await verifyUploadToken(keys, config, unsigned)).toBeNull();
    const [h, , sig] = (await signUploadToken(keys, config, claims, 60)).split('.');
    const altered = `${h}.${base64url.encode(JSON.stringify({ ...claims, length: 1 }))}.${sig}`;
    expect(await verifyUploadToken(keys, config, altered)).toBeNull();
  });
});

describe('canUpload: datapackage-upload must be JSON true on an os.datastore token', () => {
  const claims = (service: string, value: unknown) => ({ userid: 'u', service, permissions: { 'datapackage-upload': value } });
  it.each([
    ['true on os.datastore', claims('os.datastore', true), true],
    ['the string "false"', claims('os.datastore', 'false'), false],
    ['the string "true"', claims('os.datastore', 'true'), false],
    ['1', claims('os.datastore', 1), false],
    ['false', claims('os.datastore', false), false],
    ['absent', { userid: 'u', service: 'os.datastore', permissions: {} }, false],
    ['true on another service', claims('os.other', true), false],
    ['no token', null, false],
  ])('%s', (_name, value, expected) => {
    expect(canUpload(value)).toBe(expected);
  });
});
