/**
 * Mirrors registry changes to the ElasticSearch `packages` index through the
 * outbox (`registry_index_outbox`) that every registry write fills.
 *
 * Why an outbox: the registry row is the truth and must survive an index
 * outage. A failed index write leaves the id queued with a back-off; the
 * cron trigger (`retryPendingIndexWrites`) or a full reindex repairs it.
 * Every registry change goes through `writeRegistry`: the change in a
 * transaction, then that one package mirrored (other packages' retries are
 * the cron's, never a user's request).
 *
 * Concurrency, without holding a lock during the index's HTTP calls: queued
 * rows are claimed in one statement (a lease on their retry time);
 * after writing a document the row is read again, and written again when it
 * changed meanwhile, so a stale document is never the last one written. A
 * queue entry is removed only if it was not queued again since it was
 * claimed (`queued_at`), so a newer change is never dropped.
 */
import type { Client } from '@neondatabase/serverless';
import type { Config } from '../config.ts';
import { transaction, withDb } from '../db/client.ts';
import { readerLinksOf, readerView } from '../datastore/reader-links.ts';
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
  // os-api serves the index's origin_url to readers (os-viewer): read links when the bucket is private.
  const links = readerLinksOf(config);
  return {
    save: (doc) => mirrorToIndex(config, readerView(doc, links)),
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

/** How long a claimed queue entry is left to its claimer before others retry it. */
const CLAIM_LEASE_SECONDS = 120;

interface Claimed {
  id: string;
  attempts: number;
  /** queued_at as exact text: the entry is ours as long as it is unchanged. */
  queuedAt: string;
}

/** Claims queued entries with a lease, in one statement (one round trip; rows others hold are skipped). */
async function claim(db: Client, opts: { ids?: string[]; limit?: number }): Promise<Claimed[]> {
  const [pick, values] = opts.ids
    ? [`WHERE package_id = ANY($1::text[])`, [opts.ids]]
    : [`WHERE next_attempt_at <= clock_timestamp() ORDER BY next_attempt_at LIMIT $1`, [opts.limit ?? 20]];
  const { rows } = await db.query(
    `WITH picked AS (
       SELECT package_id, next_attempt_at AS due FROM registry_index_outbox ${pick} FOR UPDATE SKIP LOCKED
     ), leased AS (
       UPDATE registry_index_outbox o SET next_attempt_at = clock_timestamp() + make_interval(secs => $2)
       FROM picked WHERE o.package_id = picked.package_id
       RETURNING o.package_id, o.attempts, o.queued_at::text AS queued
     )
     SELECT leased.* FROM leased JOIN picked USING (package_id) ORDER BY picked.due`,
    [...values, CLAIM_LEASE_SECONDS],
  );
  return rows.map((r) => ({ id: String(r.package_id), attempts: Number(r.attempts), queuedAt: String(r.queued) }));
}

async function currentDoc(db: Client, id: string): Promise<RegistryDocument | null> {
  const { rows } = await db.query('SELECT doc FROM packages WHERE id = $1', [id]);
  return (rows[0]?.doc as RegistryDocument | undefined) ?? null;
}

/** Writes the row's current state to the index until it did not change meanwhile. Returns whether it exists. */
async function mirrorOne(db: Client, writer: IndexWriter, id: string): Promise<boolean> {
  let doc = await currentDoc(db, id);
  for (let round = 0; ; round++) {
    if (doc) await writer.save(doc);
    else await writer.remove(id);
    const after = await currentDoc(db, id);
    if (JSON.stringify(after) === JSON.stringify(doc) || round >= 4) return doc !== null;
    doc = after;
  }
}

/**
 * Mirrors queued ids: the given `ids` (whatever their back-off), else up to
 * `limit` ids whose retry time has come. With no writer (no index
 * configured) the given ids are dropped from the queue (there is nothing to
 * mirror to; a reindex builds any new index from the registry) and nothing
 * else is touched. No transaction is open during an index call.
 */
export async function syncIndex(
  db: Client,
  writer: IndexWriter | null,
  opts: { ids?: string[]; limit?: number } = {},
): Promise<SyncReport> {
  const report: SyncReport = { indexed: 0, removed: 0, failed: 0 };
  if (!writer && !opts.ids) return report;
  for (const entry of await claim(db, opts)) {
    const mine = [entry.id, entry.queuedAt];
    if (!writer) {
      await db.query('DELETE FROM registry_index_outbox WHERE package_id = $1 AND queued_at = $2::timestamptz', mine);
      continue;
    }
    try {
      const exists = await mirrorOne(db, writer, entry.id);
      await db.query('DELETE FROM registry_index_outbox WHERE package_id = $1 AND queued_at = $2::timestamptz', mine);
      if (exists) report.indexed++;
      else report.removed++;
    } catch (err) {
      const attempts = entry.attempts + 1;
      await db.query(
        `UPDATE registry_index_outbox SET attempts = $3, last_error = $4,
           next_attempt_at = clock_timestamp() + make_interval(secs => $5)
         WHERE package_id = $1 AND queued_at = $2::timestamptz`,
        [...mine, attempts, String((err as Error).message ?? err).slice(0, MAX_ERROR_LENGTH), retryDelaySeconds(attempts)],
      );
      report.failed++;
    }
  }
  return report;
}

/**
 * Mirrors one package now. Never throws for index trouble: the registry
 * change is already committed and stays queued for the cron. Call it once
 * the change has committed, outside any open transaction on `db`.
 */
export async function syncAfterWrite(config: Config, db: Client, id: string): Promise<SyncReport> {
  try {
    return await syncIndex(db, indexWriterFor(config), { ids: [id] });
  } catch {
    return { indexed: 0, removed: 0, failed: 1 };
  }
}

/**
 * A registry change and its index mirror as one operation, used by every
 * path that changes the registry (a load's swap, an unchanged re-upload,
 * publish, delete, update_params): `change` runs in a transaction on `db`
 * (with whatever else must commit with it), then package `id` is mirrored.
 * With `ownTransaction` the change opens and commits the transaction itself
 * (the loader's commits, which send their statements in two round trips).
 */
export async function writeRegistry<T>(
  config: Config,
  db: Client,
  id: string,
  change: () => Promise<T>,
  options: { ownTransaction?: boolean } = {},
): Promise<T> {
  const result = options.ownTransaction ? await change() : await transaction(db, change);
  await syncAfterWrite(config, db, id);
  return result;
}

/**
 * Retries up to `limit` due index writes on its own connection: for a cron
 * trigger (`scheduled` handler) or an admin tool.
 */
export async function retryPendingIndexWrites(config: Config, limit = 100): Promise<SyncReport> {
  return withDb(config, (db) => syncIndex(db, indexWriterFor(config), { limit }));
}
