/**
 * The throw-away stack a load benchmark runs against, all on loopback: a
 * Postgres (migrated), the WebSocket proxy the Neon driver needs locally and
 * the S3-compatible server (each in a process of its own, CPU measured
 * apart), and the Worker's deploy bundle in workerd (bench/lib/runtime.ts),
 * with an API key for a fresh owner.
 */
import { createHash } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { setPriority } from 'node:os';
import { join } from 'node:path';
import { migrate } from '../../src/db/migrations/index.ts';
import { connectNode } from '../../tools/lib/db.ts';
import { encodeSecrets, generateRsaKeyPair } from '../../tools/lib/secrets.ts';
import { startPostgres } from '../../tools/services/postgres.ts';
import { freePort } from '../../tools/services/util.ts';
import { startWorker, type RunningWorker } from './runtime.ts';
import { startServiceChild, type ServiceChild } from './services.ts';

/** The status instance's name with `split`. */
const STATUS_WORKER = 'os-conductor-status';

/** nice 19 for every thread of `pid` (Linux nice values are per thread; call again for threads started since). */
export function lowestPriority(pid: number): void {
  for (const tid of readdirSync(`/proc/${pid}/task`)) setPriority(Number(tid), 19);
}

/** Development-only API key of the throw-away bench stack (not a secret). */
export const BENCH_API_KEY = 'bench-api-key-development-only';

export interface BenchStack {
  base: string;
  /**
   * Where watchers connect: `base`, or with `split` the status instance
   * (the workerd that holds the status objects and serves the watchers' requests).
   */
  watchBase: string;
  /** With `split`: the status instance (its workerd runs at the lowest CPU priority). */
  status: RunningWorker | null;
  owner: string;
  pg: { url: string; dataDir: string };
  db: Awaited<ReturnType<typeof connectNode>>;
  worker: RunningWorker;
  inspectorPort: number;
  /** Pids of the S3 server and the proxy, by name (for CPU accounting). */
  named: Record<string, number>;
  /** The WebSocket proxy and the S3 server's processes (their simulated round trip is set through them). */
  proxyChild: ServiceChild<{ hostPort: string }>;
  s3Child: ServiceChild<{ hostname: string; port: number }>;
}

export interface BenchStackOptions {
  /** Worker settings added to the stack's own. */
  vars?: Record<string, string>;
  /** Puts the S3 server behind a TCP delay proxy (for every setting, so all have the same hops). */
  s3Delay?: boolean;
  /** Each line the Worker logs. */
  onLogLine?: (line: string) => void;
  /** Requests straight to the Worker's socket in workerd (bench/lib/runtime.ts). */
  direct?: boolean;
  /**
   * Two workerd processes, as production has the status objects apart from
   * the loader: one holds the status objects and serves the watchers' requests
   * (at nice 19, so its CPU yields to the load's on a small machine), the other
   * runs the routes the uploader calls and the queue consumer, and reaches the
   * status objects in the first through Miniflare's dev registry.
   */
  split?: boolean;
}

/**
 * Starts the stack in `work` (a scratch directory); every stop is pushed on
 * `stops` as soon as its service runs, so a failure half-way still cleans up.
 * Loader settings may be overridden from the environment (OS_LOADER_*).
 */
export async function startBenchStack(
  work: string,
  stops: Array<() => Promise<void> | void>,
  options: BenchStackOptions = {},
): Promise<BenchStack> {
  const vars = options.vars ?? {};
  const pg = await startPostgres();
  stops.push(() => pg.stop());
  const proxyChild = await startServiceChild<{ hostPort: string }>('ws-proxy');
  stops.push(() => proxyChild.stop());
  const proxy = proxyChild.info;
  const db = await connectNode(pg.url, proxy.hostPort);
  stops.push(() => db.close());
  await migrate(db.client);
  const s3Child = await startServiceChild<{ hostname: string; port: number }>('s3', {
    accessKeyId: 'bench-access-key',
    secretAccessKey: 'bench-secret-key-not-a-secret',
    bucket: 'datastore',
    directory: join(work, 's3'),
    delay: options.s3Delay ?? false,
  });
  stops.push(() => s3Child.stop());
  const s3 = s3Child.info;
  const keys = generateRsaKeyPair();
  const owner = 'bench' + createHash('md5').update(String(Date.now())).digest('hex').slice(0, 16);
  const port = await freePort();
  const inspectorPort = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const all: Record<string, string> = {
    OS_BASE_URL: base,
    OS_DEV_MODE: 'true',
    OS_CONDUCTOR_ENGINE: pg.url,
    OS_DB_WS_PROXY: proxy.hostPort,
    OS_ACCESS_KEY_ID: 'bench-access-key',
    OS_SECRET_ACCESS_KEY: 'bench-secret-key-not-a-secret',
    OS_S3_HOSTNAME: s3.hostname,
    OS_S3_PORT: String(s3.port),
    OS_S3_SCHEME: 'http',
    OS_STORAGE_BUCKET_NAME: 'datastore',
    OS_CLIENT_API_KEYS: `${BENCH_API_KEY}:${owner}`,
    ...vars,
    ...Object.fromEntries(Object.entries(process.env).filter((e): e is [string, string] => e[0].startsWith('OS_LOADER_') && !!e[1])),
    ...encodeSecrets({
      'private.pem': keys.privatePem,
      'public.pem': keys.publicPem,
      'google.key': 'bench-unused',
      'google.secret.key': 'bench-unused',
    }),
  };
  const common = {
    verbose: !!process.env.BENCH_VERBOSE,
    ...(options.onLogLine ? { onLogLine: options.onLogLine } : {}),
    ...(options.direct ? { direct: true } : {}),
  };
  let status: RunningWorker | null = null;
  if (options.split) {
    const statusPort = await freePort();
    status = await startWorker({
      ...common,
      port: statusPort,
      inspectorPort: await freePort(),
      vars: { ...all, OS_BASE_URL: `http://127.0.0.1:${statusPort}` },
      work: join(work, 'status'),
      name: STATUS_WORKER,
      devRegistry: join(work, 'registry'),
      consumer: false,
    });
    stops.push(() => (status as RunningWorker).stop());
    lowestPriority(status.workerdPid);
  }
  const worker = await startWorker({
    ...common,
    port,
    inspectorPort,
    vars: all,
    work: options.split ? join(work, 'loader') : work,
    ...(options.split ? { name: 'os-conductor', devRegistry: join(work, 'registry'), statusWorker: STATUS_WORKER } : {}),
  });
  stops.push(() => worker.stop());
  return {
    base, watchBase: status?.url ?? base, status, owner, pg, db, worker, inspectorPort,
    named: { s3: s3Child.pid, proxy: proxyChild.pid },
    proxyChild,
    s3Child,
  };
}
