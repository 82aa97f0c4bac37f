/**
 * User profiles in Postgres (`users`). The id is the idhash every client
 * uses: md5 hex of the e-mail address, trimmed and lower-cased (the original
 * hashed the address as Google returned it, which Google returns in lower
 * case, so existing ids are unchanged).
 */
import type { Client } from '@neondatabase/serverless';

type Db = Pick<Client, 'query'>;

/** The profile shape /user/check returns (original field names). */
export interface Profile {
  avatar_url: string | null;
  email: string | null;
  id: string;
  idhash: string;
  join_date: string;
  name: string | null;
  username: string | null;
}

interface UserRow {
  id: string;
  provider_id: string | null;
  name: string | null;
  email: string | null;
  avatar_url: string | null;
  username: string | null;
  join_date: Date | string;
}

/** What a login tells us about the person. */
export interface LoginIdentity {
  providerId: string;
  email: string;
  name: string | null;
  picture: string | null;
}

const hex = (bytes: ArrayBuffer) => [...new Uint8Array(bytes)].map((b) => b.toString(16).padStart(2, '0')).join('');

/** md5 hex of the normalised e-mail address. */
export async function idhashForEmail(email: string): Promise<string> {
  const digest = await crypto.subtle.digest('MD5', new TextEncoder().encode(email.trim().toLowerCase()));
  return hex(digest);
}

function toProfile(row: UserRow): Profile {
  const joined = row.join_date instanceof Date ? row.join_date : new Date(row.join_date);
  return {
    avatar_url: row.avatar_url,
    email: row.email,
    // The original's `id` was the provider id (google:<sub>); idhash is the user id.
    id: row.provider_id ?? row.id,
    idhash: row.id,
    join_date: joined.toISOString(),
    name: row.name,
    username: row.username,
  };
}

const COLUMNS = 'id, provider_id, name, email, avatar_url, username, join_date';

/** The profile of `idhash`, or null when there is no such user. */
export async function getProfile(db: Db, idhash: string): Promise<Profile | null> {
  const { rows } = await db.query<UserRow>(`SELECT ${COLUMNS} FROM users WHERE id = $1`, [idhash]);
  return rows[0] ? toProfile(rows[0]) : null;
}

/**
 * Creates or refreshes the user behind a login. Name, e-mail and picture
 * follow the provider; username and join date are kept.
 */
export async function upsertLoginUser(db: Db, identity: LoginIdentity): Promise<Profile> {
  const idhash = await idhashForEmail(identity.email);
  const { rows } = await db.query<UserRow>(
    `INSERT INTO users (id, provider_id, name, email, avatar_url)
     VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT (id) DO UPDATE SET provider_id = EXCLUDED.provider_id, name = EXCLUDED.name,
       email = EXCLUDED.email, avatar_url = EXCLUDED.avatar_url
     RETURNING ${COLUMNS}`,
    [idhash, identity.providerId, identity.name, identity.email.trim(), identity.picture],
  );
  return toProfile(rows[0] as UserRow);
}

/** Makes sure a user row exists for `idhash` (API-key users need not have logged in). */
export async function ensureUser(db: Db, idhash: string): Promise<void> {
  await db.query(`INSERT INTO users (id, provider_id) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING`, [
    idhash,
    `apikey:${idhash}`,
  ]);
}

export type SetUsernameResult = 'ok' | 'unknown-user' | 'already-set' | 'taken';

/**
 * Sets the username once. Atomic: the row is only updated while its username
 * is still null, and the unique index decides races on the name.
 */
export async function setUsername(db: Db, idhash: string, username: string): Promise<SetUsernameResult> {
  try {
    const { rowCount } = await db.query('UPDATE users SET username = $2 WHERE id = $1 AND username IS NULL', [
      idhash,
      username,
    ]);
    if (rowCount === 1) return 'ok';
  } catch (err) {
    if ((err as { code?: string }).code === '23505') return 'taken';
    throw err;
  }
  const { rows } = await db.query<{ username: string | null }>('SELECT username FROM users WHERE id = $1', [idhash]);
  return rows[0] ? 'already-set' : 'unknown-user';
}
