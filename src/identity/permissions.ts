/**
 * Permissions per user and service. Postgres table `permissions(userid,
 * service, permissions jsonb)`; the row of userid '*' applies to everyone and
 * is merged first, then the user's own row overrides it key by key. When no
 * '*' row exists for a service, OS_DEFAULT_PERMISSIONS[service] stands in for it.
 * Permissions are booleans: only a stored JSON `true` grants (a stored "false"
 * string, 1 or "yes" does not), so tokens carry `true` or `false` only.
 */
import type { Client } from '@neondatabase/serverless';
import type { Permissions } from '../auth/tokens.ts';

/** The userid of rows that apply to everyone. */
export const EVERYONE = '*';

/** Longest service name accepted (real ones: `os.datastore`). */
export const SERVICE_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,99}$/;

/**
 * Pure merge: the everyone row (or the configured default when there is no
 * such row), then the user's row; each value becomes `value === true`.
 */
export function mergePermissions(
  everyoneRow: Permissions | undefined,
  userRow: Permissions | undefined,
  defaultGrant: Permissions | undefined,
): Record<string, boolean> {
  const merged = { ...(everyoneRow ?? defaultGrant ?? {}), ...(userRow ?? {}) };
  return Object.fromEntries(Object.entries(merged).map(([name, value]) => [name, value === true]));
}

function asPermissions(value: unknown): Permissions | undefined {
  return value && typeof value === 'object' && !Array.isArray(value) ? (value as Permissions) : undefined;
}

/** The effective permissions of `userid` for `service`. */
export async function getPermissions(
  db: Pick<Client, 'query'>,
  userid: string,
  service: string,
  defaults: Record<string, Permissions>,
): Promise<Record<string, boolean>> {
  const { rows } = await db.query<{ userid: string; permissions: unknown }>(
    'SELECT userid, permissions FROM permissions WHERE service = $1 AND userid IN ($2, $3)',
    [service, EVERYONE, userid],
  );
  const everyone = rows.find((r) => r.userid === EVERYONE);
  const own = userid === EVERYONE ? undefined : rows.find((r) => r.userid === userid);
  const fallback = Object.prototype.hasOwnProperty.call(defaults, service) ? defaults[service] : undefined;
  return mergePermissions(asPermissions(everyone?.permissions), asPermissions(own?.permissions), fallback);
}
