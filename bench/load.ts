/**
 * Load benchmark (npm run bench:load -- [--rows N] [--runs K] [--live-heap]
 * [--profile]): generates a fiscal data package of N rows x 12 columns, then
 * K times loads it through the service exactly as a client does (authorize
 * -> PUT to a local S3 server -> /package/upload -> poll /package/status
 * until done), with the Worker's deploy bundle in workerd (Miniflare: local
 * queue and Durable Objects), and loads the same CSV into the same Postgres
 * with `psql \copy`. Prints rows/s, MB/s, the ratio, CPU per process and the
 * isolate's heap (bench/README.md explains the figures).
 *
 * Everything runs on loopback: a throw-away Postgres, the WebSocket proxy the
 * Neon driver needs locally, and the S3-compatible server.
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
import { positiveArg } from './lib/args.ts';

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
}

interface ServiceResult {
  seconds: number;
  table: string;
  cpu: CpuSample;
  peakHeap: number;
  /** Peak of the live heap (after forced collections), when --live-heap. */
  peakLive: number;
  peakKb: number;
}

interface RunResult {
  service: ServiceResult;
  copy: { seconds: number; cpu: CpuSample };
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
    const t0 = performance.now();
    await requestLoad(base, dpUrl, token);
    let last: { status: string; progress: number; error?: string; steps?: unknown } = { status: 'queued', progress: 0 };
    let peakKb = 0;
    let lastChange = Date.now();
    let lastSeen = '';
    while (last.status !== 'done' && last.status !== 'fail') {
      await new Promise((r) => setTimeout(r, 250));
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
    return { seconds, table, cpu, peakHeap, peakLive, peakKb };
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
  const work = mkdtempSync(join(tmpdir(), 'os-bench-'));
  const stops: Array<() => Promise<void> | void> = [() => rmSync(work, { recursive: true, force: true })];
  try {
    console.log(`generating ${rows} rows x ${FIELDS.length} columns …`);
    const csvPath = join(work, 'budget.csv');
    const bytes = generateCsv(csvPath, rows);
    console.log(`CSV: ${(bytes / 1e6).toFixed(1)} MB`);

    const stack = await startBenchStack(work, stops);
    const { base, owner, pg, db, worker, inspectorPort } = stack;

    // Tokens the way an automated client gets them: API key -> user token -> permission token.
    const token = (await apiTokens(base, BENCH_API_KEY)).permissionToken;
    // The isolate's own heap (what the 128 MB limit counts), sampled through the inspector.
    const inspector = process.env.BENCH_NO_INSPECTOR ? null : await Inspector.connect(inspectorPort);
    if (inspector) stops.push(() => inspector.close());
    const ctx: RunContext = {
      base, token, owner, csvPath, rows, db, pg, inspector, rootPid: worker.rootPid,
      named: stack.named,
    };
    const results: RunResult[] = [];
    for (let run = 1; run <= runs; run++) {
      const service = await loadThroughService(ctx, run, run === 1 && process.argv.includes('--profile'));
      const copy = await loadWithCopy(ctx, run, service.table);
      results.push({ service, copy });
      console.log(
        `run ${run}: service ${service.seconds.toFixed(1)} s, \\copy ${copy.seconds.toFixed(1)} s, ratio ${((copy.seconds / service.seconds) * 100).toFixed(0)}%` +
          ` (CPU stolen by the hypervisor: ${service.cpu.steal.toFixed(1)} s during the load, ${copy.cpu.steal.toFixed(1)} s during \\copy)`,
      );
    }
    report(results, { rows, bytes, csvPath });
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
