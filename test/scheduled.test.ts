/**
 * The cron trigger retries search-index writes that failed: a registry
 * change made while the index was unreachable reaches the index later.
 */
import { env } from 'cloudflare:workers';
import { createScheduledController } from 'cloudflare:test';
import { expect, it } from 'vitest';
import worker from '../src/index.ts';
import { withDb } from '../src/db/client.ts';
import { upsertPackage } from '../src/registry/registry.ts';
import { getDocument, target } from '../src/search/elasticsearch/index.ts';
import { config, newUserId } from './helpers/app.ts';
import { describeEs, ES_URL, freshIndexName } from './search/elasticsearch-env.ts';
import { registryDoc } from './search/helpers.ts';

describeEs('scheduled index retry', () => {
  it('sends registry writes still waiting in the outbox to the index', async () => {
    const doc = registryDoc(newUserId(), 'cron-retry');
    // Written while no index is configured: it waits in the outbox.
    await withDb(config(), (db) => upsertPackage(db, doc));
    const index = freshIndexName('packages-cron');
    const cronEnv = { ...env, OS_ELASTICSEARCH_ADDRESS: ES_URL!, OS_ES_PACKAGES_INDEX_NAME: index };
    await worker.scheduled(createScheduledController({ cron: '*/5 * * * *' }), cronEnv);
    const stored = await getDocument(target(ES_URL!, index), doc.id);
    expect(stored?.id).toBe(doc.id);
  });
});
