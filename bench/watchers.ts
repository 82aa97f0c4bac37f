/**
 * Live-status fan-out benchmark (npm run bench:watchers -- [--rows N]
 * [--runs K] [--watchers W]): the same real load as bench:load (generated
 * package, uploaded and loaded as a client does, the Worker's deploy bundle
 * in workerd), alternately with no watcher and with W (default 1000) clients
 * following GET /package/status as an event stream. Prints the load time of
 * each run (upload -> done seen by polling, as bench:load), and for the
 * watched runs the events and bytes each watcher got and how late the final
 * event reached them. To tell what production would share (the status
 * object's time) from what it would not (1,000 requests handled on the same
 * two cores as the load, and the watchers' own client work in this
 * process), it also prints how long the loader waited for its status
 * updates (the Worker's `waitedForStatusMs`), the CPU of workerd and of this
 * process, and the load's rate once every watcher is connected, against the
 * unwatched run's rate over the same rows. `--split` puts the status
 * objects and the watchers' requests in a workerd of their own at nice 19
 * (production has them apart from the loader); `--watchers-process` the
 * watcher clients in a child at nice 19. bench/README.md records the figures.
 */
import { spawn } from 'node:child_process';
import { setMaxListeners } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CSV_HEADER, csvRow, descriptor, prng } from './generate.ts';
import { positiveArg } from './lib/args.ts';
import { apiTokens, putPackageFiles, requestLoad } from './lib/client.ts';
import { cpuBetween, sampleCpu } from './lib/cpu.ts';
import { BENCH_API_KEY, lowestPriority, startBenchStack, type BenchStack } from './lib/stack.ts';

function generateCsv(rows: number): Buffer {
  const rnd = prng(42);
  const parts: string[] = [CSV_HEADER];
  for (let i = 0; i < rows; i++) parts.push(csvRow(i, rnd));
  return Buffer.from(parts.join(''));
}

interface WatcherResult {
  /** Status events received. */
  events: number;
  heartbeats: number;
  bytes: number;
  /** When the final event arrived (now()), or null if it never did. */
  endedAt: number | null;
  /** When the stream's response headers arrived. */
  connectedAt: number;
  final: string | null;
  /** Reconnections after a refused or reset connection (as EventSource makes them, with Last-Event-ID). */
  reconnects: number;
}

/** Milliseconds since the epoch, sub-millisecond, comparable across processes (the watchers may run in a child). */
function now(): number {
  return performance.timeOrigin + performance.now();
}

function emptyResult(): WatcherResult {
  return { events: 0, heartbeats: 0, bytes: 0, endedAt: null, connectedAt: 0, final: null, reconnects: 0 };
}

/** Why reconnections happened (error code -> count), over the whole bench. */
const errors = new Map<string, number>();
/** Why the bench's own status polls failed (error code -> count), over the whole bench. */
const pollErrors = new Map<string, number>();

/** One event-stream client: counts what arrives until the server ends the stream, reconnecting as EventSource does. */
async function watch(base: string, datapackage: string, signal: AbortSignal, started: (r: WatcherResult) => void): Promise<WatcherResult> {
  const result = emptyResult();
  started(result);
  let lastId: string | null = null;
  while (result.final === null && !signal.aborted) {
    try {
      lastId = await readStream(base, datapackage, signal, result, lastId);
    } catch (err) {
      if (signal.aborted || result.reconnects >= 20) throw err;
      result.reconnects++;
      const cause = (err as Error & { cause?: { code?: string } }).cause?.code ?? (err as Error).message;
      errors.set(cause, (errors.get(cause) ?? 0) + 1);
      await new Promise((r) => setTimeout(r, 200 + Math.random() * 800));
    }
  }
  return result;
}

async function readStream(
  base: string,
  datapackage: string,
  signal: AbortSignal,
  result: WatcherResult,
  lastId: string | null,
): Promise<string | null> {
  const res = await fetch(`${base}/package/status?datapackage=${encodeURIComponent(datapackage)}`, {
    headers: { Accept: 'text/event-stream', ...(lastId ? { 'Last-Event-ID': lastId } : {}) },
    signal,
  });
  if (res.status === 204) {
    result.final ??= 'done';
    return lastId;
  }
  if (res.status !== 200 || !res.body) throw new Error(`stream: HTTP ${res.status}`);
  result.connectedAt ||= now();
  const decoder = new TextDecoder();
  let buffer = '';
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
    result.bytes += chunk.byteLength;
    buffer += decoder.decode(chunk, { stream: true });
    let end: number;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      if (block.startsWith(':')) result.heartbeats++;
      const lines = block.split('\n');
      const data = lines.find((l) => l.startsWith('data: '));
      if (!data) continue;
      lastId = lines.find((l) => l.startsWith('id: '))?.slice(4) ?? lastId;
      result.events++;
      const status = (JSON.parse(data.slice(6)) as { status: string }).status;
      if (status === 'done' || status === 'fail') {
        result.final = status;
        result.endedAt = now();
      }
    }
  }
  return lastId;
}

/** Watchers in this process, 100 more every 0.5 s; each result is in `results` from its start. */
function watchHere(base: string, url: string, n: number, signal: AbortSignal, results: WatcherResult[]): Promise<WatcherResult[]> {
  setMaxListeners(n * 25 + 10, signal);
  // Clients connect 100 every 0.5 s, not all in the same instant.
  return Promise.all(
    Array.from({ length: n }, async (_, i) => {
      await new Promise((r) => setTimeout(r, Math.floor(i / 100) * 500));
      return watch(base, url, signal, (r) => results.push(r));
    }),
  );
}

/**
 * The same watchers in a child process at the lowest CPU priority: their
 * client work (which production's clients do on their own machines) yields
 * the two cores to the Worker and the load. It reports each connection and
 * the results as lines on stdout.
 */
async function watchInChild(base: string, url: string, n: number, signal: AbortSignal) {
  const results: WatcherResult[] = [];
  // The child's own CPU from "go" to its results (it may have exited before the bench's last /proc sample).
  let cpuSeconds: number | null = null;
  const child = spawn('nice', ['-n', '19', process.execPath, ...process.execArgv, fileURLToPath(import.meta.url), '--as-watchers', base, url, String(n)], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  let ready: () => void = () => undefined;
  const loaded = new Promise<void>((r) => (ready = r));
  signal.addEventListener('abort', () => child.kill('SIGINT'));
  const done = new Promise<WatcherResult[]>((resolve, reject) => {
    let rest = '';
    child.stdout.on('data', (chunk: Buffer) => {
      const lines = (rest + chunk.toString()).split('\n');
      rest = lines.pop() ?? '';
      for (const line of lines) {
        const msg = JSON.parse(line) as { ready?: true; connectedAt?: number; results?: WatcherResult[]; errors?: Record<string, number>; cpuSeconds?: number };
        if (msg.ready) ready();
        if (msg.connectedAt !== undefined) results.push({ ...emptyResult(), connectedAt: msg.connectedAt });
        if (msg.results) {
          cpuSeconds = msg.cpuSeconds ?? null;
          for (const [k, v] of Object.entries(msg.errors ?? {})) errors.set(k, (errors.get(k) ?? 0) + v);
          resolve(msg.results);
        }
      }
    });
    child.on('exit', (code) => reject(new Error(`the watchers' process ended (${code}) without results`)));
  });
  done.catch(() => ready());
  await loaded;
  return { results, pid: child.pid ?? null, done: done as Promise<WatcherResult[]> | null, go: () => void child.stdin.end('go\n'), cpu: () => cpuSeconds };
}

/** The child's side of watchInChild. */
async function watchersProcess(base: string, url: string, n: number): Promise<void> {
  const abort = new AbortController();
  process.on('SIGINT', () => abort.abort());
  process.stdout.write(JSON.stringify({ ready: true }) + '\n');
  await new Promise<void>((r) => process.stdin.once('data', () => r()));
  const from = process.cpuUsage();
  const mine: WatcherResult[] = [];
  const seen = new Set<WatcherResult>();
  const tick = setInterval(() => {
    for (const r of mine) {
      if (r.connectedAt > 0 && !seen.has(r)) {
        seen.add(r);
        process.stdout.write(JSON.stringify({ connectedAt: r.connectedAt }) + '\n');
      }
    }
  }, 50);
  const results = await watchHere(base, url, n, abort.signal, mine);
  clearInterval(tick);
  const used = process.cpuUsage(from);
  process.stdout.write(JSON.stringify({ results, errors: Object.fromEntries(errors), cpuSeconds: (used.user + used.system) / 1e6 }) + '\n');
}

/** Whether the watchers run in a child process (--watchers-process). */
const childProcess = process.argv.includes('--watchers-process');

interface RunResult {
  watchers: number;
  seconds: number;
  workerdCpu: number;
  /** With --split: the status instance's workerd. */
  statusCpu: number | null;
  benchCpu: number;
  watched: WatcherResult[];
  doneAt: number;
  /** Rows loaded as the polls saw them: [ms since the upload, rows]. */
  timeline: Array<[number, number]>;
  /** Since the upload, when the last watcher had its stream (null: no watcher, or not all before done). */
  allConnectedMs: number | null;
  /** CPU seconds (workerd, this process) from the upload until every watcher was connected. */
  connectCpu: { workerd: number; bench: number } | null;
  /** Milliseconds the loader waited for its status updates. */
  statusWaitMs: number;
}

/** The loader's status waits (the Worker's `waitedForStatusMs` per chunk), summed. */
const statusWait = { ms: 0 };

function onLogLine(line: string): void {
  if (!line.includes('waitedForStatusMs')) return;
  try {
    statusWait.ms += Number((JSON.parse(line) as { waitedForStatusMs?: unknown }).waitedForStatusMs) || 0;
  } catch {
    // not one of the loader's JSON lines
  }
}

async function oneRun(stack: BenchStack, token: string, csv: Buffer, rows: number, run: number, watchers: number): Promise<RunResult> {
  const { base, watchBase, owner } = stack;
  const name = `bench-watch-${run}`;
  const urls = await putPackageFiles(base, token, owner, name, {
    'budget.csv': csv,
    'datapackage.json': Buffer.from(JSON.stringify(descriptor(owner, name))),
  });
  const url = urls['datapackage.json'] as string;
  console.log(`run ${run}: loading with ${watchers} watcher(s) …`);
  const abort = new AbortController();
  // The child is started (and has loaded) before the clock starts; it starts watching on "go".
  const child = childProcess && watchers > 0 ? await watchInChild(watchBase, url, watchers, abort.signal) : null;
  const named: Record<string, number> = { ...stack.named, ...(child?.pid ? { watchers: child.pid } : {}) };
  if (stack.status) {
    named.status = stack.status.workerdPid;
    lowestPriority(stack.status.workerdPid);
  }
  const cpu0 = sampleCpu(stack.worker.rootPid, stack.pg.dataDir, named);
  statusWait.ms = 0;
  const t0 = now();
  await requestLoad(base, url, token);
  const watching = child ?? { results: [] as WatcherResult[], pid: null as number | null, done: null as Promise<WatcherResult[]> | null, go: () => undefined, cpu: () => 0 };
  if (!child) watching.done = watchHere(watchBase, url, watchers, abort.signal, watching.results);
  watching.go();
  const results = watching.results;
  (watching.done as Promise<WatcherResult[]>).catch(() => undefined);
  let last: { status: string; progress: number; error?: string } = { status: 'queued', progress: 0 };
  const until = Date.now() + 600_000;
  const timeline: Array<[number, number]> = [];
  let allConnectedMs: number | null = null;
  let connectCpu: RunResult['connectCpu'] = null;
  let pollFailures = 0;
  while (last.status !== 'done' && last.status !== 'fail') {
    if (Date.now() > until) throw new Error(`no end within 10 minutes (${JSON.stringify(last)})`);
    await new Promise((r) => setTimeout(r, 250));
    try {
      last = (await (await fetch(`${base}/package/status?datapackage=${encodeURIComponent(url)}`)).json()) as typeof last;
      pollFailures = 0;
    } catch (err) {
      // A poller polls again after a reset connection (counted and printed); only a run of them stops the bench.
      if (++pollFailures > 20) throw err;
      const cause = (err as Error & { cause?: { code?: string } }).cause?.code ?? (err as Error).message;
      pollErrors.set(cause, (pollErrors.get(cause) ?? 0) + 1);
      continue;
    }
    timeline.push([now() - t0, last.progress]);
    if (watchers > 0 && allConnectedMs === null && results.length === watchers && results.every((r) => r.connectedAt > 0)) {
      allConnectedMs = Math.max(...results.map((r) => r.connectedAt)) - t0;
      const c = cpuBetween(cpu0, sampleCpu(stack.worker.rootPid, stack.pg.dataDir, named));
      connectCpu = { workerd: c.workerd, bench: c.bench + (c.named.watchers ?? 0) };
    }
  }
  const doneAt = now();
  const seconds = (doneAt - t0) / 1000;
  const cpu = cpuBetween(cpu0, sampleCpu(stack.worker.rootPid, stack.pg.dataDir, named));
  const workerdCpu = cpu.workerd;
  const statusCpu = stack.status ? (cpu.named.status ?? 0) : null;
  const statusWaitMs = statusWait.ms;
  if (last.status !== 'done') throw new Error(`load failed: ${last.error}`);
  if (last.progress !== rows) throw new Error(`loaded ${last.progress} rows, expected ${rows}`);
  const timer = setTimeout(() => abort.abort(), 30_000);
  const watched = await (watching.done as Promise<WatcherResult[]>);
  clearTimeout(timer);
  const clientCpu = child?.cpu() ?? 0;
  return { watchers, seconds, workerdCpu, statusCpu, benchCpu: cpu.bench + clientCpu, watched, doneAt, timeline, allConnectedMs, connectCpu, statusWaitMs };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length === 0 ? NaN : sorted.length % 2 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/** When (ms since the upload) `run` had loaded `rows`, interpolated between its polls. */
function timeAt(run: RunResult, rows: number): number | null {
  let prev: [number, number] = [0, 0];
  for (const point of run.timeline) {
    if (point[1] >= rows) return point[1] === prev[1] ? point[0] : prev[0] + ((rows - prev[1]) / (point[1] - prev[1])) * (point[0] - prev[0]);
    prev = point;
  }
  return null;
}

/**
 * The watched run's rate from the first poll after every watcher was
 * connected until done, and the unwatched run's over the same rows: the
 * fan-out's cost alone, without the connections'.
 */
function afterConnect(r: RunResult, plain: RunResult | undefined): string {
  if (r.allConnectedMs === null) return '  not every watcher was connected before done';
  const from = r.timeline.find(([t]) => t >= (r.allConnectedMs as number));
  const end = r.timeline[r.timeline.length - 1];
  if (!from || !end || end[1] <= from[1]) return `  every watcher connected ${(r.allConnectedMs / 1000).toFixed(1)} s after the upload, too late to time the rest`;
  const rows = end[1] - from[1];
  const watchedRate = rows / ((end[0] - from[0]) / 1000);
  const a = plain ? timeAt(plain, from[1]) : null;
  const b = plain ? timeAt(plain, end[1]) : null;
  const plainRate = a !== null && b !== null && b > a ? rows / ((b - a) / 1000) : NaN;
  return (
    `  every watcher connected ${(r.allConnectedMs / 1000).toFixed(1)} s after the upload (CPU till then: workerd ${r.connectCpu?.workerd.toFixed(1)} s, bench ${r.connectCpu?.bench.toFixed(1)} s);` +
    ` rows ${from[1].toLocaleString('en')}–${end[1].toLocaleString('en')} after that: ${Math.round(watchedRate).toLocaleString('en')} rows/s watched, ${Math.round(plainRate).toLocaleString('en')} rows/s in the unwatched run`
  );
}

function describeWatched(r: RunResult, plain?: RunResult): string {
  if (r.watchers === 0) return '';
  const w = r.watched;
  const ended = w.filter((x) => x.final === 'done');
  const events = w.map((x) => x.events);
  const lateMs = ended.map((x) => (x.endedAt as number) - r.doneAt);
  const reconnects = w.reduce((a, x) => a + x.reconnects, 0);
  return (
    `  watchers: ${w.length}, saw done: ${ended.length}, reconnections: ${reconnects}; events per watcher min/median/max ${Math.min(...events)}/${median(events)}/${Math.max(...events)}` +
    ` (all watchers: ${events.reduce((a, b) => a + b, 0).toLocaleString('en')} events, ${(w.reduce((a, x) => a + x.bytes, 0) / 1e6).toFixed(1)} MB)` +
    `${errors.size ? ` (${[...errors].map(([k, v]) => `${k}: ${v}`).join(', ')})` : ''}` +
    `; final event relative to the poll that saw done (negative: earlier): median ${median(lateMs).toFixed(0)} ms, max ${Math.max(...lateMs).toFixed(0)} ms\n` +
    afterConnect(r, plain)
  );
}

async function main(): Promise<void> {
  const rows = positiveArg('rows', 300_000);
  const runs = positiveArg('runs', 2);
  const watchers = positiveArg('watchers', 1000);
  const work = mkdtempSync(join(tmpdir(), 'os-bench-watch-'));
  const stops: Array<() => Promise<void> | void> = [() => rmSync(work, { recursive: true, force: true })];
  try {
    const csv = generateCsv(rows);
    console.log(`CSV: ${rows.toLocaleString('en')} rows, ${(csv.length / 1e6).toFixed(1)} MB`);
    // --direct: requests to the Worker's own socket, not through Miniflare's entry Worker.
    const direct = process.argv.includes('--direct');
    // --split: the status objects and the watchers' requests in a workerd of their own, at nice 19.
    const split = process.argv.includes('--split');
    const stack = await startBenchStack(work, stops, { onLogLine, direct, split });
    console.log(direct ? 'requests go to the Worker socket in workerd directly' : "requests go through Miniflare's entry Worker");
    if (split) console.log('status objects and watchers\' requests in a workerd of their own at nice 19; the loader and the uploader\'s routes in another');
    console.log(childProcess ? 'watchers run in a child process at nice 19 (its CPU is in the bench figure)' : 'watchers run in the bench process');
    const token = (await apiTokens(stack.base, BENCH_API_KEY)).permissionToken;
    const results: RunResult[] = [];
    let run = 0;
    for (let k = 0; k < runs; k++) {
      for (const n of [0, watchers]) {
        const r = await oneRun(stack, token, csv, rows, ++run, n);
        results.push(r);
        console.log(
          `run ${run}: ${n} watcher(s): ${r.seconds.toFixed(1)} s, workerd CPU ${r.workerdCpu.toFixed(1)} s` +
            `${r.statusCpu !== null ? ` (status instance ${r.statusCpu.toFixed(1)} s)` : ''}, bench process CPU ${r.benchCpu.toFixed(1)} s, ` +
            `loader waited ${r.statusWaitMs} ms for status updates`,
        );
        const line = describeWatched(r, results.filter((x) => x.watchers === 0).at(-1));
        if (pollErrors.size) console.log(`  failed polls so far: ${[...pollErrors].map(([k, v]) => `${k}: ${v}`).join(', ')}`);
        if (line) console.log(line);
      }
    }
    const batch = Number(process.env.OS_LOADER_BATCH_ROWS ?? 5000);
    console.log('');
    console.log(`rows: ${rows.toLocaleString('en')} (${Math.ceil(rows / batch)} progress updates of ${batch.toLocaleString('en')} rows), ${runs} run(s) each, alternating`);
    for (const n of [0, watchers]) {
      const mine = results.filter((r) => r.watchers === n);
      const s = median(mine.map((r) => r.seconds));
      console.log(
        `${String(n).padStart(5)} watchers: load ${s.toFixed(1)} s median (${mine.map((r) => r.seconds.toFixed(1)).join(', ')}), ` +
          `${Math.round(rows / s).toLocaleString('en')} rows/s, workerd CPU ${median(mine.map((r) => r.workerdCpu)).toFixed(1)} s, ` +
          `${split ? `status instance CPU ${median(mine.map((r) => r.statusCpu ?? 0)).toFixed(1)} s, ` : ''}` +
          `bench process CPU ${median(mine.map((r) => r.benchCpu)).toFixed(1)} s, loader waited ${median(mine.map((r) => r.statusWaitMs))} ms for status updates`,
      );
    }
  } finally {
    for (const stop of stops.reverse()) await Promise.resolve(stop()).catch(() => undefined);
  }
}

const asWatchers = process.argv.indexOf('--as-watchers');
(asWatchers >= 0
  ? watchersProcess(process.argv[asWatchers + 1] as string, process.argv[asWatchers + 2] as string, Number(process.argv[asWatchers + 3]))
  : main()
).then(
  () => process.exit(0),
  (err: Error) => {
    console.error(`bench: ${err.stack ?? err.message}`);
    process.exit(1);
  },
);
