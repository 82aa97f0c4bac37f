/**
 * CSV dialect detection through the real loader: a package whose CSV is
 * `;`-separated with decimal commas and declares no dialect loads like the
 * comma original, over several chunks (the resumed ones parse with the
 * dialect the first chunk detected), and the status shows the dialect.
 */
import { describe, expect, it } from 'vitest';
import { getConfig } from '../../src/config.ts';
import { factTableName } from '../../src/loader/naming.ts';
import type { LoaderMessage } from '../../src/queue/messages.ts';
import { acceptUpload } from '../../src/jobs/accept.ts';
import { fixture } from '../datastore/helpers.ts';
import { deliver, drain, drivenEnv, jobsOf, parseCsvText, publishFixture, query, status } from './helpers.ts';

/** The uk-cra CSV rewritten with `;`, decimal commas in `amount`, quoted text holding commas, CRLF. */
async function semicolonCsv(): Promise<{ bytes: Uint8Array; rows: string[][] }> {
  const rows = parseCsvText(new TextDecoder().decode(await fixture('fdp/uk-cra/dataset.csv'))).filter(
    (r) => !(r.length === 1 && r[0] === ''),
  );
  const amount = (rows[0] as string[]).indexOf('amount');
  const quote = (v: string): string => (/[;",\r\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);
  const text = rows
    .map((r, i) => r.map((v, j) => quote(i > 0 && j === amount ? v.replace('.', ',') : v)).join(';'))
    .join('\r\n');
  return { bytes: new TextEncoder().encode(`${text}\r\n`), rows };
}

describe('a ;-separated package without a dialect', () => {
  it('loads over several chunks with the detected dialect, shown in the status', async () => {
    const { bytes, rows } = await semicolonCsv();
    const sent: LoaderMessage[] = [];
    const e = drivenEnv(sent);
    const pub = await publishFixture('fdp/uk-cra', {
      noUpload: true,
      data: bytes,
      edit: (descriptor) => {
        const resource = (descriptor.resources as Array<Record<string, unknown>>)[0] as Record<string, unknown>;
        delete resource.dialect;
        const fields = (resource.schema as { fields: Array<Record<string, unknown>> }).fields;
        const amount = fields.find((f) => f.name === 'amount') as Record<string, unknown>;
        amount.decimalChar = ',';
      },
    });
    expect(await acceptUpload(e, getConfig(e), pub.url, pub.token)).toEqual({ progress: 0, status: 'queued' });
    await deliver(e, sent.shift() as LoaderMessage);
    const dialect = { delimiter: ';', quoteChar: '"', skipInitialSpace: false, detected: ['delimiter', 'quoteChar', 'skipInitialSpace'] };
    // Shown while loading, from the first chunk on.
    expect(await status(pub.url)).toMatchObject({ status: 'loading-data', dialect });
    expect(await drain(e, sent)).toBeGreaterThanOrEqual(3);
    expect(await status(pub.url)).toMatchObject({ status: 'done', progress: 2000, total: 2000, dialect });
    const [job] = await jobsOf(pub.url);
    expect(job?.dialect).toMatchObject({ dialect: { delimiter: ';', quoteChar: '"' }, detected: dialect.detected });

    // Every row, with the quoted comma texts and the decimal-comma amounts read right.
    const header = rows[0] as string[];
    const data = rows.slice(1);
    const col = (name: string): number => header.indexOf(name);
    const table = factTableName(pub.userid, pub.name);
    const loaded = await query<{ amount: string; to_description: string; from_label: string }>(
      `SELECT amount, to_description, from_label FROM "${table}" ORDER BY _id`,
    );
    expect(loaded).toHaveLength(2000);
    expect(loaded.map((r) => [r.to_description, r.from_label])).toEqual(
      data.map((r) => [r[col('to_description')], r[col('from_label')]]),
    );
    expect(loaded.map((r) => Number(r.amount))).toEqual(data.map((r) => Number(r[col('amount')])));
  });
});
