import { env } from 'cloudflare:workers';
import { calculateJwkThumbprint, exportJWK, exportSPKI, generateKeyPair, SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '../config.ts';
import { getSigningKeys, normalisePublicPem } from './keys.ts';
import { USER_TOKEN_AUDIENCE, USER_TOKEN_TYPE, verifyUserToken } from './tokens.ts';

const baseEnv = { ...(env as unknown as Record<string, string>), OS_BASE_URL: 'http://conductor.test' };

async function previousKeyPair() {
  const pair = await generateKeyPair('RS256', { extractable: true });
  const pem = await exportSPKI(pair.publicKey);
  const kid = await calculateJwkThumbprint(await exportJWK(pair.publicKey));
  return { ...pair, pem, kid };
}

function tokenSignedWith(privateKey: CryptoKey, kid: string, userid: string) {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ userid })
    .setProtectedHeader({ alg: 'RS256', typ: USER_TOKEN_TYPE, kid })
    .setIssuer('http://conductor.test')
    .setAudience(USER_TOKEN_AUDIENCE)
    .setSubject(userid)
    .setIssuedAt(now)
    .setExpirationTime(now + 600)
    .setJti(crypto.randomUUID())
    .sign(privateKey);
}

describe('signing keys: rotation and configuration errors', () => {
  it('publishes the previous public key in the JWKS and still accepts its tokens', async () => {
    const previous = await previousKeyPair();
    const config = parseConfig({ ...baseEnv, OS_PREVIOUS_PUBLIC_KEY: previous.pem });
    const keys = await getSigningKeys(config);
    expect(keys.jwks.keys.map((k) => k.kid)).toEqual([keys.kid, previous.kid]);
    const token = await tokenSignedWith(previous.privateKey, previous.kid, 'rotated-user');
    expect(await verifyUserToken(keys, config, token)).toEqual({ userid: 'rotated-user' });
  });

  it('rejects tokens of a key that is neither current nor previous', async () => {
    const stranger = await previousKeyPair();
    const config = parseConfig(baseEnv);
    const keys = await getSigningKeys(config);
    expect(keys.jwks.keys).toHaveLength(1);
    expect(await verifyUserToken(keys, config, await tokenSignedWith(stranger.privateKey, stranger.kid, 'x'))).toBeNull();
    // Even when it claims the current kid.
    expect(await verifyUserToken(keys, config, await tokenSignedWith(stranger.privateKey, keys.kid, 'x'))).toBeNull();
  });

  it('refuses to start without key material (no built-in keys)', async () => {
    const config = parseConfig({
      ...baseEnv,
      OS_CONDUCTOR_SECRETS_0: '',
      OS_CONDUCTOR_SECRETS_1: '',
      OS_CONDUCTOR_SECRETS_2: '',
      OS_CONDUCTOR_SECRETS_3: '',
    });
    await expect(getSigningKeys(config)).rejects.toBeInstanceOf(ConfigError);
  });

  it('refuses a previous key that is not a public key PEM', async () => {
    const config = parseConfig({ ...baseEnv, OS_PREVIOUS_PUBLIC_KEY: 'not a pem' });
    await expect(getSigningKeys(config)).rejects.toBeInstanceOf(ConfigError);
  });

  it('reads a PKCS#1 "RSA PUBLIC KEY" PEM as the same key as its SPKI form', async () => {
    const keys = await getSigningKeys(parseConfig(baseEnv));
    const body = (pem: string) => pem.replace(/-----[^-]+-----|\s/g, '');
    const spki = Uint8Array.from(atob(body(keys.publicPem)), (ch) => ch.charCodeAt(0));
    // A 2048-bit SPKI is a fixed 24-byte header (algorithm id, BIT STRING) around the PKCS#1 key.
    const pkcs1 = btoa(String.fromCharCode(...spki.slice(24)));
    const pkcs1Pem = `-----BEGIN RSA PUBLIC KEY-----\n${pkcs1}\n-----END RSA PUBLIC KEY-----\n`;
    expect(body(normalisePublicPem(pkcs1Pem))).toBe(body(keys.publicPem));
  });
});
