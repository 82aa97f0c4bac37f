/**
 * Load benchmark (npm run bench:load -- [--rows N] [--runs K] [--live-heap]
 * [--profile] [--db-rtt MS,...] [--s3-rtt MS,...]): generates a fiscal data package of N rows x 12 columns, then
 * K times loads it through the service exactly as a client does (authorize
 * -> PUT to a local S3 server -> /package/upload -> poll /package/status
 * until done), with the Worker's deploy bundle in workerd (Miniflare: local
 * queue and Durable Objects), and loads the same CSV into the same Postgres
 * with `psql \copy`. Prints rows/s, MB/s, the ratio, CPU per process and the
 * isolate's heap (bench/README.md explains the figures).
 *
 * Everything runs on loopback: a throw-away Postgres, the WebSocket proxy the
 * Neon driver needs locally, and the S3-compatible server. `--db-rtt` and
 * `--s3-rtt` put a simulated distance between the Worker and Postgres (in the
 * WebSocket proxy) and the S3 server (a TCP delay proxy): lists of round trips
 * in ms, the i-th of each forming the i-th setting; each run loads once per
 * setting (alternating), and a table per setting follows the medians.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { connectNode } from '../tools/lib/db.ts';
import { cpuBetween, sampleCpu, workerdPeakKb, type CpuSample } from './lib/cpu.ts';
import { CSV_HEADER, csvRow, descriptor, FIELDS, prng } from './generate.ts';
import { Inspector, selfTimes, type CpuProfile } from './lib/inspector.ts';
import { startBenchStack, BENCH_API_KEY } from './lib/stack.ts';
import { apiTokens, putPackageFiles, requestLoad } from './lib/client.ts';
import { option, positiveArg } from './lib/args.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

function generateCsv(path: string, rows: number): number {
  const rnd = prng(42);
  const parts: string[] = [CSV_HEADER];
  let size = 0;
  const out: Buffer[] = [];
  for (let i = 0; i < rows; i++) {
    parts.push(csvRow(i, rnd));
    if (parts.length >= 10000) {
      const b = Buffer.from(parts.join(''));
      out.push(b);
      size += b.length;
      parts.length = 0;
    }
  }
  const b = Buffer.from(parts.join(''));
  out.push(b);
  size += b.length;
  writeFileSync(path, Buffer.concat(out));
  return size;
}

/**
 * Authorizes and PUTs the package as a client does; returns the descriptor's URL.
 * A function of its own so the 100+ MB file buffers are garbage before the load
 * is timed (this process also runs the S3 server and the WebSocket proxy).
 */
async function uploadPackage(base: string, token: string, owner: string, name: string, csvPath: string): Promise<string> {
  const urls = await putPackageFiles(base, token, owner, name, {
    'budget.csv': readFileSync(csvPath),
    'datapackage.json': Buffer.from(JSON.stringify(descriptor(owner, name))),
  });
  return urls['datapackage.json'] as string;
}

interface RunContext {
  base: string;
  token: string;
  owner: string;
  csvPath: string;
  rows: number;
  db: Awaited<ReturnType<typeof connectNode>>;
  pg: { url: string; dataDir: string };
  inspector: Inspector | null;
  rootPid: number;
  named: Record<string, number>;
  /** The Worker's logged waits for the database, summed since the load started. */
  waited: { ms: number };
}

interface ServiceResult {
  seconds: number;
  table: string;
  cpu: CpuSample;
  peakHeap: number;
  /** Peak of the live heap (after forced collections), when --live-heap. */
  peakLive: number;
  peakKb: number;
  /** Time the Worker's batch writer waited for the database (its chunks' logs). */
  waitedMs: number;
}

interface RunResult {
  service: ServiceResult;
  copy: { seconds: number; cpu: CpuSample };
}

/** A simulated distance: round trips (ms) to Postgres and to the S3 server. */
interface Setting {
  db: number;
  s3: number;
}

/** One load as a client does it: upload, /package/upload, poll /package/status until done. */
async function loadThroughService(ctx: RunContext, run: number, profiling: boolean): Promise<ServiceResult> {
  const { base, token, inspector, rows, db } = ctx;
  const dpUrl = await uploadPackage(base, token, ctx.owner, `bench-budget-${run}`, ctx.csvPath);
  if (profiling && inspector) {
    await inspector.send('Profiler.enable');
    await inspector.send('Profiler.setSamplingInterval', { interval: 200 });
    await inspector.send('Profiler.start');
  }
  let peakHeap = 0;
  let peakLive = 0;
  const live = process.argv.includes('--live-heap');
  let collecting = false;
  const heapTimer = setInterval(() => {
    inspector?.heapUsage().then(
      (h) => (peakHeap = Math.max(peakHeap, h.usedSize)),
      () => undefined,
    );
    if (live && inspector && !collecting) {
      collecting = true;
      inspector.liveHeap().then(
        (bytes) => {
          peakLive = Math.max(peakLive, bytes);
          collecting = false;
        },
        () => (collecting = false),
      );
    }
  }, live ? 250 : 100);
  try {
    console.log(`run ${run}: loading through the service …`);
    const cpu0 = sampleCpu(ctx.rootPid, ctx.pg.dataDir, ctx.named);
    ctx.waited.ms = 0;
    const t0 = performance.now();
    await requestLoad(base, dpUrl, token);
    let last: { status: string; progress: number; error?: string; steps?: unknown } = { status: 'queued', progress: 0 };
    let peakKb = 0;
    let lastChange = Date.now();
    let lastSeen = '';
    while (last.status !== 'done' && last.status !== 'fail') {
      // Polled often enough that the poll adds little to the time measured (on average half the interval).
      await new Promise((r) => setTimeout(r, 50));
      peakKb = Math.max(peakKb, workerdPeakKb(ctx.rootPid));
      const res = await fetch(`${base}/package/status?datapackage=${encodeURIComponent(dpUrl)}`);
      last = (await res.json()) as typeof last;
      const seen = `${last.status} ${last.progress}`;
      if (seen !== lastSeen) {
        lastSeen = seen;
        lastChange = Date.now();
        if (process.env.BENCH_VERBOSE) console.log(`  ${seen}`);
      } else if (Date.now() - lastChange > 600_000) {
        const activity = await db.client.query(
          `SELECT pid, state, wait_event_type, wait_event, left(query, 120) AS query FROM pg_stat_activity WHERE datname = current_database()`,
        );
        console.error(JSON.stringify(activity.rows, null, 1));
        throw new Error(`no progress for 10 minutes (${seen})`);
      }
    }
    const seconds = (performance.now() - t0) / 1000;
    const cpu = cpuBetween(cpu0, sampleCpu(ctx.rootPid, ctx.pg.dataDir, ctx.named));
    if (profiling && inspector) await printProfile(inspector);
    peakKb = Math.max(peakKb, workerdPeakKb(ctx.rootPid));
    if (last.status !== 'done') throw new Error(`load failed: ${last.error}`);
    if (process.env.BENCH_VERBOSE) console.log(`  time per status (ms): ${JSON.stringify(last.steps)}`);
    if (last.progress !== rows) throw new Error(`loaded ${last.progress} rows, expected ${rows}`);
    const table = (await db.client.query(`SELECT target_table FROM load_jobs WHERE status_key = $1`, [dpUrl])).rows[0]
      ?.target_table as string;
    const n = Number((await db.client.query(`SELECT count(*)::int AS n FROM "${table}"`)).rows[0]?.n);
    if (n !== rows) throw new Error(`table has ${n} rows`);
    return { seconds, table, cpu, peakHeap, peakLive, peakKb, waitedMs: ctx.waited.ms };
  } finally {
    clearInterval(heapTimer);
  }
}

/** The same CSV with `psql \\copy` into a table like the fact table (same columns, key and indexes). */
async function loadWithCopy(ctx: RunContext, run: number, fact: string): Promise<{ seconds: number; cpu: CpuSample }> {
  console.log(`run ${run}: loading the same CSV with psql \\copy …`);
  const table = `bench_copy_${run}`;
  await ctx.db.client.query(`CREATE TABLE ${table} (LIKE "${fact}" INCLUDING ALL)`);
  await ctx.db.client.query(`ALTER TABLE ${table} ALTER COLUMN _id ADD GENERATED ALWAYS AS IDENTITY`);
  const cols = FIELDS.map((f) => `"${f.name}"`).join(',');
  const cpu0 = sampleCpu(0, ctx.pg.dataDir, {});
  const t1 = performance.now();
  execFileSync(
    'psql',
    [ctx.pg.url, '-v', 'ON_ERROR_STOP=1', '-c', `\\copy ${table}(${cols}) FROM '${ctx.csvPath}' WITH (FORMAT csv, HEADER true)`],
    { stdio: ['ignore', 'ignore', 'inherit'] },
  );
  const seconds = (performance.now() - t1) / 1000;
  await new Promise((r) => setTimeout(r, 300)); // the postmaster reaps the backend (its CPU moves to cutime)
  const cpu = cpuBetween(cpu0, sampleCpu(0, ctx.pg.dataDir, {}));
  return { seconds, cpu };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

function report(results: RunResult[], info: { rows: number; bytes: number; csvPath: string }): void {
  const { rows, bytes } = info;
  const mb = bytes / 1e6;
  const line = (label: string, s: number) =>
    `${label.padEnd(30)} ${s.toFixed(1).padStart(7)} s ${Math.round(rows / s).toLocaleString('en').padStart(10)} rows/s ${(mb / s).toFixed(1).padStart(6)} MB/s`;
  const service = median(results.map((r) => r.service.seconds));
  const copy = median(results.map((r) => r.copy.seconds));
  const ratio = median(results.map((r) => r.copy.seconds / r.service.seconds));
  const cpu = (pick: (c: CpuSample) => number) => median(results.map((r) => pick(r.service.cpu))).toFixed(1);
  console.log('');
  console.log('Worker run by: Miniflare (workerd) with the deploy bundle');
  console.log(`rows: ${rows.toLocaleString('en')}, columns: ${FIELDS.length}, CSV ${mb.toFixed(1)} MB, ${statSync(info.csvPath).size} bytes`);
  console.log(`medians of ${results.length} run(s), each run: service load, then \\copy`);
  console.log(line('service (upload -> done)', service));
  console.log(line('psql \\copy', copy));
  console.log(`ratio service / \\copy: ${(ratio * 100).toFixed(0)}% (per run: ${results.map((r) => `${((r.copy.seconds / r.service.seconds) * 100).toFixed(0)}%`).join(', ')})`);
  const heap = Math.max(...results.map((r) => r.service.peakHeap));
  console.log(
    heap > 0
      ? `peak JS heap of the Worker isolate: ${(heap / 2 ** 20).toFixed(1)} MiB used (garbage not yet collected included; no limit is enforced locally)`
      : 'peak JS heap: not sampled (BENCH_NO_INSPECTOR)',
  );
  const liveHeap = Math.max(...results.map((r) => r.service.peakLive));
  if (liveHeap > 0) console.log(`peak live JS heap of the Worker isolate: ${(liveHeap / 2 ** 20).toFixed(1)} MiB (full collection every 250 ms)`);
  console.log(`peak RSS of workerd: ${(Math.max(...results.map((r) => r.service.peakKb)) / 1024).toFixed(0)} MB`);
  console.log(
    `CPU during the load: the Worker's workerd ${cpu((c) => c.workerd)} s, ` +
      `Postgres ${cpu((c) => c.postgres)} s, S3 server ${cpu((c) => c.named.s3 ?? 0)} s, WebSocket proxy ${cpu((c) => c.named.proxy ?? 0)} s, ` +
      `bench ${cpu((c) => c.bench)} s (wall ${service.toFixed(1)} s, ${availableParallelism()} cores)`,
  );
  console.log(`CPU during \\copy: Postgres ${median(results.map((r) => r.copy.cpu.postgres)).toFixed(1)} s (psql not counted)`);
}

/** Round trips from `--name 0,10,30` (ms, ≥ 0); `[0]` when not given. */
function rttList(name: string): number[] | null {
  const raw = option(name);
  if (raw === undefined) return null;
  const list = raw.split(',').map((v) => Number(v.trim()));
  if (list.length === 0 || list.some((v) => !Number.isFinite(v) || v < 0 || v > 10_000)) {
    throw new Error(`--${name} takes round trips in ms, e.g. 0,10,30`);
  }
  return list;
}

/** The settings: the i-th round trip of each list (a single value applies to all). */
function settingsFrom(db: number[] | null, s3: number[] | null): Setting[] {
  const n = Math.max(db?.length ?? 1, s3?.length ?? 1);
  for (const [name, list] of [['db-rtt', db], ['s3-rtt', s3]] as const) {
    if (list && list.length !== 1 && list.length !== n) throw new Error(`--${name}: give 1 or ${n} values`);
  }
  const at = (list: number[] | null, i: number) => (list ? (list.length === 1 ? (list[0] as number) : (list[i] as number)) : 0);
  return Array.from({ length: n }, (_, i) => ({ db: at(db, i), s3: at(s3, i) }));
}

function settingLabel(s: Setting): string {
  return `db ${s.db} ms, S3 ${s.s3} ms`;
}

/** One line per setting: medians of its runs, and its throughput against the first setting's. */
function rttTable(bySetting: Array<{ setting: Setting; results: RunResult[] }>, info: { rows: number; bytes: number }): void {
  const { rows, bytes } = info;
  const base = median((bySetting[0] as { results: RunResult[] }).results.map((r) => r.service.seconds));
  console.log('');
  console.log(`| round trip (db / S3) | service rows/s | service MB/s | \\copy rows/s | ratio (per run) | vs ${settingLabel((bySetting[0] as { setting: Setting }).setting)} | Worker CPU per row | waited for the db | CPU stolen (load) |`);
  console.log('|---|---|---|---|---|---|---|---|---|');
  for (const { setting, results } of bySetting) {
    const service = median(results.map((r) => r.service.seconds));
    const copy = median(results.map((r) => r.copy.seconds));
    const ratios = results.map((r) => r.copy.seconds / r.service.seconds);
    const cpuRow = median(results.map((r) => r.service.cpu.workerd)) / rows;
    const waited = median(results.map((r) => r.service.waitedMs)) / 1000;
    const steal = median(results.map((r) => r.service.cpu.steal));
    console.log(
      `| ${setting.db} / ${setting.s3} ms | ${Math.round(rows / service).toLocaleString('en')} (${service.toFixed(1)} s) | ${(bytes / 1e6 / service).toFixed(1)} | ` +
        `${Math.round(rows / copy).toLocaleString('en')} (${copy.toFixed(1)} s) | ${(median(ratios) * 100).toFixed(0)}% (${ratios.map((r) => (r * 100).toFixed(0)).join(', ')}) | ` +
        `${((base / service) * 100).toFixed(0)}% | ${(cpuRow * 1e6).toFixed(2)} µs | ${waited.toFixed(1)} s | ${steal.toFixed(1)} s |`,
    );
  }
}

/** Prints the Worker's CPU profile: self time by bundled module and by function. */
async function printProfile(inspector: Inspector): Promise<void> {
  const { profile } = await inspector.send<{ profile: CpuProfile }>('Profiler.stop');
  // Debugger.enable slows the isolate down: only now, for the sources.
  await inspector.send('Debugger.enable');
  mkdirSync(join(ROOT, '.cache'), { recursive: true });
  const file = join(ROOT, '.cache', `bench-load-${Date.now()}.cpuprofile`);
  writeFileSync(file, JSON.stringify(profile));
  console.log(`CPU profile of the Worker isolate: ${file}`);
  // Self time by bundled module (esbuild marks each module with a `// path` comment line).
  const times = selfTimes(profile);
  const sources = new Map<string, string[]>();
  for (const scriptId of new Set(times.map((f) => f.place.scriptId).filter((id) => id && id !== '0'))) {
    const { scriptSource } = await inspector.send<{ scriptSource: string }>('Debugger.getScriptSource', { scriptId });
    sources.set(scriptId, scriptSource.split('\n'));
  }
  const byModule = new Map<string, number>();
  for (const [scriptId, lines] of sources) {
    const starts: Array<[number, string]> = [];
    lines.forEach((line, i) => {
      const m = /^\/\/ ((?:src|node_modules)\/\S+)$/.exec(line);
      if (m) starts.push([i, (m[1] as string).replace(/^node_modules\/(@[^/]+\/[^/]+|[^/]+)\/.*$/, '$1')]);
    });
    for (const f of times) {
      if (f.place.scriptId !== scriptId) continue;
      let module = '(other)';
      for (const [line, name] of starts) if (line <= f.place.line) module = name;
      byModule.set(module, (byModule.get(module) ?? 0) + f.ms);
    }
  }
  for (const [module, ms] of [...byModule].sort((a, b) => b[1] - a[1]).slice(0, 20)) {
    console.log(`  ${ms.toFixed(0).padStart(7)} ms  ${module}`);
  }
  for (const f of times.slice(0, 30)) {
    const line = sources.get(f.place.scriptId)?.[f.place.line];
    const code = line ? line.slice(f.place.column, f.place.column + 90).trim() : '';
    console.log(`  ${f.ms.toFixed(0).padStart(7)} ms ${(f.share * 100).toFixed(1).padStart(5)}%  ${f.name}${code ? `  | ${code}` : ''}`);
  }
}

async function main(): Promise<void> {
  const rows = positiveArg('rows', 1_000_000);
  const runs = positiveArg('runs', 3);
  const s3Rtts = rttList('s3-rtt');
  const settings = settingsFrom(rttList('db-rtt'), s3Rtts);
  const work = mkdtempSync(join(tmpdir(), 'os-bench-'));
  const stops: Array<() => Promise<void> | void> = [() => rmSync(work, { recursive: true, force: true })];
  try {
    console.log(`generating ${rows} rows x ${FIELDS.length} columns …`);
    const csvPath = join(work, 'budget.csv');
    const bytes = generateCsv(csvPath, rows);
    console.log(`CSV: ${(bytes / 1e6).toFixed(1)} MB`);

    const waited = { ms: 0 };
    const stack = await startBenchStack(work, stops, {
      s3Delay: s3Rtts !== null,
      onLogLine: (line) => {
        if (!line.includes('waitedForDbMs')) return;
        try {
          waited.ms += Number((JSON.parse(line) as { waitedForDbMs?: unknown }).waitedForDbMs) || 0;
        } catch {
          // not one of the loader's JSON lines
        }
      },
    });
    const { base, owner, pg, db, worker, inspectorPort, proxyChild, s3Child } = stack;

    // Tokens the way an automated client gets them: API key -> user token -> permission token.
    const token = (await apiTokens(base, BENCH_API_KEY)).permissionToken;
    // The isolate's own heap (what the 128 MB limit counts), sampled through the inspector.
    const inspector = process.env.BENCH_NO_INSPECTOR ? null : await Inspector.connect(inspectorPort);
    if (inspector) stops.push(() => inspector.close());
    const ctx: RunContext = {
      base, token, owner, csvPath, rows, db, pg, inspector, rootPid: worker.rootPid,
      named: stack.named,
      waited,
    };
    const bySetting = settings.map((setting) => ({ setting, results: [] as RunResult[] }));
    let load = 0;
    for (let run = 1; run <= runs; run++) {
      // Alternating: each run loads once per setting, so a noisy stretch hits all of them.
      for (const entry of bySetting) {
        load++;
        await proxyChild.setRtt(entry.setting.db);
        if (s3Rtts) await s3Child.setRtt(entry.setting.s3);
        const service = await loadThroughService(ctx, load, load === 1 && process.argv.includes('--profile'));
        // \copy runs next to Postgres: no delay.
        await proxyChild.setRtt(0);
        const copy = await loadWithCopy(ctx, load, service.table);
        entry.results.push({ service, copy });
        console.log(
          `run ${run}${settings.length > 1 ? ` (${settingLabel(entry.setting)})` : ''}: service ${service.seconds.toFixed(1)} s, \\copy ${copy.seconds.toFixed(1)} s, ratio ${((copy.seconds / service.seconds) * 100).toFixed(0)}%` +
            `, waited for the db ${(service.waitedMs / 1000).toFixed(1)} s` +
            ` (CPU stolen by the hypervisor: ${service.cpu.steal.toFixed(1)} s during the load, ${copy.cpu.steal.toFixed(1)} s during \\copy)`,
        );
      }
    }
    for (const { setting, results } of bySetting) {
      if (settings.length > 1) console.log(`\n=== ${settingLabel(setting)} ===`);
      report(results, { rows, bytes, csvPath });
    }
    rttTable(bySetting, { rows, bytes });
  } finally {
    for (const stop of stops.reverse()) await Promise.resolve(stop()).catch(() => undefined);
  }
}

main().then(
  () => process.exit(0),
  (err: Error) => {
    console.error(`bench: ${err.stack ?? err.message}${err.cause ? ` (cause: ${String(err.cause)})` : ""}`);
    process.exit(1);
  },
);
