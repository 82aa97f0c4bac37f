/**
 * The load plan: everything the messages of one job share, computed once by
 * its first message from the validated package and stored with the job
 * (`load_jobs.plan`), then turned into statements and the row caster by
 * every later message without validating or deriving anything again. The
 * only module here that knows the loader core's (src/loader/*) signatures.
 */
import { buildBabbageModel } from '../loader/babbage.ts';
import { castOptionsFor, castsToPlainText, castsToRowText, createRowCaster, createRowChecker, type CastOptions, type RowChecker } from '../loader/cast.ts';
import { createRowTranscoder, type RowTranscoder } from '../loader/copy-bytes.ts';
import { parseDescriptor, resolveResourceUrl } from '../loader/descriptor.ts';
import { columnNames } from '../loader/naming.ts';
import type { OsTypeTable } from '../loader/taxonomy.ts';
import { createFactTableSql, factTableColumns, factTableIndexes, insertChunkSql, quoteIdent } from '../loader/sql.ts';
import type { CsvDialect, FiscalPackage } from '../loader/types.ts';
import { PermanentError } from './errors.ts';

/** The stored plan of a job (plain JSON). */
export interface StoredPlan {
  /** The validated package (descriptor, fields, model). */
  pkg: FiscalPackage;
  /** Fact table column names, after `_id`. */
  columns: string[];
  staging: string;
  target: string;
  /** The babbage model of the final table. */
  model: Record<string, unknown>;
  /** Caster settings; the CSV header is added when the first rows are read. */
  cast: Omit<CastOptions, 'header'>;
  /**
   * The dialect the descriptor declares; the first data chunk completes the
   * keys it leaves out from the file's start (src/loader/dialect.ts) and
   * stores the result with the job (`load_jobs.dialect`).
   */
  dialect: CsvDialect;
  /** Text encoding of the data file. */
  encoding: string;
  /** Number of fact table indexes (renamed with the table at the swap). */
  indexes: number;
}

/**
 * Computes the plan of a load into `staging`, later renamed to `target`.
 * Fails (PermanentError, CastError) on a model or format problem now, not
 * after loading every row.
 */
export function makePlan(pkg: FiscalPackage, staging: string, target: string): StoredPlan {
  const columns = columnNames(pkg.resource.fields.map((f) => f.name));
  const model = permanent(
    'cannot build the babbage model',
    () => buildBabbageModel(pkg, target, ['_id', ...columns]) as unknown as Record<string, unknown>,
  );
  const { header: _header, ...cast } = permanent('cannot read the data', () => castOptionsFor(pkg));
  const plan: StoredPlan = {
    pkg,
    columns,
    staging,
    target,
    model,
    cast,
    dialect: pkg.resource.dialect,
    encoding: pkg.resource.encoding,
    indexes: factTableIndexes(pkg).length,
  };
  preparedFrom(plan).caster(null);
  return plan;
}

/**
 * Runs a core function whose plain Errors describe the package (an unusable
 * date format, a broken `:code:part` chain, a model naming no field): those
 * are permanent, not worth a retry. CastError/DescriptorError pass through.
 */
function permanent<T>(what: string, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof Error && (err.name === 'CastError' || err.name === 'DescriptorError')) throw err;
    throw new PermanentError(`${what}: ${err instanceof Error ? err.message : String(err)}`);
  }
}

/** A plan turned into what the load steps run. */
export interface PreparedLoad {
  pkg: FiscalPackage;
  /** Statements creating the (staging) fact table and its indexes. */
  createSql: string[];
  /** INSERT … SELECT FROM unnest($1::text[], …) of one batch, `_id` first. */
  insertSql: string;
  /** COPY … FROM STDIN of the same columns (text format). */
  copySql: string;
  /** Per column (`_id` first): its values never need COPY escaping (see castsToPlainText). */
  copyPlain: boolean[];
  /** The same for a row whose CSV text needs no escaping (ParsedRow.plain): see castsToRowText. */
  copyPlainInPlainRow: boolean[];
  /**
   * The row caster for a CSV with this header (values are picked by column
   * name) or, without one, by position: one CSV row -> text parameters, row
   * number first (as `_id`).
   */
  caster(header: string[] | null): (values: string[], row: number) => Array<string | null>;
  /**
   * The byte-level fast path for the same rows (src/loader/copy-bytes.ts),
   * or null where it does not apply; rows it refuses go through the caster.
   */
  transcoder(header: string[] | null, dialect: CsvDialect, encoding: string): RowTranscoder | null;
  /** The checker of the same rows (every problem of a row, for the validation report). */
  checker(header: string[] | null): RowChecker;
  /** Rows -> one array per column (the unnest parameters). */
  toColumns(rows: Array<Array<string | null>>): Array<Array<string | null>>;
  /** The babbage model for the final table. */
  babbageModel(): Record<string, unknown>;
}

/** Validates a descriptor (DescriptorError on problems); `extraColumnTypes` as config.extraColumnTypes. */
export function parseFiscalPackage(json: unknown, extraColumnTypes?: OsTypeTable): FiscalPackage {
  return parseDescriptor(json, extraColumnTypes ? { extraColumnTypes } : {});
}

/** The absolute URL of the package's data file. */
export function resourceUrlOf(descriptorUrl: string, pkg: FiscalPackage): string {
  return resolveResourceUrl(descriptorUrl, pkg.resource);
}

/** The statements and caster of a stored plan. */
export function preparedFrom(plan: StoredPlan): PreparedLoad {
  const { pkg, staging } = plan;
  const typed = factTableColumns(pkg.resource.fields);
  // The column rule is the core's: a plan stored by an older version must name the same columns.
  if (typed.slice(1).some((c, i) => c.name !== plan.columns[i])) throw new Error('internal: column names changed');
  const width = typed.length;
  return {
    pkg,
    // Index names follow the staging table and are renamed with it at the swap.
    createSql: createFactTableSql(staging, typed, { indexes: factTableIndexes(pkg) }),
    insertSql: insertChunkSql(staging, typed),
    copySql: `COPY ${quoteIdent(staging)} (${typed.map((c) => quoteIdent(c.name)).join(', ')}) FROM STDIN`,
    copyPlain: [true, ...pkg.resource.fields.map((f) => castsToPlainText(f.type))],
    copyPlainInPlainRow: [true, ...pkg.resource.fields.map((f) => castsToPlainText(f.type) || castsToRowText(f.type))],
    caster(header) {
      // `_id` (the row number) first, as the fact table's columns are.
      return permanent('cannot read the data', () =>
        createRowCaster(pkg.resource.fields, { ...plan.cast, header: header ?? undefined }, { rowNumberFirst: true }),
      );
    },
    transcoder(header, dialect, encoding) {
      return createRowTranscoder(pkg.resource.fields, { ...plan.cast, header: header ?? undefined }, dialect, encoding);
    },
    checker(header) {
      return permanent('cannot read the data', () => createRowChecker(pkg.resource.fields, { ...plan.cast, header: header ?? undefined }));
    },
    toColumns(rows) {
      const cols: Array<Array<string | null>> = Array.from({ length: width }, () => new Array(rows.length));
      for (let r = 0; r < rows.length; r++) {
        const row = rows[r] as Array<string | null>;
        for (let c = 0; c < width; c++) (cols[c] as Array<string | null>)[r] = row[c] ?? null;
      }
      return cols;
    },
    babbageModel() {
      return plan.model;
    },
  };
}

/** The prepared load of a package into `staging` (a plan made and used at once: the benches). */
export function prepareLoad(pkg: FiscalPackage, staging: string, target: string): PreparedLoad {
  return preparedFrom(makePlan(pkg, staging, target));
}
