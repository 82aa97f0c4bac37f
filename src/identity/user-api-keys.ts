/**
 * Named API keys a logged-in user creates, lists and revokes (/user/api_keys),
 * exchanged for a user token at /user/authenticate_api_key exactly like the
 * OS_CLIENT_API_KEYS keys (api-keys.ts).
 *
 * A key is `osk_` + 32 random bytes (base64url): the prefix makes a leaked
 * key recognisable to secret scanners and tells the two kinds of key apart
 * without a database round trip. Only its SHA-256 is stored and it is found
 * by that digest: the lookup's timing depends on the digest alone, which a
 * caller cannot steer towards a stored one without the key (256 bits), so no
 * comparison of secret bytes happens outside the hash.
 */
import type { Client } from '@neondatabase/serverless';
import { transaction, type Db } from '../db/client.ts';
import { MAX_API_KEY_LENGTH } from './api-keys.ts';

export const USER_API_KEY_PREFIX = 'osk_';
const KEY_BYTES = 32;
/** `osk_` and 43 base64url characters (32 bytes); nothing else reaches the database. */
const KEY_FORMAT = /^osk_[A-Za-z0-9_-]{43}$/;

/** 1–64 characters of letters, digits, space `.` `_` `-`; no leading or trailing space. */
export const KEY_NAME_PATTERN = /^[A-Za-z0-9._-](?:[A-Za-z0-9 ._-]{0,62}[A-Za-z0-9._-])?$/;
/** A key given an expiry lives 1 to this many days; without one it lives until revoked. */
export const MAX_EXPIRY_DAYS = 365;

/** Error strings (the token ones are /user/update's, see username.ts). */
export const API_KEY_ERRORS = {
  invalidName: "Invalid name: use 1-64 characters (letters, digits, space, '.', '_', '-'), not starting or ending with a space",
  nameTaken: 'Name already used by another of your keys',
  invalidExpiry: `Invalid expires_in_days: a whole number of days from 1 to ${MAX_EXPIRY_DAYS}`,
  tooMany: 'Too many API keys: revoke one first',
  unknownKey: 'Unknown API key',
} as const;

/** What the list (and the creation answer) shows of a key: never the key. */
export interface ApiKeyInfo {
  id: string;
  name: string;
  created: string;
  last_used: string | null;
  expires: string | null;
}

export function isValidKeyName(name: string): boolean {
  return KEY_NAME_PATTERN.test(name);
}

/**
 * The expiry for `expires_in_days` (absent or empty: none), or 'invalid'
 * unless it is a whole number of days within 1..MAX_EXPIRY_DAYS.
 */
export function expiryFrom(days: string | undefined, now: Date): Date | null | 'invalid' {
  if (days === undefined || days === '') return null;
  if (!/^[0-9]{1,3}$/.test(days)) return 'invalid';
  const n = Number(days);
  if (n < 1 || n > MAX_EXPIRY_DAYS) return 'invalid';
  return new Date(now.getTime() + n * 24 * 3600 * 1000);
}

/** True when `presented` has the shape of a key this module issues. */
export function isUserApiKey(presented: string | undefined): presented is string {
  return presented !== undefined && presented.length <= MAX_API_KEY_LENGTH && KEY_FORMAT.test(presented);
}

/** A new key: 256 bits from crypto.getRandomValues, base64url, behind the prefix. */
export function generateApiKey(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(KEY_BYTES));
  const b64 = btoa(String.fromCharCode(...bytes));
  return USER_API_KEY_PREFIX + b64.replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/** SHA-256 hex of a key: the only form it is stored in. */
export async function hashApiKey(key: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(key));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('');
}

interface KeyRow {
  id: string;
  name: string;
  created_at: Date | string;
  last_used_at: Date | string | null;
  expires_at: Date | string | null;
}

const iso = (v: Date | string | null): string | null => (v === null ? null : new Date(v).toISOString());

function toInfo(row: KeyRow): ApiKeyInfo {
  return {
    id: row.id,
    name: row.name,
    created: iso(row.created_at) as string,
    last_used: iso(row.last_used_at),
    expires: iso(row.expires_at),
  };
}

const COLUMNS = 'id, name, created_at, last_used_at, expires_at';

async function userExists(db: Db, userid: string, lock: boolean): Promise<boolean> {
  const { rows } = await db.query(`SELECT 1 FROM users WHERE id = $1${lock ? ' FOR UPDATE' : ''}`, [userid]);
  return rows.length > 0;
}

export type CreateResult =
  | { key: string; info: ApiKeyInfo }
  | 'unknown-user'
  | 'too-many'
  | 'name-taken';

/**
 * Stores a new key for `userid` unless they already hold `max` keys that
 * have not expired. The user's row is locked for the count and insert, so
 * concurrent requests cannot pass the limit together.
 */
export async function createUserApiKey(
  db: Client,
  userid: string,
  name: string,
  expires: Date | null,
  max: number,
): Promise<CreateResult> {
  const key = generateApiKey();
  const keyHash = await hashApiKey(key);
  try {
    return await transaction(db, async () => {
      if (!(await userExists(db, userid, true))) return 'unknown-user' as const;
      const { rows: counted } = await db.query<{ n: string }>(
        'SELECT count(*) AS n FROM user_api_keys WHERE userid = $1 AND (expires_at IS NULL OR expires_at > now())',
        [userid],
      );
      if (Number(counted[0]?.n ?? 0) >= max) return 'too-many' as const;
      const { rows } = await db.query<KeyRow>(
        `INSERT INTO user_api_keys (id, userid, name, key_hash, expires_at) VALUES ($1, $2, $3, $4, $5) RETURNING ${COLUMNS}`,
        [crypto.randomUUID(), userid, name, keyHash, expires],
      );
      return { key, info: toInfo(rows[0] as KeyRow) };
    });
  } catch (err) {
    // The (userid, lower(name)) index; key_hash collisions of 256-bit keys do not happen.
    if ((err as { code?: string }).code === '23505') return 'name-taken';
    throw err;
  }
}

/** The user's keys, oldest first, or 'unknown-user'. */
export async function listUserApiKeys(db: Db, userid: string): Promise<ApiKeyInfo[] | 'unknown-user'> {
  if (!(await userExists(db, userid, false))) return 'unknown-user';
  const { rows } = await db.query<KeyRow>(
    `SELECT ${COLUMNS} FROM user_api_keys WHERE userid = $1 ORDER BY created_at, id`,
    [userid],
  );
  return rows.map(toInfo);
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Deletes the key `id` of `userid`. Another user's key and a key that does
 * not exist are the same 'unknown-key': no one learns which ids exist.
 */
export async function revokeUserApiKey(db: Db, userid: string, id: string): Promise<'ok' | 'unknown-key' | 'unknown-user'> {
  if (!(await userExists(db, userid, false))) return 'unknown-user';
  if (!UUID.test(id)) return 'unknown-key';
  const { rowCount } = await db.query('DELETE FROM user_api_keys WHERE id = $1 AND userid = $2', [id, userid]);
  return rowCount === 1 ? 'ok' : 'unknown-key';
}

/**
 * The user id of a stored key that has not expired, recording its use; null
 * otherwise. A revoked key has no row, so it fails from the next request on.
 */
export async function useUserApiKey(db: Db, presented: string): Promise<string | null> {
  if (!isUserApiKey(presented)) return null;
  const { rows } = await db.query<{ userid: string }>(
    `UPDATE user_api_keys SET last_used_at = now()
     WHERE key_hash = $1 AND (expires_at IS NULL OR expires_at > now())
     RETURNING userid`,
    [await hashApiKey(presented)],
  );
  return rows[0]?.userid ?? null;
}
