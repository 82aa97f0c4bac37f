/**
 * A batch write as the loader sends it: BEGIN, the checkpoint, COPY with its
 * data and COMMIT in one message (src/queue/copy-in.ts), against the real
 * Postgres through the Neon driver.
 */
import { describe, expect, it } from 'vitest';
import { withDb } from '../../src/db/client.ts';
import { checkpointSql, isCheckpointMoved } from '../../src/jobs/checkpoint.ts';
import { copyRows, copyText } from '../../src/queue/copy-in.ts';
import { config } from '../helpers/app.ts';

/** COPY text bytes of rows, as the batch writer hands them over. */
const bytesOf = (rows: ReadonlyArray<ReadonlyArray<string | null>>): Uint8Array => new TextEncoder().encode(copyText(rows));

const JOB = '0b9d3c1e-2f4a-4e6b-8c7d-9e0f1a2b3c4d';

async function withTable<T>(fn: (db: Parameters<Parameters<typeof withDb>[1]>[0], table: string) => Promise<T>): Promise<T> {
  const table = `copy_in_${crypto.randomUUID().replace(/-/g, '').slice(0, 12)}`;
  return withDb(config(), async (db) => {
    await db.query(`CREATE TABLE ${table} (id bigint PRIMARY KEY, label text, amount numeric)`);
    await db.query(`DELETE FROM load_jobs WHERE job_id = $1`, [JOB]);
    await db.query(
      `INSERT INTO load_jobs (job_id, status_key, userid, state, byte_offset, rows_loaded) VALUES ($1, $2, 'u', 'loading', 0, 0)`,
      [JOB, `test:${table}`],
    );
    try {
      return await fn(db, table);
    } finally {
      await db.query(`DROP TABLE IF EXISTS ${table}`);
      await db.query(`DELETE FROM load_jobs WHERE job_id = $1`, [JOB]);
    }
  });
}

const copySql = (table: string) => `COPY ${table} (id, label, amount) FROM STDIN`;
const rows = [
  ['1', 'tab\there', '1.50'],
  ['2', null, '-3'],
  ['3', 'back\\slash\nnewline', '0'],
];

describe('copyRows in one message with its checkpoint', () => {
  it('commits the rows and the checkpoint together, values exact', async () => {
    await withTable(async (db, table) => {
      await copyRows(db, copySql(table), bytesOf(rows), { before: ['BEGIN', checkpointSql(JOB, 0, 120, 3)], after: ['COMMIT'] });
      const got = await db.query(`SELECT id::text, label, amount::text FROM ${table} ORDER BY id`);
      expect(got.rows).toEqual(rows.map(([id, label, amount]) => ({ id, label, amount })));
      const job = await db.query(`SELECT byte_offset, rows_loaded FROM load_jobs WHERE job_id = $1`, [JOB]);
      expect(job.rows[0]).toMatchObject({ byte_offset: '120', rows_loaded: '3' });
    });
  });

  it('writes nothing when the checkpoint moved, and the connection goes on working', async () => {
    await withTable(async (db, table) => {
      const err = await copyRows(db, copySql(table), bytesOf(rows), {
        before: ['BEGIN', checkpointSql(JOB, 50, 120, 3)],
        after: ['COMMIT'],
      }).catch((e: unknown) => e);
      expect(isCheckpointMoved(err)).toBe(true);
      await db.query('ROLLBACK');
      expect((await db.query(`SELECT count(*)::int AS n FROM ${table}`)).rows[0]).toEqual({ n: 0 });
      const job = await db.query(`SELECT byte_offset::int AS o FROM load_jobs WHERE job_id = $1`, [JOB]);
      expect(job.rows[0]).toEqual({ o: 0 });
      // The copy data sent with the failed message was dropped, not read as commands.
      await copyRows(db, copySql(table), bytesOf(rows), { before: ['BEGIN', checkpointSql(JOB, 0, 120, 3)], after: ['COMMIT'] });
      expect((await db.query(`SELECT count(*)::int AS n FROM ${table}`)).rows[0]).toEqual({ n: 3 });
    });
  });

  it('rolls back the checkpoint when the database refuses a row', async () => {
    await withTable(async (db, table) => {
      const bad = [...rows, ['4', 'x', 'not a number']];
      const err = await copyRows(db, copySql(table), bytesOf(bad), {
        before: ['BEGIN', checkpointSql(JOB, 0, 160, 4)],
        after: ['COMMIT'],
      }).catch((e: unknown) => e);
      expect(String((err as Error).message)).toMatch(/invalid input syntax for type numeric/);
      await db.query('ROLLBACK');
      expect((await db.query(`SELECT count(*)::int AS n FROM ${table}`)).rows[0]).toEqual({ n: 0 });
      const job = await db.query(`SELECT byte_offset::int AS o, rows_loaded::int AS r FROM load_jobs WHERE job_id = $1`, [JOB]);
      expect(job.rows[0]).toEqual({ o: 0, r: 0 });
    });
  });

  it('sends a batch of many megabytes in one message', async () => {
    await withTable(async (db, table) => {
      const many = Array.from({ length: 40_000 }, (_, i) => [String(i + 1), `label ${i} `.repeat(8), `${i}.25`]);
      await copyRows(db, copySql(table), bytesOf(many), { before: ['BEGIN', checkpointSql(JOB, 0, 1, 40_000)], after: ['COMMIT'] });
      const got = await db.query(`SELECT count(*)::int AS n, sum(amount)::text AS s FROM ${table}`);
      expect(got.rows[0]).toEqual({ n: 40_000, s: String((40_000 * 39_999) / 2 + 40_000 * 0.25) + '.00' });
    });
  });

  it('pipelines batches sent before the previous ones answered: all commit, in order, with their checkpoints', async () => {
    await withTable(async (db, table) => {
      const batch = (n: number) => [[String(n * 10 + 1), `b${n}`, '1'], [String(n * 10 + 2), null, '2']];
      const sent = [0, 1, 2, 3, 4].map((n) =>
        copyRows(db, copySql(table), bytesOf(batch(n)), { before: ['BEGIN', checkpointSql(JOB, n * 100, (n + 1) * 100, (n + 1) * 2)], after: ['COMMIT'] }),
      );
      await Promise.all(sent);
      expect((await db.query(`SELECT count(*)::int AS n FROM ${table}`)).rows[0]).toEqual({ n: 10 });
      const job = await db.query(`SELECT byte_offset::int AS o, rows_loaded::int AS r FROM load_jobs WHERE job_id = $1`, [JOB]);
      expect(job.rows[0]).toEqual({ o: 500, r: 10 });
    });
  });

  it('after a refused row in a pipelined batch, the batches after it fail and commit nothing', async () => {
    await withTable(async (db, table) => {
      const good = (n: number) => [[String(n * 10 + 1), 'ok', '1']];
      const opts = (n: number) => ({ before: ['BEGIN', checkpointSql(JOB, n * 100, (n + 1) * 100, n + 1)], after: ['COMMIT'] });
      const results = await Promise.allSettled([
        copyRows(db, copySql(table), bytesOf(good(0)), opts(0)),
        copyRows(db, copySql(table), bytesOf([['11', 'bad', 'not a number']]), opts(1)),
        copyRows(db, copySql(table), bytesOf(good(2)), opts(2)),
        copyRows(db, copySql(table), bytesOf(good(3)), opts(3)),
      ]);
      expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'rejected', 'rejected']);
      expect(String((results[1] as PromiseRejectedResult).reason)).toMatch(/invalid input syntax for type numeric/);
      await db.query('ROLLBACK');
      expect((await db.query(`SELECT id::int FROM ${table}`)).rows).toEqual([{ id: 1 }]);
      const job = await db.query(`SELECT byte_offset::int AS o, rows_loaded::int AS r FROM load_jobs WHERE job_id = $1`, [JOB]);
      expect(job.rows[0]).toEqual({ o: 100, r: 1 });
      // The connection still answers the right query.
      expect((await db.query(`SELECT 42 AS answer`)).rows[0]).toEqual({ answer: 42 });
    });
  });

  it('a query queued between batches gets its own answer (no batch goes on the wire ahead of it)', async () => {
    await withTable(async (db, table) => {
      const opts = (n: number) => ({ before: ['BEGIN', checkpointSql(JOB, n * 100, (n + 1) * 100, n + 1)], after: ['COMMIT'] });
      const first = copyRows(db, copySql(table), bytesOf([['1', 'a', '1']]), opts(0));
      const between = db.query(`SELECT count(*)::int AS n FROM ${table}`);
      const second = copyRows(db, copySql(table), bytesOf([['2', 'b', '2']]), opts(1));
      const third = copyRows(db, copySql(table), bytesOf([['3', 'c', '3']]), opts(2));
      await Promise.all([first, second, third]);
      expect((await between).rows).toEqual([{ n: 1 }]);
      expect((await db.query(`SELECT count(*)::int AS n FROM ${table}`)).rows[0]).toEqual({ n: 3 });
    });
  });
});
