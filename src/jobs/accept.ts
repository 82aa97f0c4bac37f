/**
 * Accepting an upload (/package/upload): check the token and the URL, record
 * the job (superseding older ones of the same URL), set the status to
 * `queued` and enqueue the first message. Nothing is fetched here; the queue
 * consumer does the work.
 */
import { getSigningKeys } from '../auth/keys.ts';
import { canUpload, verifyPermissionToken } from '../auth/tokens.ts';
import type { Config } from '../config.ts';
import { withDb } from '../db/client.ts';
import { startStatus, statusOf } from '../durable/status-client.ts';
import { normaliseStatusUrl } from '../durable/status-keys.ts';
import type { Env } from '../env.ts';
import type { LoaderMessage } from '../queue/messages.ts';
import { checkFetchUrl, ownsStatusKey, policyFromConfig } from '../queue/url-policy.ts';
import { failUnqueued, recordJob } from './lifecycle.ts';

/** The body /package/upload answers with (the original's two shapes). */
export type UploadAnswer = { progress: 0; status: 'queued' } | { status: 'fail'; error: string };

/**
 * Validates and enqueues an upload of `datapackage` with permission token
 * `jwt`. A failure after the token check is also written to the status of
 * `datapackage` (when it has none yet), because os-packager ignores this
 * response and only polls the status; but only under a key the caller owns
 * (a URL in their datastore folder), so no one can plant a status for
 * another user's package.
 */
export async function acceptUpload(env: Env, config: Config, datapackage: string, jwt: string): Promise<UploadAnswer> {
  const claims = await verifyPermissionToken(await getSigningKeys(config), config, jwt, 'os.datastore');
  // A bad token writes no status (as the original).
  if (!canUpload(claims)) return { status: 'fail', error: 'unauthorized' };

  const policy = policyFromConfig(config);
  const job = crypto.randomUUID();
  const refuse = async (error: string): Promise<UploadAnswer> => {
    if (ownsStatusKey(datapackage, claims.userid, policy)) {
      await statusOf(env, datapackage).failIfAbsent(job, error);
    }
    return { status: 'fail', error };
  };

  const check = checkFetchUrl(datapackage, claims.userid, policy);
  if (!check.ok) return refuse(check.error);

  try {
    await withDb(config, (db) =>
      recordJob(db, { jobId: job, statusKey: datapackage, urlKey: normaliseStatusUrl(datapackage), userid: claims.userid }),
    );
  } catch {
    return refuse('could not record the upload; try again later');
  }

  await startStatus(env, datapackage, job);
  const message: LoaderMessage = { kind: 'load', job };
  try {
    await env.LOADER_QUEUE.send(message);
  } catch {
    const error = 'could not queue the load; try again later';
    await statusOf(env, datapackage).advance(job, 'fail', { error });
    await withDb(config, (db) => failUnqueued(db, job, error)).catch(() => undefined);
    return { status: 'fail', error };
  }
  return { progress: 0, status: 'queued' };
}
