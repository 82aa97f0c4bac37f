import { describe, expect, it } from 'vitest';
import type { Config } from '../../src/config.ts';
import { withDb } from '../../src/db/client.ts';
import {
  indexWriterFor,
  retryDelaySeconds,
  retryPendingIndexWrites,
  syncIndex,
  type IndexWriter,
} from '../../src/registry/index-sync.ts';
import { deleteAs, publishAs } from '../../src/registry/manage.ts';
import { deletePackage, setPublished, upsertPackage } from '../../src/registry/registry.ts';
import { getDocument, target } from '../../src/search/elasticsearch/index.ts';
import { config, newUserId } from '../helpers/app.ts';
import { describeEs, ES_URL, freshIndexName } from './elasticsearch-env.ts';
import { registryDoc, registryRow, seed } from './helpers.ts';

interface OutboxRow {
  attempts: number;
  last_error: string | null;
  due_in: number;
}

function outboxRow(id: string): Promise<OutboxRow | null> {
  return withDb(config(), async (db) => {
    const { rows } = await db.query(
      `SELECT attempts, last_error, extract(epoch FROM next_attempt_at - clock_timestamp())::float8 AS due_in
       FROM registry_index_outbox WHERE package_id = $1`,
      [id],
    );
    return (rows[0] as OutboxRow | undefined) ?? null;
  });
}

/** The test Config with the index at `address` (unreachable by default). */
function withIndex(address = 'http://127.0.0.1:9', index = freshIndexName()): Config {
  return { ...config(), OS_ELASTICSEARCH_ADDRESS: address, OS_ES_PACKAGES_INDEX_NAME: index };
}

describe('retryDelaySeconds', () => {
  it.each([
    [1, 30],
    [2, 60],
    [3, 120],
    [8, 3600],
    [50, 3600],
  ])('waits after failure %i: %i s', (attempts, seconds) => {
    expect(retryDelaySeconds(attempts)).toBe(seconds);
  });
});

describe('registry writes and the index outbox', () => {
  it('queues every registry write for the index, in the same statement', async () => {
    const doc = registryDoc(newUserId(), 'queued');
    await withDb(config(), async (db) => {
      // Inside one uncommitted transaction, so no other suite's flush can take the row.
      await db.query('BEGIN');
      try {
        await upsertPackage(db, doc);
        const { rows } = await db.query('SELECT attempts, last_error FROM registry_index_outbox WHERE package_id = $1', [doc.id]);
        expect(rows).toEqual([{ attempts: 0, last_error: null }]);
        expect(await setPublished(db, doc.id, 'false')).toBe(false);
        expect(await deletePackage(db, doc.id)).toBe(true);
        const after = await db.query('SELECT count(*)::int AS n FROM registry_index_outbox WHERE package_id = $1', [doc.id]);
        expect(after.rows[0]?.n).toBe(1);
      } finally {
        await db.query('ROLLBACK');
      }
    });
  });

  it('leaves other queued writes alone without an index configured', async () => {
    const doc = registryDoc(newUserId(), 'left-alone');
    await seed(doc);
    const report = await withDb(config(), (db) => syncIndex(db, null, { limit: 1000 }));
    expect(report).toEqual({ indexed: 0, removed: 0, failed: 0 });
    expect(await outboxRow(doc.id)).not.toBeNull();
  });

  it('empties the queue without an index configured (nothing to mirror to)', async () => {
    const doc = registryDoc(newUserId(), 'no-index');
    await seed(doc);
    const report = await withDb(config(), (db) => syncIndex(db, indexWriterFor(config()), { ids: [doc.id] }));
    expect(report).toEqual({ indexed: 0, removed: 0, failed: 0 });
    expect(await outboxRow(doc.id)).toBeNull();
  });

  it('keeps the registry change and the queued write when the index is down', async () => {
    const owner = newUserId();
    const doc = registryDoc(owner, 'index-down', { private: true });
    await seed(doc);
    const answer = await publishAs(withIndex(), owner, doc.id, 'true');
    expect(answer).toEqual({ success: true, published: true });
    expect((await registryRow(doc.id))?.package.private).toBe(false);
    const queued = await outboxRow(doc.id);
    expect(queued?.attempts).toBe(1);
    expect(queued?.last_error).toMatch(/unreachable/);
    expect(queued!.due_in).toBeGreaterThan(20);
  });

  it('holds no lock while the index is written: a registry write meanwhile is not blocked, and is mirrored last', async () => {
    const doc = registryDoc(newUserId(), 'slow-index', { private: true });
    await seed(doc);
    const written: boolean[] = [];
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    let first = true;
    // An index whose first write hangs until released; it records the private flag of every write.
    const slow: IndexWriter = {
      save: async (d) => {
        if (first) {
          first = false;
          await gate;
        }
        written.push(d.package.private === true);
      },
      remove: async () => undefined,
    };
    const mirroring = withDb(config(), (db) => syncIndex(db, slow, { ids: [doc.id] }));
    await new Promise((r) => setTimeout(r, 200));
    // A registry change while the index write is pending: not blocked by the mirror.
    const started = Date.now();
    await withDb(config(), (db) => setPublished(db, doc.id, 'true'));
    expect(Date.now() - started).toBeLessThan(5000);
    release();
    expect(await mirroring).toEqual({ indexed: 1, removed: 0, failed: 0 });
    // The stale (private) document was not the last one written.
    expect(written.at(-1)).toBe(false);
  });

  it("leaves other packages' queued writes to the cron: a user's write mirrors only its own package", async () => {
    const other = registryDoc(newUserId(), 'waiting-for-cron');
    await seed(other);
    await withDb(config(), (db) =>
      db.query(`UPDATE registry_index_outbox SET next_attempt_at = now() - interval '10 years' WHERE package_id = $1`, [
        other.id,
      ]),
    );
    const owner = newUserId();
    const doc = registryDoc(owner, 'own-write', { private: true });
    await seed(doc);
    expect(await publishAs(withIndex(), owner, doc.id, 'true')).toEqual({ success: true, published: true });
    expect((await outboxRow(doc.id))?.attempts).toBe(1);
    expect((await outboxRow(other.id))?.attempts).toBe(0);
  });

  it('keeps a queued deletion when the index is down', async () => {
    const owner = newUserId();
    const doc = registryDoc(owner, 'delete-while-down');
    await seed(doc);
    expect(await deleteAs(withIndex(), owner, doc.id)).toEqual({ success: true });
    expect(await registryRow(doc.id)).toBeNull();
    expect((await outboxRow(doc.id))?.attempts).toBe(1);
  });
});

describeEs('index outbox against the real OpenSearch node', () => {
  it('mirrors a queued write once the index is back, then forgets it', async () => {
    const owner = newUserId();
    const doc = registryDoc(owner, 'back-again', { private: true });
    await seed(doc);
    const index = freshIndexName();
    await publishAs(withIndex('http://127.0.0.1:9', index), owner, doc.id, 'true');
    expect((await outboxRow(doc.id))?.attempts).toBe(1);

    const up = withIndex(ES_URL, index);
    const report = await withDb(config(), (db) => syncIndex(db, indexWriterFor(up), { ids: [doc.id] }));
    expect(report).toEqual({ indexed: 1, removed: 0, failed: 0 });
    expect(await outboxRow(doc.id)).toBeNull();
    expect(await getDocument(target(ES_URL!, index), doc.id)).toEqual(await registryRow(doc.id));
  });

  it('mirrors publish, update and delete at once when the index is up', async () => {
    const owner = newUserId();
    const doc = registryDoc(owner, 'live', { private: true });
    const up = withIndex(ES_URL);
    await seed(doc);
    const t = target(ES_URL!, up.OS_ES_PACKAGES_INDEX_NAME);
    await publishAs(up, owner, doc.id, 'toggle');
    expect((await getDocument(t, doc.id))?.package.private).toBe(false);
    expect(await outboxRow(doc.id)).toBeNull();
    await deleteAs(up, owner, doc.id);
    expect(await getDocument(t, doc.id)).toBeNull();
    expect(await outboxRow(doc.id)).toBeNull();
  });

  it('writes read links for bucket files when the bucket is private (os-api serves them as __origin_url)', async () => {
    const owner = newUserId();
    const bucket = `${config().OS_S3_SCHEME}://${config().OS_S3_HOSTNAME}:${config().OS_S3_PORT}/${config().OS_STORAGE_BUCKET_NAME}`;
    const doc = registryDoc(owner, 'readers', {}, { origin_url: `${bucket}/${owner}/readers/datapackage.json` });
    await seed(doc);
    const index = freshIndexName();
    const privateMode = { ...withIndex(ES_URL, index), OS_DATASTORE_PRIVATE: true };
    await withDb(config(), (db) => syncIndex(db, indexWriterFor(privateMode), { ids: [doc.id] }));
    const indexed = await getDocument(target(ES_URL!, index), doc.id);
    expect(indexed?.origin_url).toBe(`${config().OS_BASE_URL}/datastore/file/${owner}/readers/datapackage.json`);
    // The registry keeps the bucket URL (a status key and the hooks' payload).
    expect((await registryRow(doc.id))?.origin_url).toBe(doc.origin_url);
  });
});

describeEs('retryPendingIndexWrites (cron)', () => {
  it('repairs due writes that failed earlier', async () => {
    const owner = newUserId();
    const doc = registryDoc(owner, 'cron-repair', { private: true });
    await seed(doc);
    const index = freshIndexName();
    await publishAs(withIndex('http://127.0.0.1:9', index), owner, doc.id, 'true');
    // Make the failed write due (and first in line) instead of in 30 s.
    await withDb(config(), (db) =>
      db.query(`UPDATE registry_index_outbox SET next_attempt_at = '-infinity' WHERE package_id = $1`, [doc.id]),
    );
    const report = await retryPendingIndexWrites(withIndex(ES_URL, index), 3);
    expect(report.indexed).toBeGreaterThanOrEqual(1);
    expect(await outboxRow(doc.id)).toBeNull();
    expect((await getDocument(target(ES_URL!, index), doc.id))?.package.private).toBe(false);
  });
});
