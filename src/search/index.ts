/**
 * Picks the search backend: ElasticSearch/OpenSearch when
 * OS_ELASTICSEARCH_ADDRESS is set, otherwise Postgres full-text search on
 * the registry (so search works with no index at all).
 */
import type { Config } from '../config.ts';
import { createElasticsearchBackend } from './elasticsearch/backend.ts';
import { createPostgresBackend } from './postgres.ts';
import type { SearchBackend } from './types.ts';

export function getSearchBackend(config: Config): SearchBackend {
  return config.OS_ELASTICSEARCH_ADDRESS ? createElasticsearchBackend(config) : createPostgresBackend(config);
}
