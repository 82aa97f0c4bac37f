/**
 * Shared by the ElasticSearch tests: the real OpenSearch nodes started by the
 * global setup (bindings OS_TEST_ELASTICSEARCH_URL for 2.19 and
 * OS_TEST_ELASTICSEARCH1_URL for 1.3), or a clear skip.
 */
import { env } from 'cloudflare:workers';
import { describe } from 'vitest';

/** Base URL of the test OpenSearch 2.19 node, when it runs. */
export const ES_URL: string | undefined = env.OS_TEST_ELASTICSEARCH_URL;
/** Base URL of the test OpenSearch 1.3 node (typed URLs, as os-api reads), when it runs. */
export const ES1_URL: string | undefined = env.OS_TEST_ELASTICSEARCH1_URL;

/** Both engines, for suites that must pass on each (the URL is a dead port when skipped). */
export const ES_ENGINES: Array<{ name: string; url: string; typed: boolean }> = [
  { name: 'OpenSearch 2.19', url: ES_URL ?? 'http://127.0.0.1:9', typed: false },
  { name: 'OpenSearch 1.3', url: ES1_URL ?? 'http://127.0.0.1:9', typed: true },
];

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
