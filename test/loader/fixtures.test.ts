/**
 * Every fixture package loads (or fails) as ../shared/fixtures/README.md
 * says, through the client flow: /datastore/ authorize -> PUT to the real S3
 * server -> /package/upload -> the queue consumer -> /package/status.
 * Loaded data is compared with the CSV: row count, row numbers, every text
 * column value for value, and the sums of numeric columns (times the
 * measure factor, which the original applied to the data).
 */
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { getConfig } from '../../src/config.ts';
import { withDb } from '../../src/db/client.ts';
import type { LoaderMessage } from '../../src/queue/messages.ts';
import { acceptUpload } from '../../src/jobs/accept.ts';
import { stagingTableName } from '../../src/jobs/lifecycle.ts';
import { columnNames, factTableName, packageId } from '../../src/loader/naming.ts';
import { getPackage } from '../../src/registry/registry.ts';
import { call, config, permissionToken, userToken } from '../helpers/app.ts';
import { fixture } from '../datastore/helpers.ts';
import {
  drain,
  drivenEnv,
  fixtureJson,
  jobsOf,
  parseCsvText,
  publishFixture,
  query,
  status,
  tablesLike,
  waitForEnd,
  type StatusBody,
} from './helpers.ts';

interface FieldInfo {
  name: string;
  type?: string;
  osType?: string;
}

/** Expected values of the loaded table, computed from the CSV text. */
async function expectLoadedLike(
  table: string,
  descriptor: Record<string, unknown>,
  csvPath: string,
  rows: number,
): Promise<void> {
  const resource = (descriptor.resources as Array<Record<string, unknown>>)[0] as Record<string, unknown>;
  const fields = (resource.schema as { fields: FieldInfo[] }).fields;
  const columns = columnNames(fields.map((f) => f.name));
  const csv = parseCsvText(new TextDecoder().decode(await fixture(csvPath))).filter(
    (r) => !(r.length === 1 && r[0] === ''),
  );
  const header = csv[0] as string[];
  const data = csv.slice(1);
  expect(data).toHaveLength(rows);

  const [stats] = await query<{ n: string; lo: string; hi: string; distinct_ids: string }>(
    `SELECT count(*) AS n, min(_id) AS lo, max(_id) AS hi, count(DISTINCT _id) AS distinct_ids FROM "${table}"`,
  );
  expect(stats).toEqual({ n: String(rows), lo: String(1), hi: String(rows), distinct_ids: String(rows) });

  // FDP 0.3-alpha descriptors call the model `mapping`.
  const model = (descriptor.model ?? descriptor.mapping) as {
    measures: Record<string, { source: string; factor?: number }>;
  };
  for (const [i, field] of fields.entries()) {
    const column = columns[i] as string;
    const at = header.indexOf(field.name);
    const values = data.map((r) => r[at] ?? '');
    const type = field.type ?? 'string';
    if (type === 'string' && !field.osType?.endsWith(':code:part')) {
      const [got] = await query<{ v: string }>(
        `SELECT string_agg(coalesce("${column}", '<null>'), chr(31) ORDER BY _id) AS v FROM "${table}"`,
      );
      expect(got?.v, `column ${column}`).toBe(values.map((v) => (v === '' ? '<null>' : v)).join('\u001f'));
    }
    if (type === 'number' || type === 'integer') {
      const factor = Object.values(model.measures).find((m) => m.source === field.name)?.factor ?? 1;
      const expected = values.reduce((s, v) => s + (v === '' ? 0 : Number(v)), 0) * factor;
      const [got] = await query<{ s: string | null }>(`SELECT sum("${column}")::text AS s FROM "${table}"`);
      expect(Number(got?.s ?? 0), `sum of ${column}`).toBeCloseTo(expected, 2);
    }
  }
}

const LOADS: Array<[string, string, number]> = [
  ['boost-moldova', 'data/boost-moldova-2014.csv', 2000],
  ['uk-cra', 'dataset.csv', 2000],
  ['packager-example', 'example-resource.csv', 9],
  ['demos/al-treasury-spending', 'data/treasury.csv', 40],
  ['demos/eu-allocations-per-ms-2014-2020', 'data/Total_EU_Allocations_per_MS_for_2014-2020.csv', 252],
];

describe('fixture packages that load', () => {
  it.each(LOADS)('%s loads completely and exactly', async (dir, csv, rows) => {
    const seen: StatusBody[] = [];
    const pub = await publishFixture(`fdp/${dir}`);
    const end = await waitForEnd(pub.url, seen);
    expect(end, JSON.stringify(end)).toMatchObject({ status: 'done', progress: rows, total: rows, fraction: 1 });
    expect(Object.keys(end.steps ?? {})).toEqual(
      expect.arrayContaining(['queued', 'initializing', 'loading-datapackage', 'validating-datapackage', 'creating-table', 'loading-data', 'saving-metadata']),
    );
    // progress never goes down
    const progress = seen.map((s) => s.progress);
    expect([...progress].sort((a, b) => a - b)).toEqual(progress);

    const table = factTableName(pub.userid, pub.name);
    await expectLoadedLike(table, pub.descriptor, `fdp/${dir}/${csv}`, rows);

    const id = packageId(pub.userid, pub.name);
    const doc = await withDb(config(), (db) => getPackage(db, id));
    expect(doc).toMatchObject({
      id,
      origin_url: pub.url,
      loaded: true,
      dataset: pub.name,
      package: { owner: pub.userid, private: true },
      model: { fact_table: table },
    });
    // the author's address is hidden: `Name <local@not.shown>`
    const author = String(pub.descriptor.author);
    const local = /<([^@>]*)@/.exec(author)?.[1] ?? '';
    expect((doc?.package as { author: string }).author).toBe(`${author.replace(/\s*<.*$/, '')} <${local}@not.shown>`);
    // the package id answers for the status too (to its owner: the package is private)
    expect(await status(id, await userToken(pub.userid))).toMatchObject({ status: 'done', progress: rows });
    // no staging table left behind
    const [job] = await jobsOf(pub.url);
    expect(job).toMatchObject({ state: 'done', rows_loaded: String(rows) });
    expect(await tablesLike(stagingTableName(String(job?.job_id)))).toEqual([]);
  });
});

const FAILS: Array<[string, RegExp]> = [
  // its CSV header (pk, budget, budget_date) does not name the schema's fields
  ['spec-examples/minimal', /^the CSV has no column "expenditure", "year" of the schema/],
  ['spec-examples/labels-and-hierarchies', /^row 1, column "budget_date": "01\/01\/2015"/],
  ['demos/eu-funds-absorption-rate-2007-2013', /^row 1, column "Year": "2007"/],
  ['spec-examples/transform-needed', /^row 1, column "year": "2014"/],
  ['spec-examples/entities-denormalized', /^the CSV has no column/],
  // its model names fields of the second resource, which is not loaded
  ['spec-examples/entities-normalized', /^Invalid data package: measure "amount": source "budget" is not a field/],
];

describe('fixture packages that must fail', () => {
  it.each(FAILS)('%s fails with a row-precise error and writes nothing', async (dir, error) => {
    const pub = await publishFixture(`fdp/${dir}`);
    const end = await waitForEnd(pub.url);
    expect(end.status).toBe('fail');
    expect(end.error).toMatch(error);
    expect(await tablesLike(`fdp__${pub.userid.slice(0, 16)}`)).toEqual([]);
    const [job] = await jobsOf(pub.url);
    expect(job).toMatchObject({ state: 'fail' });
    expect(await tablesLike(stagingTableName(String(job?.job_id)))).toEqual([]);
    expect(await withDb(config(), (db) => getPackage(db, packageId(pub.userid, pub.name)))).toBeNull();
  });
});

describe('names and model as the original produced them', () => {
  it('boost-moldova, loaded as its own owner, gets the expected table, columns and babbage model key for key', async () => {
    const base = String(env.OS_TEST_FIXTURES_URL);
    const sent: LoaderMessage[] = [];
    // The fixtures server serves the descriptor unchanged (owner example@example.com).
    const e = drivenEnv(sent, { OS_UPLOAD_ALLOWED_ORIGINS: new URL(base).origin, OS_LOADER_CHUNK_ROWS: '100000' });
    const url = `${base}/fdp/boost-moldova/datapackage.json`;
    const owner = 'example@example.com';
    expect(await acceptUpload(e, getConfig(e), url, await permissionToken(owner))).toEqual({
      progress: 0,
      status: 'queued',
    });
    await drain(e, sent);
    expect(await status(url)).toMatchObject({ status: 'done', progress: 2000 });

    const expected = (await fixtureJson('expected/babbage-model-boost-moldova.json')) as {
      table: string;
      columns: string[];
      model: Record<string, unknown>;
    };
    const doc = await withDb(config(), (db) => getPackage(db, packageId(owner, 'boost-moldova')));
    expect(doc?.model).toEqual(expected.model);
    const cols = await query<{ column_name: string }>(
      `SELECT column_name FROM information_schema.columns WHERE table_name = $1 ORDER BY ordinal_position`,
      [expected.table],
    );
    expect(cols.map((c) => c.column_name)).toEqual(expected.columns);
    // the original's indexes, under the final table's name
    const indexes = await query<{ indexname: string }>(
      `SELECT indexname FROM pg_indexes WHERE tablename = $1 ORDER BY indexname`,
      [expected.table],
    );
    expect(indexes.map((i) => i.indexname)).toContain(`${expected.table}_pkey`);
    for (const i of indexes) expect(i.indexname.startsWith(expected.table)).toBe(true);
  });
});

describe('the client flow end to end', () => {
  it('authorize -> PUT -> upload -> poll: the package is then found by its owner in search, and only by its owner', async () => {
    const pub = await publishFixture('fdp/packager-example');
    const seen: StatusBody[] = [];
    expect(await waitForEnd(pub.url, seen)).toMatchObject({ status: 'done', progress: 9 });
    expect(seen[0]?.status).not.toBe('fail');
    const id = packageId(pub.userid, pub.name);
    const owned = await call(
      `/search/package?jwt=${encodeURIComponent(await userToken(pub.userid))}&package.owner=${encodeURIComponent(JSON.stringify(pub.userid))}`,
    );
    expect(owned.status).toBe(200);
    const hits = (await owned.json()) as Array<{ id: string; loaded: boolean; origin_url: string }>;
    expect(hits.map((h) => h.id)).toEqual([id]);
    expect(hits[0]).toMatchObject({ loaded: true, origin_url: pub.url });
    // new uploads are private: not in the anonymous catalogue
    const anonymous = await call(`/search/package?id=${encodeURIComponent(JSON.stringify(id))}`);
    expect(await anonymous.json()).toEqual([]);
  });
});
