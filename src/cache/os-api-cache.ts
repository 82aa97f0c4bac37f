/**
 * Invalidation of os-api's response cache (the `os-api-cache` library on
 * Redis), so os-api stops serving a package's old model or data after it is
 * reloaded, published, deleted or given new default parameters.
 *
 * os-api-cache keeps, in Redis database 1, a set `ctx:"<package id>"` (the
 * context key: the JSON-encoded package id after `ctx:`) listing every cached
 * response key of that package; clearing deletes those keys and the set.
 */
import type { Config } from '../config.ts';
import { redisCommands } from './resp.ts';

const DEFAULT_PORT = 6379;
const OS_API_CACHE_DB = '1';

/** Parses OS_API_CACHE: `host`, `host:port` or `redis://host[:port][/db]`. */
export function parseCacheAddress(value: string): { hostname: string; port: number; db: string } {
  const withScheme = /^[a-z]+:\/\//i.test(value) ? value : `redis://${value}`;
  const url = new URL(withScheme);
  if (url.protocol !== 'redis:') throw new Error('OS_API_CACHE must be a redis host, host:port or redis:// URL');
  const db = url.pathname.replace(/^\//, '') || OS_API_CACHE_DB;
  if (!/^\d+$/.test(db)) throw new Error('OS_API_CACHE: the database must be a number');
  return { hostname: url.hostname.replace(/^\[|\]$/g, ''), port: url.port ? Number(url.port) : DEFAULT_PORT, db };
}

/** The os-api-cache context key of a package id. */
export function contextKey(packageId: string): string {
  return `ctx:${JSON.stringify(packageId)}`;
}

/**
 * Deletes every os-api cache entry of `packageId`. A no-op without
 * OS_API_CACHE. Returns the number of cached responses removed.
 */
export async function clearOsApiCache(config: Pick<Config, 'OS_API_CACHE'>, packageId: string): Promise<number> {
  if (!config.OS_API_CACHE) return 0;
  const address = parseCacheAddress(config.OS_API_CACHE);
  const ctx = contextKey(packageId);
  const [, members] = await redisCommands(address, [['SELECT', address.db], ['SMEMBERS', ctx]]);
  const keys = Array.isArray(members) ? members.filter((m): m is string => typeof m === 'string') : [];
  await redisCommands(address, [['SELECT', address.db], ['DEL', ctx, ...keys]]);
  return keys.length;
}
