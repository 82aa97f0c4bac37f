/**
 * Several statements in one round trip (src/db/script.ts), against the real
 * Postgres through the Neon driver: values inlined as literals come back
 * exactly as bound parameters would, whatever they hold, and a transaction
 * that fails anywhere leaves nothing behind.
 */
import { describe, expect, it } from 'vitest';
import { withDb } from '../../src/db/client.ts';
import { decidedTransaction, inlineStatement, runScript, type SqlValue } from '../../src/db/script.ts';
import { config } from '../helpers/app.ts';

type Db = Parameters<Parameters<typeof withDb>[1]>[0];

async function withTable<T>(fn: (db: Db, table: string) => Promise<T>): Promise<T> {
  const table = `script_${crypto.randomUUID().replace(/-/g, '').slice(0, 12)}`;
  return withDb(config(), async (db) => {
    await db.query(`CREATE TABLE ${table} (id int PRIMARY KEY, label text)`);
    try {
      return await fn(db, table);
    } finally {
      await db.query(`DROP TABLE IF EXISTS ${table}`);
    }
  });
}

const HOSTILE: string[] = [
  "it's",
  "'); DROP TABLE load_jobs; --",
  'back\\slash \\\' and quote',
  '$1 $2 $$ dollar $tag$ quoted $tag$',
  'line\nbreak\ttab\r',
  'ünïcödé 😀 \u2028',
  '',
  '\\',
  "E'\\x00'",
];

describe('inlineStatement', () => {
  it.each<[string, SqlValue[], string]>([
    ['SELECT $1', [null], 'SELECT NULL'],
    ['SELECT $1, $2', [true, false], 'SELECT TRUE, FALSE'],
    ['SELECT $1::int - $2', [3, -2], 'SELECT 3::int - (-2)'],
    ['SELECT $10, $1', [1, 2, 3, 4, 5, 6, 7, 8, 9, 10], ''],
  ])('%s with %j', (text, values, expected) => {
    if (expected === '') {
      expect(() => inlineStatement({ text, values })).toThrow(/uses 2 of its 10/);
      return;
    }
    expect(inlineStatement({ text, values })).toBe(expected);
  });

  it('refuses a missing value, a number that is not finite and a NUL character', () => {
    expect(() => inlineStatement({ text: 'SELECT $2', values: ['a'] })).toThrow(/\$2/);
    expect(() => inlineStatement({ text: 'SELECT $1', values: [Number.NaN] })).toThrow(/finite/);
    expect(() => inlineStatement({ text: 'SELECT $1', values: ['a\u0000b'] })).toThrow(/NUL/);
  });
});

describe('runScript', () => {
  it('gives every text back exactly as a bound parameter does, in one message', async () => {
    await withDb(config(), async (db) => {
      const results = await runScript(
        db,
        HOSTILE.map((v) => ({ text: 'SELECT $1::text AS v, $1::text = $2::text AS same', values: [v, v] })),
      );
      expect(results.map((r) => r.rows[0]?.v)).toEqual(HOSTILE);
      for (const v of HOSTILE) {
        const { rows } = await db.query('SELECT $1::text AS v', [v]);
        expect(rows[0]?.v).toBe(v);
      }
    });
  });

  it('answers each statement in order, counts included', async () => {
    await withTable(async (db, table) => {
      const results = await runScript(db, [
        { text: `INSERT INTO ${table} VALUES ($1, $2), ($3, $4)`, values: [1, 'a', 2, 'b'] },
        { text: `UPDATE ${table} SET label = $1 WHERE id = $2`, values: ['c', 2] },
        `SELECT id, label FROM ${table} ORDER BY id`,
      ]);
      expect(results.map((r) => r.rowCount)).toEqual([2, 1, 2]);
      expect(results[2]?.rows).toEqual([
        { id: 1, label: 'a' },
        { id: 2, label: 'c' },
      ]);
    });
  });
});

describe('decidedTransaction', () => {
  it('commits what the decision writes, from what the opening read', async () => {
    await withTable(async (db, table) => {
      await db.query(`INSERT INTO ${table} VALUES (1, 'x')`);
      const value = await decidedTransaction(db, [{ text: `SELECT label FROM ${table} WHERE id = $1 FOR UPDATE`, values: [1] }], ([read]) => ({
        value: read?.rows[0]?.label,
        writes: [{ text: `INSERT INTO ${table} VALUES ($1, $2)`, values: [2, `${String(read?.rows[0]?.label)}y`] }],
      }));
      expect(value).toBe('x');
      expect((await db.query(`SELECT label FROM ${table} WHERE id = 2`)).rows[0]?.label).toBe('xy');
    });
  });

  it('leaves nothing when a written statement fails, and the connection stays usable', async () => {
    await withTable(async (db, table) => {
      await expect(
        decidedTransaction(db, [`SELECT 1`], () => ({
          value: null,
          writes: [`INSERT INTO ${table} VALUES (1, 'kept?')`, `INSERT INTO ${table} VALUES (1, 'duplicate key')`],
        })),
      ).rejects.toThrow(/duplicate key/);
      expect((await db.query(`SELECT count(*)::int AS n FROM ${table}`)).rows[0]?.n).toBe(0);
    });
  });

  it('leaves nothing when the decision throws', async () => {
    await withTable(async (db, table) => {
      await expect(
        decidedTransaction(db, [`INSERT INTO ${table} VALUES (1, 'opened')`], () => {
          throw new Error('changed its mind');
        }),
      ).rejects.toThrow(/changed its mind/);
      expect((await db.query(`SELECT count(*)::int AS n FROM ${table}`)).rows[0]?.n).toBe(0);
    });
  });
});
