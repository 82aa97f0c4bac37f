/**
 * The loader's view of the pure loader core (src/loader/*): everything one
 * load needs, computed from the validated package and the table names. The
 * only module here that knows the core's function signatures.
 */
import { buildBabbageModel } from '../loader/babbage.ts';
import { castOptionsFor, castsToPlainText, createRowCaster } from '../loader/cast.ts';
import { parseDescriptor, resolveResourceUrl } from '../loader/descriptor.ts';
import type { OsTypeTable } from '../loader/taxonomy.ts';
import { createFactTableSql, factTableColumns, factTableIndexes, insertChunkSql, quoteIdent } from '../loader/sql.ts';
import type { FiscalPackage } from '../loader/types.ts';
import { PermanentError } from './errors.ts';

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

/** Everything the chunks of one load share. */
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
  /**
   * The row caster for a CSV with this header (values are picked by column
   * name) or, without one, by position: one CSV row -> text parameters, row
   * number first (as `_id`).
   */
  caster(header: string[] | null): (values: string[], row: number) => Array<string | null>;
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

/** The plan of a load into `staging`, later renamed to `target`. */
export function prepareLoad(pkg: FiscalPackage, staging: string, target: string, columns: string[]): PreparedLoad {
  // The column names are stored with the job; the rule is the core's, so
  // they are the same as factTableColumns computes (checked here).
  const typed = factTableColumns(pkg.resource.fields);
  if (typed.slice(1).some((c, i) => c.name !== columns[i])) throw new Error('internal: column names changed');
  const width = typed.length;
  return {
    pkg,
    // Index names follow the staging table and are renamed with it at the swap.
    createSql: createFactTableSql(staging, typed, { indexes: factTableIndexes(pkg) }),
    insertSql: insertChunkSql(staging, typed),
    copySql: `COPY ${quoteIdent(staging)} (${typed.map((c) => quoteIdent(c.name)).join(', ')}) FROM STDIN`,
    copyPlain: [true, ...pkg.resource.fields.map((f) => castsToPlainText(f.type))],
    caster(header) {
      // `_id` (the row number) first, as the fact table's columns are.
      return permanent('cannot read the data', () =>
        createRowCaster(pkg.resource.fields, castOptionsFor(pkg, header ?? undefined), { rowNumberFirst: true }),
      );
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
      return permanent(
        'cannot build the babbage model',
        () => buildBabbageModel(pkg, target, ['_id', ...columns]) as unknown as Record<string, unknown>,
      );
    },
  };
}
