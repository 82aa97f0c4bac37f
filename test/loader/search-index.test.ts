/**
 * With ElasticSearch configured, a finished load reaches the search index
 * at once (not only on a later write, retry or reindex).
 */
import { describe, expect, it } from 'vitest';
import { getConfig } from '../../src/config.ts';
import { packageId } from '../../src/loader/naming.ts';
import type { LoaderMessage } from '../../src/queue/messages.ts';
import { acceptUpload } from '../../src/jobs/accept.ts';
import { publishAs } from '../../src/registry/manage.ts';
import { getDocument, target } from '../../src/search/elasticsearch/index.ts';
import { describeEs, ES_URL, freshIndexName } from '../search/elasticsearch-env.ts';
import { drain, drivenEnv, publishFixture, status } from './helpers.ts';

describe('loader and the search index', () => {
  describeEs('with ElasticSearch configured', () => {
    it('mirrors the new registry document to the index when the load is done', async () => {
      const index = freshIndexName('packages-loader');
      const sent: LoaderMessage[] = [];
      const e = drivenEnv(sent, { OS_ELASTICSEARCH_ADDRESS: ES_URL, OS_ES_PACKAGES_INDEX_NAME: index });
      const pub = await publishFixture('fdp/packager-example', { noUpload: true });
      expect(await acceptUpload(e, getConfig(e), pub.url, pub.token)).toEqual({ progress: 0, status: 'queued' });
      await drain(e, sent);
      expect((await status(pub.url))?.status).toBe('done');
      const id = packageId(pub.userid, pub.name);
      const doc = await getDocument(target(ES_URL!, index), id);
      expect(doc?.id).toBe(id);
      expect(doc?.loaded).toBe(true);
      expect(doc?.package.private).toBe(true);
      expect(doc?.origin_url).toBe(pub.url);
    });

    it('mirrors an unchanged re-upload too: a published package reads private in the index at once', async () => {
      const index = freshIndexName('packages-reupload');
      const sent: LoaderMessage[] = [];
      const e = drivenEnv(sent, { OS_ELASTICSEARCH_ADDRESS: ES_URL, OS_ES_PACKAGES_INDEX_NAME: index });
      const config = getConfig(e);
      const pub = await publishFixture('fdp/packager-example', { noUpload: true });
      await acceptUpload(e, config, pub.url, pub.token);
      await drain(e, sent);
      const id = packageId(pub.userid, pub.name);
      expect(await publishAs(config, pub.userid, id, 'true')).toEqual({ success: true, published: true });
      const t = target(ES_URL!, index);
      expect((await getDocument(t, id))?.package.private).toBe(false);
      // The same files again: no data load, the registry entry private again.
      expect(await acceptUpload(e, config, pub.url, pub.token)).toEqual({ progress: 0, status: 'queued' });
      await drain(e, sent);
      const end = await status(pub.url);
      expect(end?.status).toBe('done');
      expect(Object.keys(end?.steps ?? {})).not.toContain('loading-data');
      expect((await getDocument(t, id))?.package.private).toBe(true);
    });
  });
});
