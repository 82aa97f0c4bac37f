/**
 * Search benchmark (npm run bench:search -- [--packages N] [--runs K]
 * [--runs-large L] [--warmup W] [--queries 1,2,…] [--profile] [--direct]): fills a throw-away Postgres registry with N
 * generated packages (bench/search-docs.ts) through the registry's own write,
 * mirrors it into a real OpenSearch with the reindex the admin tool runs,
 * then sends the queries real clients send to /search/package and
 * /package/stats of the Worker's deploy bundle in workerd (Miniflare), once
 * with the Postgres backend and once with the OpenSearch backend, and, next
 * to each, the same query straight to its backend: the `_search` request the
 * Worker builds (src/search/elasticsearch/backend.ts searchRequest), or the
 * Postgres backend's SQL from Node.
 *
 * K runs per query and target (L for answers over 1 MB) after W warm-up
 * runs, the targets alternating in a rotating order; prints p50 and p95 (wall time until the whole body is
 * read), the Worker/direct ratio and the response size. `--direct` sends the
 * Worker's requests to its own socket in workerd instead of through
 * Miniflare's entry Worker (as bench:watchers --direct). bench/README.md
 * records the figures.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { migrate } from '../src/db/migrations/index.ts';
import { upsertPackage } from '../src/registry/registry.ts';
import { searchRequest, statsRequest, type EsSearchRequest } from '../src/search/elasticsearch/backend.ts';
import { reindex } from '../src/search/elasticsearch/reindex.ts';
import { target } from '../src/search/elasticsearch/index.ts';
import { searchPostgres, statsPostgres } from '../src/search/postgres.ts';
import { parseSearchParams } from '../src/search/query.ts';
import { connectNode, type NodeDb } from '../tools/lib/db.ts';
import { postgresRegistryReader } from '../tools/lib/search-index.ts';
import { encodeSecrets, generateRsaKeyPair } from '../tools/lib/secrets.ts';
import { startOpenSearch } from '../tools/services/opensearch.ts';
import { startPostgres } from '../tools/services/postgres.ts';
import { freePort } from '../tools/services/util.ts';
import { option, positiveArg } from './lib/args.ts';
import { sampleCpu } from './lib/cpu.ts';
import { Inspector, selfTimes, type CpuProfile } from './lib/inspector.ts';
import { startWorker, type RunningWorker } from './lib/runtime.ts';
import { startServiceChild } from './lib/services.ts';
import { catalogue } from './search-docs.ts';

/** Development-only API key of the throw-away bench stack (not a secret). */
const API_KEY = 'bench-api-key-development-only';
const INDEX = 'packages';

interface Query {
  label: string;
  /** Path and query string exactly as the client sends it; `{jwt}` is replaced by a user token. */
  url: string;
}

interface Answer {
  /** Size of the answer; a function when working it out is not part of the target's work (timed apart). */
  bytes: number | (() => number);
  hits: number;
}

/** One way of answering a query, timed from the request until the body is read. */
interface Target {
  name: string;
  send(q: Query): Promise<Answer>;
}

function percentile(sorted: number[], p: number): number {
  // Nearest rank: the value at or below which p of the runs fall.
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))] as number;
}

/** Requests sent again because the server had closed the kept-alive connection just as it was reused. */
let resent = 0;

/** fetch, sent once more when a reused keep-alive connection turned out closed (a client-side race, not an answer). */
async function fetchOnce(url: string, init?: RequestInit): Promise<Response> {
  try {
    return await fetch(url, init);
  } catch (err) {
    if (!/other side closed/.test(String((err as Error).cause))) throw err;
    resent++;
    return fetch(url, init);
  }
}

/** The request through the Worker: the body read whole, the hits counted (X-Total-Count checked apart). */
function workerTarget(name: string, base: string, token: string): Target {
  return {
    name,
    async send(q) {
      const res = await fetchOnce(base + q.url.replace('{jwt}', encodeURIComponent(token)));
      const body = await res.text();
      if (res.status !== 200) throw new Error(`${name} ${q.label}: HTTP ${res.status} ${body.slice(0, 200)}`);
      const hits = q.url.startsWith('/package/stats') ? 1 : Number(res.headers.get('x-total-count'));
      return { bytes: Buffer.byteLength(body), hits };
    },
  };
}

/** The SearchQuery the Worker builds for a client URL (the same pure parser), with the token's user. */
function queryOf(q: Query, userid: string) {
  const params: Record<string, string> = {};
  for (const [k, v] of new URL(q.url, 'http://x').searchParams) if (!(k in params)) params[k] = v;
  const parsed = parseSearchParams(params);
  if (!parsed.ok) throw new Error(`${q.label}: ${parsed.error}`);
  return { ...parsed.query, userid: q.url.includes('{jwt}') ? userid : null };
}

/** The Worker's own `_search` request, sent straight to OpenSearch; the body read whole. */
function directEsTarget(esUrl: string, userid: string): Target {
  return {
    name: 'OpenSearch direct',
    async send(q) {
      const req: EsSearchRequest = q.url.startsWith('/package/stats') ? statsRequest(INDEX) : searchRequest(INDEX, queryOf(q, userid));
      const res = await fetchOnce(esUrl + req.path, {
        method: req.method,
        headers: { accept: 'application/json', 'content-type': 'application/json' },
        body: JSON.stringify(req.body),
      });
      const body = await res.text();
      if (res.status !== 200) throw new Error(`direct ${q.label}: HTTP ${res.status} ${body.slice(0, 200)}`);
      // The total is the first number in the body ({"took":…,"hits":{"total":{"value":N…).
      const total = /"total":\{"value":(\d+)/.exec(body.slice(0, 300));
      return { bytes: Buffer.byteLength(body), hits: q.url.startsWith('/package/stats') ? 1 : Number(total?.[1]) };
    },
  };
}

/** The Postgres backend's SQL from Node (same driver, same proxy); rows parsed by the driver. */
function directPgTarget(db: NodeDb, userid: string): Target {
  return {
    name: 'Postgres direct',
    async send(q) {
      if (q.url.startsWith('/package/stats')) {
        const s = await statsPostgres(db.client);
        return { bytes: JSON.stringify(s).length, hits: 1 };
      }
      const r = await searchPostgres(db.client, queryOf(q, userid));
      // The size of the rows as JSON, worked out after the timing (a direct client needs no serialising).
      return { bytes: () => Buffer.byteLength(JSON.stringify(r.hits)), hits: r.total };
    },
  };
}

async function profileCatalogue(inspector: Inspector, t: Target, q: Query, runs: number): Promise<void> {
  await inspector.send('Profiler.enable');
  await inspector.send('Profiler.setSamplingInterval', { interval: 100 });
  await inspector.send('Profiler.start');
  const t0 = performance.now();
  for (let i = 0; i < runs; i++) await t.send(q);
  const wall = performance.now() - t0;
  const { profile } = await inspector.send<{ profile: CpuProfile }>('Profiler.stop');
  const times = selfTimes(profile).filter((f) => f.name !== '(idle)');
  const busy = times.reduce((a, f) => a + f.ms, 0);
  console.log(`\nprofile of ${t.name}, ${q.label}: ${runs} requests, ${(wall / runs).toFixed(0)} ms wall and ${(busy / runs).toFixed(0)} ms on the isolate's thread per request`);
  for (const f of times.slice(0, 15)) console.log(`  ${(f.ms / runs).toFixed(1).padStart(7)} ms/request ${(f.share * 100).toFixed(1).padStart(5)}%  ${f.name}`);
}

async function main(): Promise<void> {
  const count = positiveArg('packages', 2000);
  const runs = positiveArg('runs', 200);
  // Answers over 1 MB (the size=10000 lists at 2,000 packages) take seconds each on this VM.
  const runsLarge = positiveArg('runs-large', 50);
  const warmup = positiveArg('warmup', 20);
  const only = option('queries')?.split(',');
  const work = mkdtempSync(join(tmpdir(), 'os-bench-search-'));
  const stops: Array<() => Promise<void> | void> = [() => rmSync(work, { recursive: true, force: true })];
  try {
    const pg = await startPostgres();
    stops.push(() => pg.stop());
    const proxyChild = await startServiceChild<{ hostPort: string }>('ws-proxy');
    stops.push(() => proxyChild.stop());
    const db = await connectNode(pg.url, proxyChild.info.hostPort);
    stops.push(() => db.close());
    await migrate(db.client);

    const { docs, biggestOwner } = catalogue(count);
    let t0 = performance.now();
    for (const doc of docs) await upsertPackage(db.client, doc);
    await db.client.query('ANALYZE packages');
    const sizes = docs.map((d) => JSON.stringify(d).length).sort((a, b) => a - b);
    console.log(
      `registry: ${count} packages (documents ${(sizes[0]! / 1024).toFixed(1)}–${(sizes.at(-1)! / 1024).toFixed(1)} KiB, ` +
        `median ${(percentile(sizes, 0.5) / 1024).toFixed(1)} KiB), written in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
    );

    console.log('starting OpenSearch 2.19 (full JIT, 1 GiB heap) …');
    const es = await startOpenSearch({ fullJit: true, heapMb: 1024, log: console.log });
    stops.push(() => es.stop());
    t0 = performance.now();
    // A node still warming up on a busy VM can take over the client's 10 s to create the index: try again.
    let report: Awaited<ReturnType<typeof reindex>> | undefined;
    for (let attempt = 1; !report; attempt++) {
      try {
        report = await reindex(target(es.url, INDEX), postgresRegistryReader(db.client));
      } catch (err) {
        if (attempt >= 3) throw err;
        console.log(`reindex failed (${(err as Error).message}); again`);
      }
    }
    console.log(`index: ${report.copied} packages reindexed into ${report.newIndex} in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

    const keys = generateRsaKeyPair();
    const common: Record<string, string> = {
      OS_DEV_MODE: 'true',
      OS_CONDUCTOR_ENGINE: pg.url,
      OS_DB_WS_PROXY: proxyChild.info.hostPort,
      OS_CLIENT_API_KEYS: `${API_KEY}:${biggestOwner}`,
      ...encodeSecrets({
        'private.pem': keys.privatePem,
        'public.pem': keys.publicPem,
        'google.key': 'bench-unused',
        'google.secret.key': 'bench-unused',
      }),
    };
    const verbose = !!process.env.BENCH_VERBOSE;
    const start = async (name: string, extra: Record<string, string>): Promise<RunningWorker> => {
      const port = await freePort();
      const w = await startWorker({
        port,
        inspectorPort: await freePort(),
        vars: { ...common, OS_BASE_URL: `http://127.0.0.1:${port}`, ...extra },
        work: join(work, name),
        verbose,
        // --direct: requests reach the Worker's own socket in workerd, not through Miniflare's entry Worker (production has none).
        direct: process.argv.includes('--direct'),
      });
      stops.push(() => w.stop());
      return w;
    };
    const wPg = await start('pg', {});
    const wEs = await start('es', { OS_ELASTICSEARCH_ADDRESS: es.url, OS_ES_PACKAGES_INDEX_NAME: INDEX });

    // os-admin's token: API key -> user token (userid = the owner), from each Worker (its own issuer).
    const tokenOf = async (w: RunningWorker): Promise<string> => {
      const res = await fetch(`${w.url}/user/authenticate_api_key`, { method: 'POST', headers: { 'x-api-key': API_KEY } });
      const token = ((await res.json()) as { token?: string }).token;
      if (!token) throw new Error('no user token from /user/authenticate_api_key');
      return token;
    };

    const json = (v: string) => encodeURIComponent(JSON.stringify(v));
    const queries: Query[] = [
      { label: 'catalogue: size=10000 (os-viewer, os-explorer)', url: '/search/package?size=10000' },
      { label: 'free text: size=10000&q="health" (os-explorer)', url: `/search/package?size=10000&q=${json('health')}` },
      {
        label: 'my datasets: size=10000&jwt&package.owner (os-admin)',
        url: `/search/package?size=10000&jwt={jwt}&package.owner=${json(biggestOwner)}`,
      },
      { label: 'sorted page: size=20&from=40&sort=last_update:desc', url: '/search/package?size=20&from=40&sort=last_update:desc' },
      { label: 'stats: /package/stats (os-explorer)', url: '/package/stats' },
    ].filter((q, i) => !only || only.includes(String(i + 1)));

    const backends: Array<{ name: string; worker: Target; direct: Target }> = [
      { name: 'OpenSearch', worker: workerTarget('Worker (OpenSearch)', wEs.url, await tokenOf(wEs)), direct: directEsTarget(es.url, biggestOwner) },
      { name: 'Postgres', worker: workerTarget('Worker (Postgres)', wPg.url, await tokenOf(wPg)), direct: directPgTarget(db, biggestOwner) },
    ];
    const targets = backends.flatMap((b) => [b.worker, b.direct]);

    if (process.argv.includes('--profile')) {
      const inspector = await Inspector.connect(wEs.inspectorPort);
      stops.push(() => inspector.close());
      for (let i = 0; i < 5; i++) await backends[0]!.worker.send(queries[0]!);
      await profileCatalogue(inspector, backends[0]!.worker, queries[0]!, 20);
    }

    console.log(
      `\n${runs} runs per query and target (${Math.min(runs, runsLarge)} for answers over 1 MB) after ${warmup} warm-up runs, targets in rotating order`,
    );
    const rows: string[] = [];
    for (const q of queries) {
      const ms = new Map<Target, number[]>(targets.map((t) => [t, []]));
      const answer = new Map<Target, { bytes: number; hits: number }>();
      const sized = (a: Answer) => ({ hits: a.hits, bytes: typeof a.bytes === 'number' ? a.bytes : a.bytes() });
      const steal0 = sampleCpu(0, pg.dataDir).steal;
      const q0 = performance.now();
      let n = runs;
      for (let r = -warmup; r < n; r++) {
        // Rotate the order so no target always follows the same one (caches, JIT, GC debt).
        const order = targets.map((_, i) => targets[(i + Math.abs(r)) % targets.length]!);
        for (const t of order) {
          const s = performance.now();
          const a = await t.send(q);
          const elapsed = performance.now() - s;
          if (r >= 0) ms.get(t)!.push(elapsed);
          answer.set(t, sized(a));
        }
        if (r === -1 && Math.max(...[...answer.values()].map((a) => a.bytes)) > 1e6) n = Math.min(runs, runsLarge);
      }
      const steal = sampleCpu(0, pg.dataDir).steal - steal0;
      // Every target must have answered the same number of packages.
      const hitCounts = new Set([...answer.values()].map((a) => a.hits));
      if (hitCounts.size !== 1) {
        throw new Error(`${q.label}: targets disagree on the total: ${[...answer].map(([t, a]) => `${t.name} ${a.hits}`).join(', ')}`);
      }
      console.log(`\n${q.label}   (${[...hitCounts][0]} matching, ${n} runs; ${((performance.now() - q0) / 1000).toFixed(0)} s, ${steal.toFixed(1)} s CPU stolen by the hypervisor)`);
      for (const b of backends) {
        const w = [...ms.get(b.worker)!].sort((x, y) => x - y);
        const d = [...ms.get(b.direct)!].sort((x, y) => x - y);
        const line = (t: Target, s: number[]) =>
          `  ${t.name.padEnd(20)} p50 ${percentile(s, 0.5).toFixed(1).padStart(7)} ms  p95 ${percentile(s, 0.95).toFixed(1).padStart(7)} ms  ` +
          `${(answer.get(t)!.bytes / 1e6).toFixed(2).padStart(7)} MB`;
        console.log(line(b.worker, w));
        console.log(line(b.direct, d));
        const r50 = percentile(w, 0.5) / percentile(d, 0.5);
        const r95 = percentile(w, 0.95) / percentile(d, 0.95);
        console.log(`  ${''.padEnd(20)} Worker / direct: p50 ${r50.toFixed(2)}x, p95 ${r95.toFixed(2)}x`);
        rows.push(
          `| ${q.label} | ${b.name} | ${percentile(w, 0.5).toFixed(1)} / ${percentile(w, 0.95).toFixed(1)} | ` +
            `${percentile(d, 0.5).toFixed(1)} / ${percentile(d, 0.95).toFixed(1)} | ${r50.toFixed(2)}x / ${r95.toFixed(2)}x | ` +
            `${(answer.get(b.worker)!.bytes / 1e6).toFixed(2)} / ${(answer.get(b.direct)!.bytes / 1e6).toFixed(2)} MB |`,
        );
      }
    }
    console.log(`\nrequests sent again after a closed keep-alive connection: ${resent}`);
    console.log('\n| query | backend | Worker p50 / p95 (ms) | direct p50 / p95 (ms) | ratio p50 / p95 | response Worker / direct |');
    console.log('|---|---|---|---|---|---|');
    for (const r of rows) console.log(r);
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
