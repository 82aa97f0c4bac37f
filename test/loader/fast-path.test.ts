/**
 * The loader's byte-level fast path (src/loader/copy-bytes.ts) against the
 * string path, end to end: the same CSV — rows the fast path takes mixed with
 * rows it must leave to the caster (grouped thousands, a rewritten boolean),
 * quotes, escapes, line breaks in quotes, multi-byte text — loaded with COPY
 * (fast path on) and with unnest (casting only) gives the same table, row for
 * row, across chunks resumed by Range and many small batches.
 */
import { describe, expect, it } from 'vitest';
import { factTableName } from '../../src/loader/naming.ts';
import type { LoaderMessage } from '../../src/queue/messages.ts';
import { drain, drivenEnv, query, startLoad, status } from './helpers.ts';

const ROWS = 3000;
const LABELS = ['plain', 'a, b', 'say "hi"', 'tab\there', 'two\nlines', 'back\\slash', 'Jöhn €', '', '😀 ok', 'x'.repeat(300)];

function csvField(value: string): string {
  return /[,"\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

/** The CSV: canonical rows, with a row the caster must rewrite every 7th (thousands) and 13th (boolean word). */
function generated(): Uint8Array {
  let text = 'id,label,amount,day,flag,year\n';
  for (let i = 1; i <= ROWS; i++) {
    const amount = i % 7 === 0 ? `${i},${String(i % 1000).padStart(3, '0')}.50` : `${i * 3}.25`;
    const day = i % 11 === 0 ? '' : `2014-${String((i % 12) + 1).padStart(2, '0')}-${String((i % 28) + 1).padStart(2, '0')}`;
    const flag = i % 13 === 0 ? ' yes ' : i % 2 === 0 ? 'true' : '0';
    text += [i, csvField(LABELS[i % LABELS.length] as string), csvField(amount), day, flag, 2000 + (i % 20)].join(',') + (i % 5 === 0 ? '\r\n' : '\n');
  }
  return new TextEncoder().encode(text);
}

const FIELDS = [
  { name: 'id', type: 'integer' },
  { name: 'label', type: 'string' },
  { name: 'amount', type: 'number', groupChar: ',' },
  { name: 'day', type: 'date' },
  { name: 'flag', type: 'boolean', trueValues: ['true', 'yes'], falseValues: ['0'] },
  { name: 'year', type: 'year' },
];

function edit(descriptor: Record<string, unknown>): void {
  const resource = (descriptor.resources as Array<Record<string, unknown>>)[0] as Record<string, unknown>;
  resource.schema = { fields: FIELDS };
  delete resource.dialect;
  delete resource.encoding;
  descriptor.model = {
    measures: { amount: { source: 'amount', currency: 'EUR' } },
    dimensions: {
      item: { dimensionType: 'classification', primaryKey: ['id'], attributes: { id: { source: 'id' }, label: { source: 'label', labelfor: 'id' } } },
      date: { dimensionType: 'datetime', primaryKey: ['year'], attributes: { year: { source: 'year' }, day: { source: 'day' }, flag: { source: 'flag' } } },
    },
  };
}

async function load(method: 'copy' | 'unnest', data: Uint8Array): Promise<string> {
  const sent: LoaderMessage[] = [];
  const e = drivenEnv(sent, { OS_LOADER_INSERT_METHOD: method, OS_LOADER_CHUNK_ROWS: '1100', OS_LOADER_BATCH_ROWS: '250' });
  const pub = await startLoad(e, 'fdp/uk-cra', { data, edit });
  await drain(e, sent);
  const end = await status(pub.url);
  expect(end, JSON.stringify(end)).toMatchObject({ status: "done", progress: ROWS });
  return factTableName(pub.userid, pub.name);
}

describe('the byte-level fast path', () => {
  it('loads exactly what casting every row loads', async () => {
    const data = generated();
    const fast = await load('copy', data);
    const cast = await load('unnest', data);
    const rows = (table: string) => query<{ t: string }>(`SELECT t::text AS t FROM "${table}" t ORDER BY _id`);
    const [a, b] = await Promise.all([rows(fast), rows(cast)]);
    expect(a.length).toBe(ROWS);
    expect(a).toEqual(b);
    // And what the file says, for rows of each kind.
    const columns = (await query<{ column_name: string }>(
      `SELECT column_name FROM information_schema.columns WHERE table_name = $1 ORDER BY ordinal_position`,
      [fast],
    )).map((c) => c.column_name);
    const pick = async (id: number) => {
      const list = columns.slice(1).map((c, i) => `"${c}"::text AS c${i}`).join(', ');
      const [row] = await query<Record<string, string | null>>(`SELECT ${list} FROM "${fast}" WHERE _id = $1`, [id]);
      return columns.slice(1).map((_, i) => row?.[`c${i}`] ?? null);
    };
    expect(await pick(3)).toEqual(['3', 'tab\there', '9.25', '2014-04-04', 'false', '2003']);
    expect(await pick(14)).toEqual(['14', 'two\nlines', '14014.50', '2014-03-15', 'true', '2014']);
    expect(await pick(22)).toEqual(['22', 'say "hi"', '66.25', null, 'true', '2002']);
    expect(await pick(26)).toEqual(['26', 'Jöhn €', '78.25', '2014-03-27', 'true', '2006']);
  });
});
