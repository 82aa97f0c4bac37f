import { describe, expect, it } from 'vitest';
import { withDb } from '../db/client';
import { config } from '../../test/helpers/app';
import { createRowCaster } from './cast';
import { createFactTableSql, factTableColumns, factTableIndexes, insertChunkSql, quoteIdent, sqlType, swapTableSql, dropTableSql } from './sql';
import type { Field, FdpModel, LoadResource } from './types';
import { DEFAULT_DIALECT } from './types';

describe('sqlType maps Table Schema types to Postgres', () => {
  it.each([
    ['string', 'TEXT'], ['number', 'NUMERIC'], ['integer', 'BIGINT'], ['boolean', 'BOOLEAN'], ['date', 'DATE'],
    ['datetime', 'TIMESTAMP'], ['time', 'TIME'], ['year', 'INTEGER'], ['object', 'JSONB'], ['geojson', 'JSONB'],
    ['array', 'JSONB'], ['any', 'TEXT'], ['duration', 'TEXT'], ['geopoint', 'TEXT'], ['yearmonth', 'TEXT'],
  ])('%s -> %s', (type, sql) => {
    expect(sqlType({ type })).toBe(sql);
  });
});

describe('quoteIdent', () => {
  it.each([
    ['amount', '"amount"'],
    ['Intitule_compte', '"Intitule_compte"'],
    ['a"; DROP TABLE x; --', '"a""; DROP TABLE x; --"'],
  ])('quotes %j as %s', (name, quoted) => {
    expect(quoteIdent(name)).toBe(quoted);
  });
  it.each(['', 'a\u0000b', 'x'.repeat(64)])('refuses %j', (name) => {
    expect(() => quoteIdent(name)).toThrow();
  });
});

const fields: Field[] = [
  { name: 'Year', type: 'integer' },
  { name: 'code', type: 'string', constraints: { required: true } },
  { name: 'code label', type: 'string' },
  { name: 'amount', type: 'number' },
  { name: 'when', type: 'date' },
  { name: 'ok', type: 'boolean' },
  { name: 'meta', type: 'object' },
];
const model: FdpModel = {
  measures: { amount: { source: 'amount' } },
  dimensions: {
    date: { attributes: { year: { source: 'Year' } }, primaryKey: 'year' },
    cls: { attributes: { code: { source: 'code' }, label: { source: 'code label', labelfor: 'code' } }, primaryKey: 'code' },
  },
};
const resource: LoadResource = { fields, dialect: DEFAULT_DIALECT, encoding: 'utf-8', missingValues: [''], primaryKey: ['Year', 'code'] };

describe('fact table DDL and insert', () => {
  const columns = factTableColumns(fields);

  it('puts _id first and slugs the field names', () => {
    expect(columns).toEqual([
      { name: '_id', type: 'BIGINT', required: true },
      { name: 'Year', type: 'BIGINT', required: false },
      { name: 'code', type: 'TEXT', required: true },
      { name: 'code_label', type: 'TEXT', required: false },
      { name: 'amount', type: 'NUMERIC', required: false },
      { name: 'when', type: 'DATE', required: false },
      { name: 'ok', type: 'BOOLEAN', required: false },
      { name: 'meta', type: 'JSONB', required: false },
    ]);
  });

  it('indexes primary-key attributes and (key, label) pairs like the original', () => {
    expect(factTableIndexes({ model, resource })).toEqual([['Year'], ['code'], ['code', 'code_label']]);
  });

  it('builds CREATE TABLE with the _id primary key and numbered indexes', () => {
    expect(createFactTableSql('fdp__t', columns.slice(0, 3), { indexes: [['code'], ['code', 'Year']] })).toEqual([
      'CREATE TABLE "fdp__t" ("_id" BIGINT NOT NULL, "Year" BIGINT, "code" TEXT NOT NULL, PRIMARY KEY ("_id"))',
      'CREATE INDEX "fdp__t_ix000" ON "fdp__t" ("code")',
      'CREATE INDEX "fdp__t_ix001" ON "fdp__t" ("code", "Year")',
    ]);
    expect(() => createFactTableSql('t', columns.slice(1))).toThrow('the first fact table column must be _id');
  });

  it('builds the unnest insert with one typed array per column', () => {
    expect(insertChunkSql('fdp__t', columns.slice(0, 4))).toBe(
      'INSERT INTO "fdp__t" ("_id", "Year", "code", "code_label") SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::text[])',
    );
  });

  it('loads into a staging table and swaps it over the previous data in a real Postgres', async () => {
    const table = `fdp__sqltest__${crypto.randomUUID().slice(0, 8)}`;
    // The loader's staging form (src/queue/loader.ts stagingTableName).
    const staging = `fdp_load__${crypto.randomUUID().replace(/-/g, '').slice(0, 24)}`;
    const indexes = factTableIndexes({ model, resource });
    const cast = createRowCaster(fields);
    const rows = [
      ['2014', 'A', 'Alpha "quoted", {braces}', '42710050012014.5', '2014-12-31', 'true', '{"k":[1,2]}'],
      ['2015', 'B', '', '', '', '', ''],
    ].map((values, i) => cast(values, i + 1));
    const params = columns.map((_, c) => rows.map((row, r) => (c === 0 ? String(r + 1) : row[c - 1])));
    const result = await withDb(config(), async (db) => {
      // The previous load of the package, with its indexes.
      for (const sql of createFactTableSql(table, columns, { indexes })) await db.query(sql);
      await db.query(insertChunkSql(table, columns), columns.map((_, c) => [c === 0 ? '1' : c === 2 ? 'OLD' : null]));
      // The reload: staging table, data, swap in one transaction.
      await db.query(dropTableSql(staging));
      for (const sql of createFactTableSql(staging, columns, { indexes })) await db.query(sql);
      await db.query(insertChunkSql(staging, columns), params);
      await db.query('BEGIN');
      for (const sql of swapTableSql(staging, table, indexes.length)) await db.query(sql);
      await db.query('COMMIT');
      const data = await db.query(`SELECT "_id"::text, "Year"::text, code, code_label, amount::text, "when"::text, ok, meta FROM ${quoteIdent(table)} ORDER BY "_id"`);
      const names = await db.query('SELECT indexname FROM pg_indexes WHERE tablename = $1 ORDER BY indexname', [table]);
      const left = await db.query('SELECT count(*)::int AS n FROM pg_class WHERE relname LIKE $1', [`${staging}%`]);
      await db.query(dropTableSql(table));
      return { data: data.rows, indexes: names.rows.map((r: { indexname: string }) => r.indexname), left: left.rows[0] };
    });
    expect(result.data).toEqual([
      { _id: '1', Year: '2014', code: 'A', code_label: 'Alpha "quoted", {braces}', amount: '42710050012014.5', when: '2014-12-31', ok: true, meta: { k: [1, 2] } },
      { _id: '2', Year: '2015', code: 'B', code_label: null, amount: null, when: null, ok: null, meta: null },
    ]);
    expect(result.indexes).toEqual([`${table}_ix000`, `${table}_ix001`, `${table}_ix002`, `${table}_pkey`]);
    expect(result.left).toEqual({ n: 0 });
  });

  it('refuses a NULL in a required column (the table enforces it too)', async () => {
    const table = `fdp__sqltest__${crypto.randomUUID().slice(0, 8)}`;
    const error = await withDb(config(), async (db) => {
      for (const sql of createFactTableSql(table, columns)) await db.query(sql);
      try {
        await db.query(insertChunkSql(table, columns), columns.map((_, c) => [c === 0 ? '1' : null]));
        return null;
      } catch (e) {
        return (e as Error).message;
      } finally {
        await db.query(dropTableSql(table));
      }
    });
    expect(error).toMatch(/null value in column "code"/);
  });
});
