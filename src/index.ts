/**
 * Worker entry point: HTTP (Hono), the loader queue consumer, the
 * per-datapackage status Durable Object, and a cron that retries search-index
 * writes that failed (the registry in Postgres stays the truth meanwhile) and
 * aborts unfinished multipart uploads older than OS_MULTIPART_MAX_AGE.
 */
import { createApp } from './app.ts';
import { getConfig, type Config } from './config.ts';
import { storageTarget } from './datastore/presign.ts';
import { abortStaleUploads } from './datastore/uploads.ts';
import type { Env } from './env.ts';
import { handleLoaderBatch } from './queue/consumer.ts';
import { retryPendingIndexWrites } from './registry/index-sync.ts';

export { PackageStatus } from './durable/package-status.ts';

const app = createApp();

/**
 * Clients call e.g. `https://host//package/update_params` (os-viewer);
 * the original's router stripped leading slashes, so we do too.
 */
export function normalisePath(request: Request): Request {
  const url = new URL(request.url);
  if (!url.pathname.startsWith('//')) return request;
  url.pathname = '/' + url.pathname.replace(/^\/+/, '');
  return new Request(url, request);
}

async function retryIndexWrites(config: Config): Promise<void> {
  if (!config.OS_ELASTICSEARCH_ADDRESS) return;
  const report = await retryPendingIndexWrites(config);
  console.log(JSON.stringify({ level: 'info', msg: 'index retry', ...report }));
}

/** Every key of the datastore is <owner>/<name>/<path> from the bucket's root: the whole bucket is ours. */
async function cleanUpUploads(config: Config): Promise<void> {
  if (!config.OS_S3_HOSTNAME || !config.OS_STORAGE_BUCKET_NAME) return; // no datastore configured
  const report = await abortStaleUploads(storageTarget(config), { maxAgeSeconds: config.OS_MULTIPART_MAX_AGE });
  console.log(JSON.stringify({ level: 'info', msg: 'multipart cleanup', ...report }));
}

export default {
  fetch(request, env, ctx) {
    return app.fetch(normalisePath(request), env, ctx);
  },
  async queue(batch, env, ctx) {
    await handleLoaderBatch(batch, env, ctx);
  },
  async scheduled(_controller, env) {
    const config = getConfig(env);
    // Independent chores: one failing (e.g. a storage without ListMultipartUploads) is logged and does not stop the other.
    const chores = [
      ['index retry', retryIndexWrites(config)],
      ['multipart cleanup', cleanUpUploads(config)],
    ] as const;
    const results = await Promise.allSettled(chores.map(([, run]) => run));
    results.forEach((r, i) => {
      if (r.status === 'rejected') {
        console.error(JSON.stringify({ level: 'error', msg: `${chores[i]?.[0]} failed`, error: String(r.reason) }));
      }
    });
  },
} satisfies ExportedHandler<Env>;
