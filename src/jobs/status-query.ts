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
import { lookupStatus } from '../durable/status-client.ts';
import type { Env } from '../env.ts';
import { mayManagePackage } from '../registry/policy.ts';
import { getPackage } from '../registry/registry.ts';

/** The status `requested` answers with for the holder of user token `jwt` (if any), or null (404). */
export async function statusFor(
  env: Pick<Env, 'PACKAGE_STATUS'>,
  config: Config,
  requested: string,
  jwt: string | undefined,
): Promise<StatusView | null> {
  // In private mode readers were shown read links for the bucket URLs statuses are kept under.
  const links = readerLinksOf(config);
  const found = await lookupStatus(env, (links && bucketUrlOf(links, requested)) ?? requested);
  if (!found) return null;
  const id = found.packageId;
  if (id === null) return found.view;
  const user = jwt ? await verifyUserToken(await getSigningKeys(config), config, jwt) : null;
  if (user && mayManagePackage(user.userid, id)) return found.view;
  const doc = await withDb(config, (db) => getPackage(db, id));
  return doc?.package.private === false ? found.view : null;
}
