/**
 * Signing keys. The RSA key pair comes from the original's
 * OS_CONDUCTOR_SECRETS_0..3 envelope (base64 of zlib-deflated JSON with
 * private.pem / public.pem / google.key / google.secret.key). There are no
 * built-in keys: without the envelope the service refuses to sign anything.
 */
import { calculateJwkThumbprint, exportJWK, importPKCS8, importSPKI, type CryptoKey, type JWK } from 'jose';
import { ConfigError, type Config } from '../config.ts';

export interface SigningKeys {
  kid: string;
  privateKey: CryptoKey;
  publicKey: CryptoKey;
  publicPem: string;
  /** Public keys accepted for verification, by kid (current and previous). */
  verificationKeys: Map<string, CryptoKey>;
  jwks: { keys: JWK[] };
  oauthClientId?: string;
  oauthClientSecret?: string;
}

interface SecretsEnvelope {
  'private.pem'?: string;
  'public.pem'?: string;
  'google.key'?: string;
  'google.secret.key'?: string;
}

function base64ToBytes(b64: string): Uint8Array<ArrayBuffer> {
  const bin = atob(b64.replace(/\s+/g, ''));
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

async function inflate(bytes: Uint8Array): Promise<string> {
  // 'deflate' is the zlib-wrapped format Python's zlib.compress writes.
  const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream('deflate'));
  return new Response(stream).text();
}

/** Decodes the OS_CONDUCTOR_SECRETS_n envelope; undefined when unset. */
export async function decodeSecretsEnvelope(config: Config): Promise<SecretsEnvelope | undefined> {
  const parts = [config.OS_CONDUCTOR_SECRETS_0, config.OS_CONDUCTOR_SECRETS_1, config.OS_CONDUCTOR_SECRETS_2, config.OS_CONDUCTOR_SECRETS_3];
  const blob = parts.map((p) => p ?? '').join('');
  if (!blob) return undefined;
  try {
    return JSON.parse(await inflate(base64ToBytes(blob))) as SecretsEnvelope;
  } catch {
    throw new ConfigError('OS_CONDUCTOR_SECRETS_0..3: not a base64 zlib-deflated JSON envelope');
  }
}

// DER length encoding for the PKCS#1 -> PKCS#8/SPKI wrappers below.
function derLength(n: number): number[] {
  if (n < 0x80) return [n];
  const bytes: number[] = [];
  while (n > 0) {
    bytes.unshift(n & 0xff);
    n >>= 8;
  }
  return [0x80 | bytes.length, ...bytes];
}
const RSA_ALGORITHM_ID = [0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01, 0x05, 0x00];

function pemBody(pem: string): Uint8Array {
  return base64ToBytes(pem.replace(/-----(BEGIN|END)[^-]+-----/g, ''));
}
function toPem(label: string, der: number[]): string {
  let bin = '';
  for (const b of der) bin += String.fromCharCode(b);
  const b64 = btoa(bin).replace(/(.{64})/g, '$1\n');
  return `-----BEGIN ${label}-----\n${b64}\n-----END ${label}-----\n`;
}

/** Accepts PKCS#8 or the PKCS#1 "RSA PRIVATE KEY" that openssl/older generators write. */
export function normalisePrivatePem(pem: string): string {
  if (!pem.includes('BEGIN RSA PRIVATE KEY')) return pem;
  const pkcs1 = [...pemBody(pem)];
  const octet = [0x04, ...derLength(pkcs1.length), ...pkcs1];
  const body = [0x02, 0x01, 0x00, ...RSA_ALGORITHM_ID, ...octet];
  return toPem('PRIVATE KEY', [0x30, ...derLength(body.length), ...body]);
}

/** Accepts SPKI or the PKCS#1 "RSA PUBLIC KEY" form. */
export function normalisePublicPem(pem: string): string {
  if (!pem.includes('BEGIN RSA PUBLIC KEY')) return pem;
  const pkcs1 = [...pemBody(pem)];
  const bits = [0x03, ...derLength(pkcs1.length + 1), 0x00, ...pkcs1];
  const body = [...RSA_ALGORITHM_ID, ...bits];
  return toPem('PUBLIC KEY', [0x30, ...derLength(body.length), ...body]);
}

async function importPublic(pem: string): Promise<{ key: CryptoKey; jwk: JWK; kid: string }> {
  const key = await importSPKI(normalisePublicPem(pem), 'RS256', { extractable: true });
  const jwk = await exportJWK(key);
  const kid = await calculateJwkThumbprint(jwk);
  return { key, kid, jwk: { ...jwk, kid, alg: 'RS256', use: 'sig' } };
}

const cache = new WeakMap<Config, Promise<SigningKeys>>();

/** The service's keys; throws ConfigError when none are configured. */
export function getSigningKeys(config: Config): Promise<SigningKeys> {
  let keys = cache.get(config);
  if (!keys) {
    keys = loadSigningKeys(config);
    keys.catch(() => cache.delete(config));
    cache.set(config, keys);
  }
  return keys;
}

async function loadSigningKeys(config: Config): Promise<SigningKeys> {
  const secrets = await decodeSecretsEnvelope(config);
  const privatePem = secrets?.['private.pem'];
  const publicPem = secrets?.['public.pem'];
  if (!privatePem || !publicPem) {
    throw new ConfigError(
      'OS_CONDUCTOR_SECRETS_0..3 must hold private.pem and public.pem (run `npm run secrets:generate`)',
    );
  }
  let privateKey: CryptoKey;
  let current: Awaited<ReturnType<typeof importPublic>>;
  try {
    privateKey = await importPKCS8(normalisePrivatePem(privatePem), 'RS256');
    current = await importPublic(publicPem);
  } catch {
    throw new ConfigError('OS_CONDUCTOR_SECRETS_0..3: private.pem/public.pem are not a usable RSA key pair');
  }
  const verificationKeys = new Map<string, CryptoKey>([[current.kid, current.key]]);
  const jwks: JWK[] = [current.jwk];
  if (config.OS_PREVIOUS_PUBLIC_KEY) {
    try {
      const previous = await importPublic(config.OS_PREVIOUS_PUBLIC_KEY);
      if (!verificationKeys.has(previous.kid)) {
        verificationKeys.set(previous.kid, previous.key);
        jwks.push(previous.jwk);
      }
    } catch {
      throw new ConfigError('OS_PREVIOUS_PUBLIC_KEY: not an RSA public key in PEM form');
    }
  }
  return {
    kid: current.kid,
    privateKey,
    publicKey: current.key,
    publicPem,
    verificationKeys,
    jwks: { keys: jwks },
    oauthClientId: secrets?.['google.key'] || undefined,
    oauthClientSecret: secrets?.['google.secret.key'] || undefined,
  };
}
