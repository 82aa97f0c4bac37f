/**
 * API-key login (OS_CLIENT_API_KEYS="key:userid,key2:userid2"), as the
 * vulekamali deployment uses it. Keys are compared in constant time: both
 * sides are hashed with SHA-256 first so the comparison never depends on the
 * key's length or content, and every configured key is checked.
 */

export interface ApiKeyEntry {
  key: string;
  userid: string;
}

/** Longest x-api-key header we hash at all. */
export const MAX_API_KEY_LENGTH = 512;

/**
 * Parses the setting; entries without both a key and a user id are dropped.
 * The user id is after the last ':' (ids are hex; keys may contain ':').
 */
export function parseApiKeys(setting: string | undefined): ApiKeyEntry[] {
  const out: ApiKeyEntry[] = [];
  for (const raw of (setting ?? '').split(',')) {
    const entry = raw.trim();
    const at = entry.lastIndexOf(':');
    if (at <= 0) continue;
    const key = entry.slice(0, at).trim();
    const userid = entry.slice(at + 1).trim();
    if (key && userid) out.push({ key, userid });
  }
  return out;
}

async function sha256(text: string): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text)));
}

function equalDigests(a: Uint8Array, b: Uint8Array): boolean {
  let diff = a.length ^ b.length;
  for (let i = 0; i < a.length; i++) diff |= (a[i] ?? 0) ^ (b[i] ?? 0);
  return diff === 0;
}

/** The user id whose key matches `presented`, or null. */
export async function matchApiKey(entries: readonly ApiKeyEntry[], presented: string | undefined): Promise<string | null> {
  if (!presented || presented.length > MAX_API_KEY_LENGTH) return null;
  const given = await sha256(presented);
  let match: string | null = null;
  for (const entry of entries) {
    // No early exit: the time taken does not reveal which entry matched.
    if (equalDigests(given, await sha256(entry.key)) && match === null) match = entry.userid;
  }
  return match;
}
