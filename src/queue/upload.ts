/**
 * Accepting an upload (/package/upload): check the token and the URL, record
 * the job, set the status to `queued` and enqueue the first chunk. Nothing
 * is fetched here; the queue consumer does the work.
 */
import { getSigningKeys } from '../auth/keys.ts';
import { canUpload, verifyPermissionToken } from '../auth/tokens.ts';
import type { Config } from '../config.ts';
import { withDb } from '../db/client.ts';
import { startStatus, statusStub } from '../durable/status-client.ts';
import type { Env } from '../env.ts';
import type { LoaderMessage } from './messages.ts';
import { checkFetchUrl, policyFromConfig } from './url-policy.ts';

/** The body /package/upload answers with (the original's two shapes). */
export type UploadAnswer = { progress: 0; status: 'queued' } | { status: 'fail'; error: string };

/**
 * Validates and enqueues an upload of `datapackage` with permission token
 * `jwt`. Failures after the token check are also written to the status of
 * `datapackage` (when it has none yet), because os-packager ignores this
 * response and only polls the status.
 */
export async function acceptUpload(env: Env, config: Config, datapackage: string, jwt: string): Promise<UploadAnswer> {
  const claims = await verifyPermissionToken(await getSigningKeys(config), config, jwt, 'os.datastore');
  // A bad token writes no status (as the original): an anonymous caller must
  // not be able to plant statuses.
  if (!canUpload(claims)) return { status: 'fail', error: 'unauthorized' };

  const job = crypto.randomUUID();
  const check = checkFetchUrl(datapackage, claims.userid, policyFromConfig(config));
  if (!check.ok) {
    await statusStub(env, datapackage).failIfAbsent(datapackage, job, check.error);
    return { status: 'fail', error: check.error };
  }

  try {
    await withDb(config, (db) =>
      db.query('INSERT INTO load_jobs (job_id, status_key, userid) VALUES ($1, $2, $3)', [
        job,
        datapackage,
        claims.userid,
      ]),
    );
  } catch {
    const error = 'could not record the upload; try again later';
    await statusStub(env, datapackage).failIfAbsent(datapackage, job, error);
    return { status: 'fail', error };
  }

  await startStatus(env, datapackage, job);
  const message: LoaderMessage = { kind: 'load', job };
  try {
    await env.LOADER_QUEUE.send(message);
  } catch {
    const error = 'could not queue the load; try again later';
    await statusStub(env, datapackage).advance(job, 'fail', { error });
    await withDb(config, (db) =>
      db.query(`UPDATE load_jobs SET state = 'fail', error = $2, updated_at = now() WHERE job_id = $1`, [job, error]),
    ).catch(() => undefined);
    return { status: 'fail', error };
  }
  return { progress: 0, status: 'queued' };
}
