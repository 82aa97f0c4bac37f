/**
 * The benchmarks' generated fiscal data package: a deterministic CSV of
 * budget lines (12 columns, quoted values with commas, dates, decimals,
 * booleans) and its datapackage.json. Shared by bench/load.ts,
 * bench/memory.ts and bench/datapath.ts (which runs it inside workerd, so
 * nothing here uses Node APIs).
 */

/** A small deterministic PRNG so every run loads the same data. */
export function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/** Schema fields of the generated CSV. */
export const FIELDS = [
  { name: 'year', type: 'integer' },
  { name: 'admin_code', type: 'string' },
  { name: 'admin_label', type: 'string' },
  { name: 'econ_code', type: 'string' },
  { name: 'econ_label', type: 'string' },
  { name: 'func_code', type: 'string' },
  { name: 'func_label', type: 'string' },
  { name: 'date', type: 'date' },
  { name: 'approved', type: 'number' },
  { name: 'executed', type: 'number' },
  { name: 'transactions', type: 'integer' },
  { name: 'capital', type: 'boolean' },
];

/** Header line of the generated CSV. */
export const CSV_HEADER =
  'year,admin_code,admin_label,econ_code,econ_label,func_code,func_label,date,approved,executed,transactions,capital\n';

const WORDS = ['Health', 'Education', 'Transport', 'Defence', 'Culture', 'Housing', 'Water', 'Energy'];

/** Data line `i` (0-based) of the generated CSV; `rnd` is a {@link prng} advanced row by row. */
export function csvRow(i: number, rnd: () => number): string {
  const a = Math.floor(rnd() * 200);
  const e = Math.floor(rnd() * 60);
  const f = Math.floor(rnd() * 40);
  const month = 1 + Math.floor(rnd() * 12);
  const day = 1 + Math.floor(rnd() * 28);
  return (
    `${2010 + (i % 10)},A${a},"${WORDS[a % 8]} agency ${a}",E${e},${WORDS[e % 8]} spending ${e},F${f},"${WORDS[f % 8]}, function ${f}",` +
    `${2010 + (i % 10)}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')},${(rnd() * 1e6).toFixed(2)},${(rnd() * 1e6).toFixed(2)},${Math.floor(rnd() * 1000)},${rnd() < 0.3 ? 'true' : 'false'}\n`
  );
}

/** The datapackage.json of the generated CSV, owned by `owner`. */
export function descriptor(owner: string, name = 'bench-budget'): Record<string, unknown> {
  return {
    name,
    title: 'Benchmark budget',
    owner,
    author: 'Bench Mark <bench@example.org>',
    resources: [{ name: 'budget', path: 'budget.csv', format: 'csv', schema: { fields: FIELDS } }],
    model: {
      measures: {
        approved: { source: 'approved', currency: 'EUR' },
        executed: { source: 'executed', currency: 'EUR' },
      },
      dimensions: {
        date: { dimensionType: 'datetime', primaryKey: ['year'], attributes: { year: { source: 'year' } } },
        administrative: {
          dimensionType: 'classification',
          primaryKey: ['admin_code'],
          attributes: { admin_code: { source: 'admin_code' }, admin_label: { source: 'admin_label', labelfor: 'admin_code' } },
        },
        economic: {
          dimensionType: 'classification',
          primaryKey: ['econ_code'],
          attributes: { econ_code: { source: 'econ_code' }, econ_label: { source: 'econ_label', labelfor: 'econ_code' } },
        },
        functional: {
          dimensionType: 'classification',
          primaryKey: ['func_code'],
          attributes: { func_code: { source: 'func_code' }, func_label: { source: 'func_label', labelfor: 'func_code' } },
        },
      },
    },
  };
}
