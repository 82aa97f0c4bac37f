/**
 * The OS_CONDUCTOR_SECRETS_0..3 envelope of the original service:
 * JSON {"private.pem", "public.pem", "google.key", "google.secret.key"},
 * zlib-deflated, base64-encoded and split over four variables.
 */
import { generateKeyPairSync } from 'node:crypto';
import { deflateSync, inflateSync } from 'node:zlib';

export interface ConductorSecrets {
  'private.pem': string;
  'public.pem': string;
  'google.key': string;
  'google.secret.key': string;
}

export function generateRsaKeyPair(): { privatePem: string; publicPem: string } {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return {
    privatePem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  };
}

/** Encodes secrets into the four OS_CONDUCTOR_SECRETS_n values. */
export function encodeSecrets(secrets: ConductorSecrets): Record<string, string> {
  const blob = deflateSync(Buffer.from(JSON.stringify(secrets), 'utf8')).toString('base64');
  const size = Math.ceil(blob.length / 4);
  const out: Record<string, string> = {};
  for (let i = 0; i < 4; i++) out[`OS_CONDUCTOR_SECRETS_${i}`] = blob.slice(i * size, (i + 1) * size);
  return out;
}

export function decodeSecrets(env: Record<string, string | undefined>): ConductorSecrets {
  const blob = [0, 1, 2, 3].map((i) => env[`OS_CONDUCTOR_SECRETS_${i}`] ?? '').join('');
  return JSON.parse(inflateSync(Buffer.from(blob, 'base64')).toString('utf8')) as ConductorSecrets;
}
