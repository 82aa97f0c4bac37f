/**
 * What the search-index admin tools share: the service's own settings (read
 * from the environment and .env, validated by the same schema) and a
 * registry reader over Postgres.
 */
import type { Client } from '@neondatabase/serverless';
import { ConfigSchema } from '../../src/config.ts';
import { readerLinksOf, readerView, type ReaderLinks } from '../../src/datastore/reader-links.ts';
import type { RegistryDocument } from '../../src/registry/registry.ts';
import type { RegistryReader } from '../../src/search/elasticsearch/reindex.ts';
import { loadDotEnv } from './dotenv.ts';

const ToolConfig = ConfigSchema.pick({
  OS_ELASTICSEARCH_ADDRESS: true,
  OS_ES_PACKAGES_INDEX_NAME: true,
});

/** The index settings; exits with a message when ElasticSearch is not configured. */
export function indexSettings(): { url: string; index: string } {
  loadDotEnv();
  const parsed = ToolConfig.safeParse(process.env);
  if (!parsed.success) {
    throw new Error(`invalid configuration: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  }
  if (!parsed.data.OS_ELASTICSEARCH_ADDRESS) throw new Error('OS_ELASTICSEARCH_ADDRESS is not set (no search index to manage)');
  return { url: parsed.data.OS_ELASTICSEARCH_ADDRESS, index: parsed.data.OS_ES_PACKAGES_INDEX_NAME };
}

const LinkConfig = ConfigSchema.pick({
  OS_DATASTORE_PRIVATE: true,
  OS_S3_SCHEME: true,
  OS_S3_HOSTNAME: true,
  OS_S3_PORT: true,
  OS_STORAGE_BUCKET_NAME: true,
}).extend({ OS_BASE_URL: ConfigSchema.shape.OS_BASE_URL.optional() });

/**
 * How indexed documents name package files (src/datastore/reader-links.ts):
 * read links when OS_DATASTORE_PRIVATE is on, as the service's own index
 * writes do; null in public mode.
 */
export function readerLinkSettings(): ReaderLinks | null {
  loadDotEnv();
  // Public mode reads no other setting, so it cannot fail on one.
  if (!ConfigSchema.shape.OS_DATASTORE_PRIVATE.parse(process.env.OS_DATASTORE_PRIVATE)) return null;
  const parsed = LinkConfig.safeParse(process.env);
  if (!parsed.success) {
    throw new Error(`invalid configuration: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  }
  const { OS_BASE_URL, ...rest } = parsed.data;
  if (!OS_BASE_URL) throw new Error('OS_DATASTORE_PRIVATE is on: OS_BASE_URL is needed for the read links');
  return readerLinksOf({ ...rest, OS_BASE_URL });
}

/** The registry database URL (OS_CONDUCTOR_ENGINE). */
export function databaseUrl(): string {
  loadDotEnv();
  const url = process.env.OS_CONDUCTOR_ENGINE;
  if (!url) throw new Error('OS_CONDUCTOR_ENGINE is not set');
  return url;
}

/** Reads the `packages` registry table for reindexing (documents as readers see them: `links`). */
export function postgresRegistryReader(db: Pick<Client, 'query'>, links: ReaderLinks | null = null): RegistryReader {
  const docs = (rows: Array<Record<string, unknown>>) => rows.map((r) => readerView(r.doc as RegistryDocument, links));
  return {
    async count() {
      const { rows } = await db.query('SELECT count(*)::int AS n FROM packages');
      return Number(rows[0]?.n ?? 0);
    },
    async page(after, limit) {
      const { rows } = await db.query('SELECT doc FROM packages WHERE ($1::text IS NULL OR id > $1) ORDER BY id LIMIT $2', [
        after,
        limit,
      ]);
      return docs(rows);
    },
    async now() {
      const { rows } = await db.query('SELECT clock_timestamp()::text AS now');
      return String(rows[0]!.now);
    },
    async changedSince(since) {
      // updated_at is the writing transaction's start (now()): one that began before `since`
      // may commit after it. The margin takes such rows again; copying a few twice is harmless.
      const { rows } = await db.query(
        `SELECT doc FROM packages WHERE updated_at >= $1::timestamptz - interval '5 minutes' ORDER BY id`,
        [since],
      );
      return docs(rows);
    },
    async ids() {
      const { rows } = await db.query('SELECT id FROM packages');
      return new Set(rows.map((r) => String(r.id)));
    },
  };
}
