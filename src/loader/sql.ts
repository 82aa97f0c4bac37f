/**
 * SQL text for the fact table (loader.md §2.4, Decision 2): one flat table per
 * package, `_id` BIGINT primary key (the 1-based row number), one column per
 * schema field, the original's indexes, and a chunked insert through
 * `unnest` of text arrays. Pure string building; identifiers are always
 * quoted, values always travel as parameters.
 */
import { columnNames } from './naming';
import type { Field, FiscalPackage } from './types';

/** A fact table column. */
export interface ColumnDef {
  name: string;
  /** Postgres type from {@link sqlType}. */
  type: string;
  /** NOT NULL (Table Schema `constraints.required`). */
  required?: boolean;
}

const TYPES: Record<string, string> = {
  string: 'TEXT',
  number: 'NUMERIC',
  integer: 'BIGINT',
  boolean: 'BOOLEAN',
  date: 'DATE',
  datetime: 'TIMESTAMP',
  time: 'TIME',
  year: 'INTEGER',
  object: 'JSONB',
  geojson: 'JSONB',
  array: 'JSONB',
};

/**
 * Postgres column type of a field: BIGINT/NUMERIC rather than the original's
 * int4/float8 (real data overflowed int4 and float8 rounds amounts); types
 * with no Postgres equivalent (duration, geopoint, yearmonth, any) are TEXT.
 */
export function sqlType(field: Pick<Field, 'type'>): string {
  return Object.hasOwn(TYPES, field.type) ? (TYPES[field.type] as string) : 'TEXT';
}

/** Postgres's identifier limit in bytes; longer names would be silently truncated (and could collide). */
const MAX_IDENTIFIER_BYTES = 63;

/** A double-quoted identifier; refuses empty names, NUL and names Postgres would truncate. */
export function quoteIdent(name: string): string {
  if (name === '' || name.includes('\u0000')) throw new Error(`invalid SQL identifier ${JSON.stringify(name)}`);
  if (new TextEncoder().encode(name).length > MAX_IDENTIFIER_BYTES) throw new Error(`SQL identifier longer than 63 bytes: ${JSON.stringify(name)}`);
  return `"${name.replace(/"/g, '""')}"`;
}

/** The fact table columns of a package: `_id` first, then one per field with its column name and SQL type. */
export function factTableColumns(fields: Field[]): ColumnDef[] {
  const names = columnNames(fields.map((f) => f.name));
  return [
    { name: '_id', type: 'BIGINT', required: true },
    ...fields.map((f, i) => ({ name: names[i] as string, type: sqlType(f), required: f.constraints?.required === true })),
  ];
}

/**
 * The original's index column lists: for each dimension attribute whose source
 * is in the resource's `schema.primaryKey`, its column; for a label attribute
 * (`labelfor`) of such an attribute, the pair (key column, label column).
 */
export function factTableIndexes(pkg: Pick<FiscalPackage, 'model' | 'resource'>): string[][] {
  const fields = pkg.resource.fields;
  const names = columnNames(fields.map((f) => f.name));
  const column = new Map(fields.map((f, i) => [f.name, names[i] as string]));
  const inKey = new Set(pkg.resource.primaryKey);
  const indexes: string[][] = [];
  for (const dim of Object.values(pkg.model.dimensions)) {
    for (const attr of Object.values(dim.attributes)) {
      const col = column.get(attr.source);
      if (col === undefined) continue;
      if (inKey.has(attr.source)) indexes.push([col]);
      const target = attr.labelfor !== undefined && Object.hasOwn(dim.attributes, attr.labelfor) ? dim.attributes[attr.labelfor] : undefined;
      const targetCol = target ? column.get(target.source) : undefined;
      if (target && targetCol !== undefined && inKey.has(target.source)) indexes.push([targetCol, col]);
    }
  }
  return indexes;
}

/** Options of {@link createFactTableSql}. */
export interface CreateTableOptions {
  /** Index columns (see {@link factTableIndexes}). */
  indexes?: string[][];
}

/** Name of index `i` of `table`: `<table>_ix000`, `_ix001`, ... as the original named them. */
export function indexName(table: string, i: number): string {
  return `${table}_ix${String(i).padStart(3, '0')}`;
}

/**
 * `CREATE TABLE` (with `PRIMARY KEY ("_id")`, so the key index is
 * `<table>_pkey`) followed by one `CREATE INDEX` per index.
 * `columns` must start with `_id` (use {@link factTableColumns}).
 */
export function createFactTableSql(table: string, columns: ColumnDef[], options: CreateTableOptions = {}): string[] {
  if (columns[0]?.name !== '_id') throw new Error('the first fact table column must be _id');
  const defs = columns.map((c) => `${quoteIdent(c.name)} ${c.type}${c.required ? ' NOT NULL' : ''}`);
  const statements = [`CREATE TABLE ${quoteIdent(table)} (${defs.join(', ')}, PRIMARY KEY ("_id"))`];
  (options.indexes ?? []).forEach((cols, i) => {
    statements.push(`CREATE INDEX ${quoteIdent(indexName(table, i))} ON ${quoteIdent(table)} (${cols.map(quoteIdent).join(', ')})`);
  });
  return statements;
}

/**
 * Statements that replace `table` by `staging` (run them in one
 * transaction): drop the old table, rename the staging table and its
 * indexes to the final names.
 */
export function swapTableSql(staging: string, table: string, indexCount: number): string[] {
  const statements = [dropTableSql(table), renameTableSql(staging, table)];
  statements.push(`ALTER INDEX ${quoteIdent(`${staging}_pkey`)} RENAME TO ${quoteIdent(`${table}_pkey`)}`);
  for (let i = 0; i < indexCount; i++) {
    statements.push(`ALTER INDEX ${quoteIdent(indexName(staging, i))} RENAME TO ${quoteIdent(indexName(table, i))}`);
  }
  return statements;
}

/**
 * The chunk insert: `INSERT INTO t (cols) SELECT * FROM unnest($1::bigint[],
 * $2::numeric[], ...)`. Parameter n is an array with one element per row
 * (text or null, as the row caster produces; `_id` numbers or text).
 */
export function insertChunkSql(table: string, columns: ColumnDef[]): string {
  const cols = columns.map((c) => quoteIdent(c.name)).join(', ');
  const arrays = columns.map((c, i) => `$${i + 1}::${c.type.toLowerCase()}[]`).join(', ');
  return `INSERT INTO ${quoteIdent(table)} (${cols}) SELECT * FROM unnest(${arrays})`;
}

/** `DROP TABLE IF EXISTS`. */
export function dropTableSql(table: string): string {
  return `DROP TABLE IF EXISTS ${quoteIdent(table)}`;
}

/** `ALTER TABLE ... RENAME TO` (for the swap after a successful load). */
export function renameTableSql(from: string, to: string): string {
  return `ALTER TABLE ${quoteIdent(from)} RENAME TO ${quoteIdent(to)}`;
}
