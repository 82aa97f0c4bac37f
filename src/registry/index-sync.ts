/**
 * Mirrors registry changes to the ElasticSearch `packages` index through the
 * outbox (`registry_index_outbox`) that every registry write fills.
 *
 * Why an outbox: the registry row is the truth and must survive an index
 * outage. A failed index write leaves the id queued with a back-off; the
 * next write, `retryPendingIndexWrites` (opportunistic or from a cron
 * trigger) or a full reindex repairs it.
 *
 * Concurrency: queued rows are taken with FOR UPDATE SKIP LOCKED inside a
 * transaction that lasts while they are mirrored, so a registry write that
 * re-queues the same id waits for that transaction and is mirrored again
 * afterwards: a stale document can never be the last one written.
 */
import type { Client } from '@neondatabase/serverless';
import type { Config } from '../config.ts';
import { transaction, withDb } from '../db/client.ts';
import { mirrorToIndex, removeFromIndex } from '../search/elasticsearch/index.ts';
import type { RegistryDocument } from './registry.ts';

/** Where index writes go; null when no search index is configured. */
export interface IndexWriter {
  save(doc: RegistryDocument): Promise<void>;
  remove(id: string): Promise<void>;
}

/** The ElasticSearch writer when OS_ELASTICSEARCH_ADDRESS is set, else null. */
export function indexWriterFor(config: Config): IndexWriter | null {
  if (!config.OS_ELASTICSEARCH_ADDRESS) return null;
  return {
    save: (doc) => mirrorToIndex(config, doc),
    remove: (id) => removeFromIndex(config, id),
  };
}

export interface SyncReport {
  indexed: number;
  removed: number;
  failed: number;
}

/** Seconds before retry number `attempts` (1, 2, …): 30 s doubling, at most an hour. */
export function retryDelaySeconds(attempts: number): number {
  return Math.min(3600, 30 * 2 ** Math.max(0, attempts - 1));
}

const MAX_ERROR_LENGTH = 500;

/**
 * Mirrors queued ids: the given `ids` (whatever their back-off), else up to
 * `limit` ids whose retry time has come. With no writer (no index
 * configured) the given ids are dropped from the queue (there is nothing to
 * mirror to; a reindex builds any new index from the registry) and nothing
 * else is touched.
 */
export async function syncIndex(
  db: Client,
  writer: IndexWriter | null,
  opts: { ids?: string[]; limit?: number } = {},
): Promise<SyncReport> {
  const report: SyncReport = { indexed: 0, removed: 0, failed: 0 };
  if (!writer && !opts.ids) return report;
  await transaction(db, async () => {
    const { rows } = opts.ids
      ? await db.query(
          `SELECT package_id, attempts FROM registry_index_outbox WHERE package_id = ANY($1::text[])
           FOR UPDATE SKIP LOCKED`,
          [opts.ids],
        )
      : await db.query(
          `SELECT package_id, attempts FROM registry_index_outbox WHERE next_attempt_at <= clock_timestamp()
           ORDER BY next_attempt_at LIMIT $1 FOR UPDATE SKIP LOCKED`,
          [opts.limit ?? 20],
        );
    for (const row of rows) {
      const id = String(row.package_id);
      if (!writer) {
        await db.query('DELETE FROM registry_index_outbox WHERE package_id = $1', [id]);
        continue;
      }
      const current = await db.query('SELECT doc FROM packages WHERE id = $1', [id]);
      const doc = current.rows[0]?.doc as RegistryDocument | undefined;
      try {
        if (doc) await writer.save(doc);
        else await writer.remove(id);
        await db.query('DELETE FROM registry_index_outbox WHERE package_id = $1', [id]);
        if (doc) report.indexed++;
        else report.removed++;
      } catch (err) {
        const attempts = Number(row.attempts) + 1;
        await db.query(
          `UPDATE registry_index_outbox SET attempts = $2, last_error = $3,
             next_attempt_at = clock_timestamp() + make_interval(secs => $4)
           WHERE package_id = $1`,
          [id, attempts, String((err as Error).message ?? err).slice(0, MAX_ERROR_LENGTH), retryDelaySeconds(attempts)],
        );
        report.failed++;
      }
    }
  });
  return report;
}

/**
 * After a registry write: mirror that package now, then retry a few older
 * failures while we are at it. Never throws for index trouble: the registry
 * change is already committed and stays queued. Call it once the write has
 * committed, outside any open transaction on `db` (it runs its own).
 */
export async function syncAfterWrite(config: Config, db: Client, id: string): Promise<SyncReport> {
  const writer = indexWriterFor(config);
  try {
    const own = await syncIndex(db, writer, { ids: [id] });
    const others = await syncIndex(db, writer, { limit: 5 });
    return {
      indexed: own.indexed + others.indexed,
      removed: own.removed + others.removed,
      failed: own.failed + others.failed,
    };
  } catch {
    return { indexed: 0, removed: 0, failed: 1 };
  }
}

/**
 * Retries up to `limit` due index writes on its own connection: for a cron
 * trigger (`scheduled` handler) or an admin tool.
 */
export async function retryPendingIndexWrites(config: Config, limit = 100): Promise<SyncReport> {
  return withDb(config, (db) => syncIndex(db, indexWriterFor(config), { limit }));
}
