/**
 * What /package/status answers: the load status under the key a client
 * polls with (src/durable/status-client.ts), except that a private
 * package's status found by its package id answers only its owner (a user
 * token), as publish, delete etc. hide the same id from everyone else.
 * A read link (private mode) answers for the bucket URL it stands for.
 */
import { getSigningKeys } from '../auth/keys.ts';
import { verifyUserToken } from '../auth/tokens.ts';
import type { Config } from '../config.ts';
import { bucketUrlOf, readerLinksOf } from '../datastore/reader-links.ts';
import { withDb } from '../db/client.ts';
import type { StatusView } from '../durable/package-status.ts';
import { lookupStatus, statusStream } from '../durable/status-client.ts';
import { urlAliasKey } from '../durable/status-keys.ts';
import type { Env } from '../env.ts';
import { mayManagePackage } from '../registry/policy.ts';
import { getPackage } from '../registry/registry.ts';

/** What a status is looked up by: in private mode readers were shown read links for the bucket URLs statuses are kept under. */
function lookupKey(config: Config, requested: string): string {
  const links = readerLinksOf(config);
  return (links && bucketUrlOf(links, requested)) ?? requested;
}

/** The status `requested` answers with for the holder of user token `jwt` (if any), or null (404). */
export async function statusFor(
  env: Pick<Env, 'PACKAGE_STATUS'>,
  config: Config,
  requested: string,
  jwt: string | undefined,
): Promise<StatusView | null> {
  const found = await lookupStatus(env, lookupKey(config, requested));
  if (!found) return null;
  const id = found.packageId;
  if (id === null) return found.view;
  const user = jwt ? await verifyUserToken(await getSigningKeys(config), config, jwt) : null;
  if (user && mayManagePackage(user.userid, id)) return found.view;
  const doc = await withDb(config, (db) => getPackage(db, id));
  return doc?.package.private === false ? found.view : null;
}

/**
 * The live event stream of the status `requested` answers with (as
 * statusFor decides), or null (404). A status under the exact URL answers
 * anyone (lookupStatus tries it first), so its stream is opened in one call
 * to its object, with no read before: with many watchers connecting, the
 * status object serves one call per watcher, not two.
 */
export async function streamFor(
  env: Pick<Env, 'PACKAGE_STATUS'>,
  config: Config,
  requested: string,
  jwt: string | undefined,
  lastEventId: string | null,
): Promise<Response | null> {
  const key = lookupKey(config, requested);
  if (urlAliasKey(key)) {
    const res = await statusStream(env, key, lastEventId);
    if (res.status !== 404) return res;
    await res.body?.cancel();
  }
  const view = await statusFor(env, config, requested, jwt);
  // The stream of the key the visible status lives under (decided there, once).
  return view ? statusStream(env, view.key, lastEventId) : null;
}
