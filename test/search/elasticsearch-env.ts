/**
 * Shared by the ElasticSearch tests: the real OpenSearch node started by the
 * global setup (binding OS_TEST_ELASTICSEARCH_URL), or a clear skip.
 */
import { env } from 'cloudflare:workers';
import { describe } from 'vitest';

/** Base URL of the test OpenSearch node, when it runs. */
export const ES_URL: string | undefined = env.OS_TEST_ELASTICSEARCH_URL;

/** `describe` when OpenSearch runs, else `describe.skip` with the reason printed once. */
export const describeEs = ES_URL ? describe : describe.skip;

if (!ES_URL) {
  console.warn(
    `ElasticSearch tests SKIPPED: ${env.OS_TEST_ELASTICSEARCH_SKIPPED ?? 'no OpenSearch node (OS_TEST_ELASTICSEARCH_URL unset)'}`,
  );
}

/** A fresh index name, so test files and runs never share an index. */
export function freshIndexName(prefix = 'packages-test'): string {
  return `${prefix}-${crypto.randomUUID().replace(/-/g, '').slice(0, 12)}`;
}
