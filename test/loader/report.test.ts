/**
 * The validation report of a load that meets bad data (/package/report,
 * the status sentence, the suggested fixes) and the load history
 * (/package/history, its visibility and retention), against the real Worker,
 * queue consumer, S3 server and Postgres. Error types, row and field
 * numbers are compared with what frictionless says of the same files
 * (test/golden/frictionless, tools/golden/frictionless).
 */
import { describe, expect, it } from 'vitest';
import casesJson from '../golden/frictionless/cases.json?raw';
import integerPlaceholder from '../golden/frictionless/integer-placeholder.golden.json?raw';
import otherDateFormat from '../golden/frictionless/other-date-format.golden.json?raw';
import raggedAndRequired from '../golden/frictionless/ragged-and-required.golden.json?raw';
import specDates from '../golden/frictionless/spec-dates.golden.json?raw';
import thousands from '../golden/frictionless/thousands.golden.json?raw';
import type { HistoryEntry } from '../../src/jobs/history.ts';
import { stagingTableName } from '../../src/jobs/lifecycle.ts';
import { packageId } from '../../src/loader/naming.ts';
import type { LoadReport, Suggestion } from '../../src/loader/report.ts';
import type { LoaderMessage } from '../../src/queue/messages.ts';
import { call, newUserId, userToken } from '../helpers/app.ts';
import { deliver, drain, drivenEnv, jobsOf, publishFixture, query, startLoad, status, tablesLike, waitForEnd } from './helpers.ts';

interface Case {
  name: string;
  fixture: string;
  fields: Record<string, Record<string, unknown>>;
  csv: string[] | null;
}
interface GoldenError {
  type: string;
  rowNumber?: number;
  fieldName?: string;
  fieldNumber?: number;
  cell?: string;
  note?: string;
}
interface Golden {
  valid: boolean;
  stats: { rows: number; fields: number; errors: number };
  errors: GoldenError[];
}
/** What GET /package/report answers: the report of the load the status shows, with its status. */
type Report = LoadReport & { status: string };

const CASES = (JSON.parse(casesJson) as { cases: Case[] }).cases;
const GOLDEN: Record<string, Golden> = Object.fromEntries(
  Object.entries({
    'spec-dates': specDates,
    'integer-placeholder': integerPlaceholder,
    thousands,
    'other-date-format': otherDateFormat,
    'ragged-and-required': raggedAndRequired,
  }).map(([k, v]) => [k, JSON.parse(v) as Golden]),
);

/** GET /package/report: status and JSON body. */
async function report(key: string, jwt?: string): Promise<{ status: number; body: Report }> {
  const auth = jwt ? `&jwt=${encodeURIComponent(jwt)}` : '';
  const res = await call(`/package/report?datapackage=${encodeURIComponent(key)}${auth}`);
  return { status: res.status, body: (await res.json()) as Report };
}

async function history(id: string, jwt?: string): Promise<{ status: number; body: { id: string; loads: HistoryEntry[] } }> {
  const auth = jwt ? `&jwt=${encodeURIComponent(jwt)}` : '';
  const res = await call(`/package/history?id=${encodeURIComponent(id)}${auth}`);
  return { status: res.status, body: (await res.json()) as { id: string; loads: HistoryEntry[] } };
}

type Descriptor = Record<string, unknown>;
const resourceOf = (d: Descriptor) => (d.resources as Array<Record<string, unknown>>)[0] as Record<string, unknown>;
const schemaOf = (d: Descriptor) => resourceOf(d).schema as { fields: Array<Record<string, unknown>>; [k: string]: unknown };

/** The case's field changes, then `more` (e.g. a suggested fix). */
function editFor(c: Case, more: (d: Descriptor) => void = () => undefined): (d: Descriptor) => void {
  return (d) => {
    for (const f of schemaOf(d).fields) Object.assign(f, c.fields[String(f.name)] ?? {});
    more(d);
  };
}

const csvBytes = (lines: string[]) => new TextEncoder().encode(lines.join('\n') + '\n');

/** Applies a suggested fix to a descriptor. */
function applyFix(d: Descriptor, s: Suggestion): void {
  if (s.target === 'schema') Object.assign(schemaOf(d), s.change);
  else if (s.target === 'dialect') resourceOf(d).dialect = { ...(resourceOf(d).dialect as object), ...s.change };
  else Object.assign(schemaOf(d).fields.find((f) => f.name === s.field) as object, s.change);
}

const EXPECTED_FIXES: Record<string, Array<Partial<Suggestion>>> = {
  'spec-dates': [{ target: 'field', field: 'budget_date', change: { format: '%d/%m/%Y' } }],
  'integer-placeholder': [{ target: 'schema', change: { missingValues: ['', 'n/a'] } }],
  thousands: [{ target: 'field', field: 'amount', change: { groupChar: ',' } }],
  'other-date-format': [{ target: 'field', field: 'budget_date', change: { format: '%d/%m/%Y' } }],
  'ragged-and-required': [],
};

describe('the validation report of a load that meets bad data', () => {
  it.each(CASES.map((c) => [c.name, c] as const))(
    '%s: every error as frictionless reports it, the sentence counts them, nothing is written',
    async (name, c) => {
      const golden = GOLDEN[name] as Golden;
      const pub = await publishFixture(`fdp/${c.fixture}`, { edit: editFor(c), ...(c.csv ? { data: csvBytes(c.csv) } : {}) });
      const end = await waitForEnd(pub.url);
      expect(end.status).toBe('fail');

      const { status: code, body } = await report(pub.url);
      expect(code).toBe(200);
      expect(body).toMatchObject({ valid: false, status: 'fail', warnings: [] });
      expect(body.stats).toMatchObject({ rows: golden.stats.rows, fields: golden.stats.fields, errors: golden.stats.errors });
      const keys = ['type', 'rowNumber', 'fieldName', 'fieldNumber', 'cell', 'note'] as const;
      // Frictionless's note is compared where it is kept in the golden file (type and constraint errors).
      const noted = new Set(golden.errors.filter((g) => g.note !== undefined).map((g) => g.type));
      const seen = body.errors.map((e) => {
        const kept: Record<string, unknown> = {};
        for (const k of keys) if (e[k] !== undefined && (k !== 'note' || noted.has(e.type))) kept[k] = e[k];
        return kept;
      });
      expect(seen).toEqual(golden.errors);
      for (const e of body.errors) expect(e.title).toMatch(/^[A-Z][a-z]+ [A-Z][a-z]+$/);

      // One readable sentence: the first error's message, counting the rest.
      const [first, ...rest] = body.errors;
      const columns = new Set(body.errors.map((e) => e.fieldName).filter(Boolean)).size;
      expect(end.error).toBe(
        rest.length === 0
          ? first?.message
          : `${first?.message} (and ${rest.length} more error${rest.length === 1 ? '' : 's'} in ${columns} column${columns === 1 ? '' : 's'})`,
      );
      expect(body.suggestions).toMatchObject(EXPECTED_FIXES[name] as object[]);

      // Nothing went live: no table, no registry entry, no staging table left.
      expect(await tablesLike(`fdp__${pub.userid.slice(0, 16)}`)).toEqual([]);
      const [job] = await jobsOf(pub.url);
      expect(await tablesLike(stagingTableName(String(job?.job_id)))).toEqual([]);
      expect((await history(packageId(pub.userid, pub.name), await userToken(pub.userid))).body.loads).toMatchObject([
        { status: 'fail', live: false, latest: true, successful: false, error: end.error },
      ]);
    },
  );

  it.each(CASES.filter((c) => (EXPECTED_FIXES[c.name] ?? []).length > 0).map((c) => [c.name, c] as const))(
    '%s: the suggested fix, applied to the descriptor, makes the same data load',
    async (_name, c) => {
      const bad = await publishFixture(`fdp/${c.fixture}`, { edit: editFor(c), ...(c.csv ? { data: csvBytes(c.csv) } : {}) });
      await waitForEnd(bad.url);
      const { suggestions } = (await report(bad.url)).body;
      const fixed = await publishFixture(`fdp/${c.fixture}`, {
        edit: editFor(c, (d) => {
          for (const s of suggestions) applyFix(d, s);
        }),
        ...(c.csv ? { data: csvBytes(c.csv) } : {}),
      });
      const end = await waitForEnd(fixed.url);
      expect(end).toMatchObject({ status: 'done', progress: (c.csv?.length ?? 2) - 1 });
      const { body } = await report(fixed.url);
      expect(body).toMatchObject({ valid: true, status: 'done', errors: [], suggestions: [] });
      expect(body.stats.rows).toBe((c.csv?.length ?? 2) - 1);
    },
  );

  it('a header split at the wrong delimiter: missing labels and the dialect that fits', async () => {
    const lines = ['level1_id;level1_title;level2_id;level2_title;amount;budget_date', '09;Education;0901;Higher Education;10000;2015-01-01'];
    const declare = (d: Descriptor) => {
      resourceOf(d).dialect = { delimiter: ',' };
    };
    const pub = await publishFixture('fdp/spec-examples/labels-and-hierarchies', { edit: declare, data: csvBytes(lines) });
    const end = await waitForEnd(pub.url);
    expect(end.error).toMatch(/^the CSV has no column "level1_id", "level1_title"/);
    const { body } = await report(pub.url);
    expect(body.errors.map((e) => [e.type, e.fieldName, e.fieldNumber, e.rowNumber])).toEqual(
      ['level1_id', 'level1_title', 'level2_id', 'level2_title', 'amount', 'budget_date'].map((f, i) => ['missing-label', f, i + 1, 1]),
    );
    expect(body.suggestions).toEqual([expect.objectContaining({ target: 'dialect', change: { delimiter: ';' } })]);
    const fixed = await publishFixture('fdp/spec-examples/labels-and-hierarchies', {
      edit: (d) => applyFix(d, body.suggestions[0] as Suggestion),
      data: csvBytes(lines),
    });
    expect(await waitForEnd(fixed.url)).toMatchObject({ status: 'done', progress: 1 });
  });
});

/** A CSV of the labels-and-hierarchies schema: `rows` rows, `bad(i)` gives row i's amount when it is bad. */
function generated(rows: number, bad: (i: number) => string | null, width = 0): Uint8Array {
  const pad = 'x'.repeat(width);
  const lines = ['level1_id,level1_title,level2_id,level2_title,amount,budget_date'];
  for (let i = 1; i <= rows; i++) lines.push(`${i % 90},Title ${i}${pad},${i},Sub ${i},${bad(i) ?? String(i * 10)},2015-01-01`);
  return csvBytes(lines);
}

describe('a report bounded by OS_LOADER_MAX_ERRORS, across chunks and redeliveries', () => {
  it('stops at the cap: errors are collected exactly once over several chunk messages, the committed rows never go live', async () => {
    const sent: LoaderMessage[] = [];
    // Chunks of 500 rows, batches of 100: rows 1-299 are committed to staging before the first bad row.
    const e = drivenEnv(sent, { OS_LOADER_MAX_ERRORS: '25' });
    const bad = (i: number) => (i >= 300 && i % 40 === 0 ? 'n/a' : null);
    const pub = await startLoad(e, 'fdp/spec-examples/labels-and-hierarchies', { data: generated(3000, bad) });
    let deliveries = 0;
    for (let m = sent.shift(); m; m = sent.shift()) {
      // Every message twice: the duplicate resumes from the saved validation (or finds the job ended).
      expect((await deliver(e, m)).retryMessages).toEqual([]);
      expect((await deliver(e, m)).retryMessages).toEqual([]);
      deliveries++;
      if (deliveries > 50) throw new Error('too many messages');
    }
    expect(deliveries).toBeGreaterThan(2);
    const { body } = await report(pub.url);
    expect(body.stats.errors).toBe(25);
    expect(body.warnings).toEqual(['reached error limit: 25']);
    const expectedRows = Array.from({ length: 25 }, (_, k) => 320 + 40 * k);
    expect(body.errors.map((x) => x.dataRow)).toEqual(expectedRows);
    // Reading stopped at the 25th error's row, well before the end of the file.
    expect(body.stats.rows).toBe(expectedRows[24]);
    expect((await status(pub.url))?.error).toBe(
      `row 320, column "amount": "n/a" is not a number (and at least 24 more errors in 1 column; the report stops at 25 errors)`,
    );
    expect(await tablesLike(`fdp__${pub.userid.slice(0, 16)}`)).toEqual([]);
  });

  it('a large file with long bad values: the report stays small (values truncated, errors capped) and reading goes on to the end', async () => {
    const sent: LoaderMessage[] = [];
    const e = drivenEnv(sent, { OS_LOADER_CHUNK_ROWS: '100000', OS_LOADER_BATCH_ROWS: '5000' });
    // 60,000 rows (~18 MB); one bad amount of 2,000 characters every 100 rows, the first at row 100.
    const long = 'n'.repeat(2000);
    const data = generated(60_000, (i) => (i % 100 === 0 ? long : null), 200);
    expect(data.byteLength).toBeGreaterThan(15_000_000);
    const pub = await startLoad(e, 'fdp/spec-examples/labels-and-hierarchies', { data });
    await drain(e, sent);
    const { body } = await report(pub.url);
    expect(body.stats).toMatchObject({ rows: 60_000, errors: 600, bytes: data.byteLength });
    expect(body.warnings).toEqual([]);
    for (const err of body.errors) expect(err.cell?.length).toBeLessThanOrEqual(101);
    const [job] = await jobsOf(pub.url);
    const [size] = await query<{ bytes: number }>('SELECT pg_column_size(report) AS bytes FROM load_jobs WHERE job_id = $1', [job?.job_id]);
    // 600 errors with 100-character values: a few hundred bytes each, whatever the file's size.
    expect(Number(size?.bytes)).toBeLessThan(600 * 600);
  });
});

describe('/package/report and /package/history visibility', () => {
  it('both endpoints are in the OpenAPI document with their parameters', async () => {
    const doc = (await (await call('/openapi.json')).json()) as {
      paths: Record<string, Record<string, { parameters?: { name: string }[]; responses?: Record<string, unknown> }>>;
    };
    const names = (path: string) => (doc.paths[path]?.get?.parameters ?? []).map((p) => p.name).sort();
    expect(names('/package/report')).toEqual(['callback', 'datapackage', 'jwt']);
    expect(names('/package/history')).toEqual(['callback', 'id', 'jwt']);
    for (const path of ['/package/report', '/package/history']) {
      expect(Object.keys(doc.paths[path]?.get?.responses ?? {})).toEqual(expect.arrayContaining(['200', '400', '404']));
    }
  });

  it('answers 400 without datapackage or id, and 404 for unknown keys', async () => {
    expect((await call('/package/report')).status).toBe(400);
    expect((await call('/package/history')).status).toBe(400);
    const r = await report('https://nowhere.example/x/datapackage.json');
    expect(r.status).toBe(404);
    expect(r.body).toEqual({ error: expect.any(String) });
    expect((await history(`${newUserId()}:nothing`)).status).toBe(404);
  });

  it('history: the owner sees every load with errors and reports; others only once published, without them', async () => {
    const first = await publishFixture('fdp/spec-examples/labels-and-hierarchies', {
      edit: (d) => Object.assign(schemaOf(d).fields[5] as object, { format: '%d/%m/%Y' }),
    });
    expect(await waitForEnd(first.url)).toMatchObject({ status: 'done' });
    const id = packageId(first.userid, first.name);
    const bad = await publishFixture('fdp/spec-examples/labels-and-hierarchies', { userid: first.userid });
    expect(await waitForEnd(bad.url)).toMatchObject({ status: 'fail' });

    const owner = await userToken(first.userid);
    const mine = await history(id, owner);
    expect(mine.status).toBe(200);
    expect(mine.body.id).toBe(id);
    const [latest, done] = mine.body.loads;
    expect(mine.body.loads).toHaveLength(2);
    expect(latest).toMatchObject({ status: 'fail', latest: true, successful: false, live: false, rows: 1 });
    expect(latest?.error).toMatch(/^row 1, column "budget_date": "01\/01\/2015"/);
    expect(latest?.report).toMatchObject({ valid: false, stats: { errors: 1 }, errors: [{ type: 'type-error', rowNumber: 2 }] });
    expect(done).toMatchObject({ status: 'done', latest: false, successful: true, live: true, rows: 1 });
    expect(done?.error).toBeUndefined();
    expect(done?.report).toMatchObject({ valid: true, errors: [] });
    expect(done?.descriptorHash).toMatch(/^[0-9a-f]{64}$/);
    expect(done?.dataHash).toEqual(expect.any(String));
    expect(Date.parse(String(done?.finished))).toBeGreaterThanOrEqual(Date.parse(String(done?.started)));
    expect(Date.parse(String(latest?.started))).toBeGreaterThan(Date.parse(String(done?.started)));
    // By package id the report is that of the load the id's status shows (the same upload URL: the newest), to its owner only.
    expect((await report(id, owner)).body).toMatchObject({ valid: false, status: 'fail' });

    // Private: anyone else (anonymous or another user) gets 404.
    expect((await history(id)).status).toBe(404);
    expect((await history(id, await userToken(newUserId()))).status).toBe(404);
    expect((await report(id)).status).toBe(404);

    // Publishing takes the owner's permission token.
    const published = await call(`/package/publish?jwt=${encodeURIComponent(first.token)}&id=${encodeURIComponent(id)}&publish=true`, { method: 'POST' });
    expect(await published.json()).toEqual({ success: true, published: true });
    const theirs = await history(id, await userToken(newUserId()));
    expect(theirs.status).toBe(200);
    expect(theirs.body.loads).toHaveLength(2);
    for (const load of theirs.body.loads) {
      expect(load.error).toBeUndefined();
      expect(load.report).toBeUndefined();
    }
    expect(theirs.body.loads.map((l) => [l.status, l.latest, l.successful])).toEqual([
      ['fail', true, false],
      ['done', false, true],
    ]);
    expect((await history(id)).body.loads).toEqual(theirs.body.loads);
  });

  it('retention: OS_LOADER_HISTORY_KEEP loads are kept per package, always with the live one', async () => {
    const sent: LoaderMessage[] = [];
    const e = drivenEnv(sent, { OS_LOADER_HISTORY_KEEP: '3' });
    const good = (d: Descriptor) => Object.assign(schemaOf(d).fields[5] as object, { format: '%d/%m/%Y' });
    const live = await startLoad(e, 'fdp/spec-examples/labels-and-hierarchies', { edit: good });
    await drain(e, sent);
    const id = packageId(live.userid, live.name);
    for (let n = 0; n < 4; n++) {
      // Each failing load has its own data, so none is an unchanged re-upload.
      await startLoad(e, 'fdp/spec-examples/labels-and-hierarchies', {
        userid: live.userid,
        data: generated(2 + n, (i) => (i === 1 ? 'bad' : null)),
      });
      await drain(e, sent);
    }
    const rows = await query<{ state: string }>('SELECT state FROM load_jobs WHERE package_id = $1 ORDER BY created_at DESC', [id]);
    expect(rows.map((r) => r.state)).toEqual(['fail', 'fail', 'done']);
    const { body } = await history(id, await userToken(live.userid));
    expect(body.loads.map((l) => [l.status, l.rows, l.successful])).toEqual([
      ['fail', 5, false],
      ['fail', 4, false],
      ['done', 1, true],
    ]);
  });
});
