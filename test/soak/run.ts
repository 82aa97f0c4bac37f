/**
 * One soak schedule, start to end: the package's previous version (loaded
 * fault-free), the faulted upload through the real POST /package/upload
 * route, the queue driven to empty with the schedule's faults, then the
 * invariants. Returns the broken invariants (empty when all hold).
 */
import type { Client } from '@neondatabase/serverless';
import { env } from 'cloudflare:workers';
import { withDb } from '../../src/db/client.ts';
import { statusStub } from '../../src/durable/status-client.ts';
import { factTableName, packageId } from '../../src/loader/naming.ts';
import { stagingTableName } from '../../src/jobs/lifecycle.ts';
import { packageAliasKey } from '../../src/durable/status-keys.ts';
import { getPackage, type RegistryDocument } from '../../src/registry/registry.ts';
import { getConfig } from '../../src/config.ts';
import { indexWriterFor, syncIndex } from '../../src/registry/index-sync.ts';
import { getDocument, target as esTarget } from '../../src/search/elasticsearch/index.ts';
import { fixture } from '../datastore/helpers.ts';
import { callWith, config, newUserId, permissionToken } from '../helpers/app.ts';
import { putFiles } from '../loader/helpers.ts';
import { DELIVERY_DEADLINE_MS, FaultCounters, SOAK_INDEX, QueueDriver, setProxyFaults, soakEnvs, uploadWith } from './harness.ts';
import { generatedCsv, prng, scheduleFor, type DataKind, type Schedule } from './schedule.ts';

/** The invariants every schedule must keep. */
export const INVARIANTS = {
  terminal: 'exactly one terminal status per job (load_jobs and the status object agree)',
  data: 'live data equal to the CSV of the last committed load, or the previous version untouched',
  staging: 'no staging table left behind',
  agreement: 'registry, search index (when OpenSearch runs), package-id alias and status agreeing',
  outcome: 'harmless faults never fail or supersede a job; an empty file fails; the newest upload wins',
  liveness: 'every delivery ends within the deadline (no call without a timeout)',
} as const;

export type Invariant = keyof typeof INVARIANTS;

export interface Broken {
  invariant: Invariant;
  detail: string;
}

export interface ScheduleResult {
  seed: number;
  broken: Broken[];
  fired: string[];
  deliveries: number;
  ms: number;
  /** Milliseconds spent loading the previous version, under faults, checking. */
  phases: Record<string, number>;
}

/** An upload the schedule made, in order. */
interface Upload {
  key: string;
  data: DataKind;
  /** Expected (date, money) per row for generated data; null for the real fixture. */
  values: Array<[string, string]> | null;
  rows: number;
  preload: boolean;
}

interface JobRow {
  job_id: string;
  status_key: string;
  state: string;
  error: string | null;
}

/** The connection the checks share (one per schedule), else a fresh one per query. */
let shared: Pick<Client, 'query'> | null = null;

async function query<T>(sql: string, params: unknown[] = []): Promise<T[]> {
  if (shared) return (await shared.query(sql, params)).rows as T[];
  return withDb(config(), async (db) => (await db.query(sql, params)).rows as T[]);
}

async function tableExists(table: string): Promise<boolean> {
  const rows = await query<{ present: boolean }>('SELECT to_regclass($1) IS NOT NULL AS present', [`"${table}"`]);
  return rows[0]?.present === true;
}

/** Every value of a table as text, in row order, hashed. */
async function dump(table: string): Promise<string | null> {
  if (!(await tableExists(table))) return null;
  const [row] = await query<{ d: string | null; n: string }>(
    `SELECT count(*) AS n, md5(string_agg(t::text, chr(10) ORDER BY _id)) AS d FROM "${table}" t`,
  );
  return `${row?.n}:${row?.d ?? ''}`;
}

/** Rows of the live table that differ from the expected values (by row number), and its row count. */
async function compareGenerated(table: string, values: Array<[string, string]>): Promise<{ bad: number; n: number }> {
  const [row] = await query<{ bad: string; n: string }>(
    `WITH e AS (SELECT * FROM unnest($1::int[], $2::date[], $3::numeric[]) AS e(id, d, m))
     SELECT count(*) FILTER (WHERE t._id IS NULL OR e.id IS NULL OR t.date IS DISTINCT FROM e.d
                             OR t.money::numeric IS DISTINCT FROM e.m) AS bad,
            count(t._id) AS n
     FROM "${table}" t FULL JOIN e ON t._id = e.id`,
    [values.map((_, i) => i + 1), values.map((v) => v[0]), values.map((v) => v[1])],
  );
  return { bad: Number(row?.bad), n: Number(row?.n) };
}

const encoder = new TextEncoder();

/** JSON with sorted keys, to compare documents whatever their key order. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : 1)))
      : v,
  );
}

/** The real fixture's descriptor and data, fetched once. */
let ukCra: { descriptor: string; data: Uint8Array; rows: number } | null = null;
/** The real fixture's table as a clean load writes it (dump), computed once. */
let ukCraReference: string | null = null;
let generatedDescriptor: string | null = null;

async function ukCraFixture() {
  if (!ukCra) {
    const data = await fixture('fdp/uk-cra/dataset.csv');
    ukCra = { descriptor: new TextDecoder().decode(await fixture('fdp/uk-cra/datapackage.json')), data, rows: 2000 };
  }
  return ukCra;
}

/** The package's descriptor for `userid` and its data file's path. */
async function descriptorFor(s: Schedule, userid: string): Promise<{ json: string; path: string; name: string }> {
  let d: Record<string, unknown>;
  if (s.fixture === 'uk-cra') {
    d = JSON.parse((await ukCraFixture()).descriptor) as Record<string, unknown>;
  } else {
    generatedDescriptor ??= new TextDecoder().decode(await fixture('fdp/packager-example/datapackage.json'));
    d = JSON.parse(generatedDescriptor) as Record<string, unknown>;
    d.name = 'soak-generated';
    const resource = (d.resources as Array<Record<string, unknown>>)[0] as Record<string, unknown>;
    delete resource.url;
    resource.path = 'data.csv';
  }
  d.owner = userid;
  d.author = 'Soak Tester <soak@example.com>';
  const resource = (d.resources as Array<Record<string, unknown>>)[0] as Record<string, unknown>;
  return { json: JSON.stringify(d), path: String(resource.path), name: String(d.name) };
}

/** The bytes of an upload's data file, and what a correct load of it holds. */
async function dataFor(s: Schedule, kind: DataKind, variant: number): Promise<{ bytes: Uint8Array; values: Upload['values']; rows: number }> {
  if (kind === 'zero-bytes') return { bytes: new Uint8Array(0), values: [], rows: 0 };
  if (s.fixture === 'uk-cra') {
    const f = await ukCraFixture();
    if (kind === 'header-only') {
      const text = new TextDecoder().decode(f.data);
      return { bytes: encoder.encode(text.slice(0, text.indexOf('\n') + 1)), values: [], rows: 0 };
    }
    if (kind === 'new-csv' || variant === 0) {
      // The preload (and a "new" version): the first 300 rows, a file the real one replaces.
      const text = new TextDecoder().decode(f.data);
      let at = 0;
      for (let i = 0; i <= 300; i++) at = text.indexOf('\n', at) + 1;
      return { bytes: encoder.encode(text.slice(0, at)), values: null, rows: 300 };
    }
    return { bytes: f.data, values: null, rows: f.rows };
  }
  if (kind === 'header-only') return { bytes: encoder.encode('date,money,id,name\n'), values: [], rows: 0 };
  const rows = variant === 0 ? 120 : s.rows;
  const csv = generatedCsv(s.seed, kind === 'new-csv' ? variant + 10 : variant, rows);
  return { bytes: encoder.encode(csv.text), values: csv.values, rows };
}

/** Why the live table (its dump) is not a correct load of `u`'s CSV, or null when it is. */
async function differs(u: Upload, live: string): Promise<string | null> {
  const target = liveTable;
  if (u.values) {
    const { bad, n } = await compareGenerated(target, u.values);
    return bad > 0 || n !== u.rows ? `${n} rows live, ${u.rows} in ${u.key.split('/').pop()} (${u.data}), ${bad} rows differ` : null;
  }
  if (u.rows === 2000) {
    ukCraReference ??= await referenceDump();
    return live === ukCraReference ? null : `live ${live} != clean load ${ukCraReference}`;
  }
  return live.startsWith(`${u.rows}:`) ? null : `live ${live}, expected ${u.rows} rows`;
}

/** The live table of the schedule being checked. */
let liveTable = '';

/** Runs schedule `s`; the invariants it broke. */
export async function runSchedule(s: Schedule): Promise<ScheduleResult> {
  const started = Date.now();
  const phases: Record<string, number> = {};
  const broken: Broken[] = [];
  const fail = (invariant: Invariant, detail: string) => broken.push({ invariant, detail });

  const userid = newUserId();
  const token = await permissionToken(userid);
  const counters = new FaultCounters(s);
  const driver = new QueueDriver(prng(s.seed ^ 0x5eed), () => counters.lastCall);
  const envs = soakEnvs(s, driver, counters);
  const desc = await descriptorFor(s, userid);
  const id = packageId(userid, desc.name);
  const target = factTableName(userid, desc.name);
  liveTable = target;
  const uploads: Upload[] = [];

  const put = async (kind: DataKind, variant: number): Promise<{ key: string; upload: Omit<Upload, 'key' | 'preload'> }> => {
    const data = await dataFor(s, kind, variant);
    const files = { [desc.path]: data.bytes, 'datapackage.json': encoder.encode(desc.json) };
    const urls = await putFiles(userid, token, desc.name, files, {}, (path, init) => callWith(envs.upload, path, init));
    return { key: urls['datapackage.json'] as string, upload: { data: kind, values: data.values, rows: data.rows } };
  };
  const start = async (key: string, upload: Omit<Upload, 'key' | 'preload'>, preload: boolean) => {
    const answer = await uploadWith(envs.upload, key, token);
    if (answer.status !== 'queued') throw new Error(`upload refused: ${JSON.stringify(answer)}`);
    uploads.push({ key, ...upload, preload });
  };

  // The previous version, loaded without faults.
  await setProxyFaults(null);
  const clean = new FaultCounters({ ...s, doFaults: [], sendFaults: [], deliveries: [] });
  const cleanEnv = soakEnvs(s, driver, clean).consumer;
  if (s.preload) {
    const first = await put('csv', 0);
    await start(first.key, first.upload, true);
    await driver.run(cleanEnv, { ...s, deliveries: [] }, async () => undefined);
  }
  phases.preload = Date.now() - started;
  const before = { table: await dump(target), doc: await withDb(config(), (db) => getPackage(db, id)) };
  if (s.preload && before.table === null) throw new Error('harness: the previous version did not load');
  driver.log.deliveries = 0;

  // The faulted upload.
  const main = await put(s.data, 1);
  await setProxyFaults(s);
  await start(main.key, main.upload, false);
  await driver.run(envs.consumer, s, async (n) => {
    if (s.concurrent && n === s.concurrent.atDelivery) {
      // 'csv': the same bytes again; 'new-csv': another version.
      const again = await put(s.concurrent.data, 1);
      const key = s.concurrent.spelling === 'query' ? `${again.key}?upload=2` : again.key;
      await start(key, again.upload, false);
    }
  });
  if (s.duplicateLast) {
    driver.repeatLast();
    await driver.run(envs.consumer, { ...s, deliveries: [] }, async () => undefined);
  }
  const firedAtProxies = await setProxyFaults(null);
  phases.load = Date.now() - started - phases.preload;
  for (const h of driver.log.hung) {
    fail('liveness', `delivery ${h.delivery} still running after ${DELIVERY_DEADLINE_MS} ms (last status call: ${h.lastCall || 'none'})`);
  }
  if (driver.log.stuck) fail('terminal', `queue still had messages after ${driver.log.deliveries} deliveries`);

  await withDb(config(), async (db) => {
    shared = db;
    try {
      await check();
    } finally {
      shared = null;
    }
  });
  phases.checks = Date.now() - started - phases.preload - (phases.load ?? 0);
  const fired = [...counters.fired];
  if (firedAtProxies > 0) fired.push(`${firedAtProxies} proxy fault(s)`);
  return { seed: s.seed, broken, fired, deliveries: driver.log.deliveries, ms: Date.now() - started, phases };

  async function check(): Promise<void> {
  const jobs = await query<JobRow>(
    'SELECT job_id, status_key, state, error FROM load_jobs WHERE userid = $1 ORDER BY created_at, job_id',
    [userid],
  );
  if (jobs.length !== uploads.length) fail('terminal', `${uploads.length} uploads made ${jobs.length} jobs`);
  const byJob = new Map(jobs.map((j, i) => [j.job_id, { job: j, upload: uploads[i] as Upload }]));

  // Terminal: every job ended, and each key's status object shows its newest job's end.
  for (const j of jobs) {
    if (!['done', 'fail', 'superseded'].includes(j.state)) fail('terminal', `job ${j.job_id} left ${j.state}`);
  }
  for (const dead of new Set(driver.log.deadLettered)) {
    const j = byJob.get(dead)?.job;
    if (j && j.state !== 'fail') fail('terminal', `job ${dead} dead-lettered but ${j.state}`);
  }
  for (const key of new Set(jobs.map((j) => j.status_key))) {
    const newest = jobs.filter((j) => j.status_key === key).at(-1) as JobRow;
    const view = await statusStub(env, key).read();
    if (!view) {
      fail('terminal', `no status for ${key}`);
      continue;
    }
    if (view.job !== newest.job_id) fail('terminal', `status of ${key} shows job ${view.job}, not its newest ${newest.job_id}`);
    const expected = newest.state === 'done' ? 'done' : newest.state === 'queued' || newest.state === 'loading' ? '(terminal)' : 'fail';
    if (view.status !== expected) {
      fail('terminal', `job ${newest.job_id}: load_jobs ${newest.state}, status ${view.status}${view.error ? ` (${view.error})` : ''}`);
    }
  }

  // Staging tables.
  for (const j of jobs) {
    if (await tableExists(stagingTableName(j.job_id))) fail('staging', `job ${j.job_id} (${j.state}) left ${stagingTableName(j.job_id)}`);
  }

  // Data: the last committed load's CSV, else the previous version.
  const done = await query<{ job_id: string; status_key: string }>(
    `SELECT job_id, status_key FROM load_jobs WHERE userid = $1 AND state = 'done' ORDER BY updated_at DESC, job_id LIMIT 1`,
    [userid],
  );
  const committed = done[0] ? byJob.get(done[0].job_id) : undefined;
  const live = await dump(target);
  if (!committed || committed.upload.preload) {
    if (live !== before.table) fail('data', `no new load committed, yet the live table changed (${before.table} -> ${live})`);
  } else if (live === null) {
    fail('data', `job ${committed.job.job_id} done but ${target} is missing`);
  } else {
    // A job reads the data file as it is when the job opens it: a later upload's PUT may have replaced it first.
    const candidates = uploads.slice(uploads.indexOf(committed.upload)).filter((u) => !u.preload);
    const mismatches: string[] = [];
    for (const u of candidates) {
      const problem = await differs(u, live);
      if (problem === null) {
        mismatches.length = 0;
        break;
      }
      mismatches.push(problem);
    }
    if (mismatches.length > 0) fail('data', `job ${committed.job.job_id} committed; live table matches no upload it could have read: ${mismatches.join('; ')}`);
  }

  // Agreement: registry entry, package-id alias and status.
  const doc: RegistryDocument | null = await getPackage(shared as Client, id);
  if (!committed) {
    if (JSON.stringify(doc) !== JSON.stringify(before.doc)) fail('agreement', 'no load committed, yet the registry entry changed');
  } else {
    if (!doc) fail('agreement', `job ${committed.job.job_id} done but no registry entry`);
    else {
      if (doc.origin_url !== committed.job.status_key) {
        fail('agreement', `registry origin_url ${doc.origin_url}, committed job's key ${committed.job.status_key}`);
      }
      if (doc.loaded !== true) fail('agreement', 'registry entry not loaded');
      if ((doc.model as { fact_table?: string } | null)?.fact_table !== target) fail('agreement', `registry model's fact_table is not ${target}`);
    }
    const alias = await statusStub(env, packageAliasKey(id)).aliasTarget();
    if (alias !== committed.job.status_key) {
      fail('agreement', `package-id alias points to ${alias}, the committed job's key is ${committed.job.status_key}`);
    }
  }
  if (!doc && live !== null) fail('agreement', `live table ${target} without a registry entry`);
  if (env.OS_TEST_ELASTICSEARCH_URL) {
    // What the cron does for a mirror left queued (a dropped connection can leave one), then the same document.
    await syncIndex(shared as Client, indexWriterFor(getConfig(envs.consumer)), { ids: [id] });
    const indexed = await getDocument(esTarget(env.OS_TEST_ELASTICSEARCH_URL, SOAK_INDEX), id);
    if (canonical(indexed) !== canonical(doc)) {
      fail('agreement', `search index ${indexed ? `last_update ${indexed.last_update}, private ${String(indexed.package?.private)}` : 'has no document'}; registry ${doc ? `last_update ${doc.last_update}, private ${String(doc.package?.private)}` : 'has none'}`);
    }
  }

  // Outcome.
  const faulted = jobs.filter((j) => !byJob.get(j.job_id)?.upload.preload);
  const newestJob = faulted.at(-1);
  faulted.forEach((j, i) => {
    const upload = byJob.get(j.job_id)?.upload as Upload;
    const newest = i === faulted.length - 1;
    const empty = upload.rows === 0;
    if (!newest && j.state === 'fail' && !(empty && /no data rows/.test(j.error ?? ''))) {
      fail('outcome', `job ${j.job_id} failed instead of being superseded by the newer upload: ${j.error}`);
    } else if (!newest) {
      // Done before the newer upload started, or superseded by it: both fine.
    } else if (empty) {
      if (j.state !== 'fail') fail('outcome', `job ${j.job_id} of an empty file ended ${j.state}`);
      else if (!/no data rows/.test(j.error ?? '')) fail('outcome', `job ${j.job_id} of an empty file failed with "${j.error}"`);
    } else if (j.state === 'superseded') {
      fail('outcome', `job ${j.job_id} superseded, no newer upload`);
    } else if (j.state !== 'done') {
      fail('outcome', `newest job ${j.job_id} ended ${j.state}${j.error ? `: ${j.error}` : ''}`);
    }
  });
  if (newestJob?.state === 'done' && committed && committed.job.job_id !== newestJob.job_id) {
    fail('outcome', `older job ${committed.job.job_id} committed after the newest upload's job ${newestJob.job_id}`);
  }
  }
}

/** The uk-cra table of a clean, fault-free load (another user), as a dump. */
async function referenceDump(): Promise<string | null> {
  const clean: Schedule = {
    ...scheduleFor(1),
    fixture: 'uk-cra',
    chunkRows: 700,
    preload: false,
    data: 'csv',
    concurrent: null,
    deliveries: [],
    duplicateLast: false,
    dbDrops: [],
    s3Faults: [],
    doFaults: [],
    sendFaults: [],
  };
  const userid = newUserId();
  const token = await permissionToken(userid);
  const driver = new QueueDriver(prng(1));
  const envs = soakEnvs(clean, driver, new FaultCounters(clean));
  const desc = await descriptorFor(clean, userid);
  const files = { [desc.path]: (await ukCraFixture()).data, 'datapackage.json': encoder.encode(desc.json) };
  const urls = await putFiles(userid, token, desc.name, files, {}, (path, init) => callWith(envs.upload, path, init));
  await uploadWith(envs.upload, urls['datapackage.json'] as string, token);
  await driver.run(envs.consumer, clean, async () => undefined);
  return dump(factTableName(userid, desc.name));
}
