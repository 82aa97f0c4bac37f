/**
 * Worker entry point: HTTP (Hono), the loader queue consumer, the
 * per-datapackage status Durable Object, and a cron that retries search-index
 * writes that failed (the registry in Postgres stays the truth meanwhile).
 */
import { createApp } from './app.ts';
import { getConfig } from './config.ts';
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

export default {
  fetch(request, env, ctx) {
    return app.fetch(normalisePath(request), env, ctx);
  },
  async queue(batch, env, ctx) {
    await handleLoaderBatch(batch, env, ctx);
  },
  async scheduled(_controller, env) {
    const config = getConfig(env);
    if (!config.OS_ELASTICSEARCH_ADDRESS) return;
    const report = await retryPendingIndexWrites(config);
    console.log(JSON.stringify({ level: 'info', msg: 'index retry', ...report }));
  },
} satisfies ExportedHandler<Env>;
