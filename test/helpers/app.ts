/**
 * Helpers for tests that drive the Worker through its public HTTP surface.
 */
import { env, exports } from 'cloudflare:workers';
import { createExecutionContext, waitOnExecutionContext } from 'cloudflare:test';
import worker from '../../src/index.ts';
import type { Env } from '../../src/env.ts';
import { getConfig, type Config } from '../../src/config.ts';
import { getSigningKeys } from '../../src/auth/keys.ts';
import { signPermissionToken, signUserToken, type Permissions } from '../../src/auth/tokens.ts';

export const BASE = 'http://conductor.test';

export function config(): Config {
  return getConfig(env);
}

/** Sends a request to the Worker under test; `path` is relative to BASE. */
export function call(path: string, init?: RequestInit): Promise<Response> {
  return exports.default.fetch(new Request(BASE + path, init));
}

/**
 * Sends a request to the Worker with the bindings `e` (e.g. the test
 * bindings plus other settings: a distinct env object gets its own Config).
 */
export async function callWith(e: Env, path: string, init?: RequestInit): Promise<Response> {
  const ctx = createExecutionContext();
  const res = await worker.fetch(new Request(BASE + path, init) as Parameters<typeof worker.fetch>[0], e, ctx);
  await waitOnExecutionContext(ctx);
  return res;
}

/** A user token for `userid`, as /oauth/google_callback would issue it. */
export async function userToken(userid: string, ttlSeconds = 3600): Promise<string> {
  const cfg = config();
  return signUserToken(await getSigningKeys(cfg), cfg, userid, ttlSeconds);
}

/** A permission token, as /user/authorize would issue it. */
export async function permissionToken(
  userid: string,
  service = 'os.datastore',
  permissions: Permissions = { 'datapackage-upload': true },
  ttlSeconds = 3600,
): Promise<string> {
  const cfg = config();
  return signPermissionToken(await getSigningKeys(cfg), cfg, { userid, service, permissions }, ttlSeconds);
}

/** A fresh user id (32 hex characters, like an idhash) so tests never collide. */
export function newUserId(): string {
  return crypto.randomUUID().replace(/-/g, '');
}
