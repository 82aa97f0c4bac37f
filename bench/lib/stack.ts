/**
 * The throw-away stack a load benchmark runs against, all on loopback: a
 * Postgres (migrated), the WebSocket proxy the Neon driver needs locally and
 * the S3-compatible server (each in a process of its own, CPU measured
 * apart), and the Worker's deploy bundle in workerd (bench/lib/runtime.ts),
 * with an API key for a fresh owner.
 */
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { migrate } from '../../src/db/migrations/index.ts';
import { connectNode } from '../../tools/lib/db.ts';
import { encodeSecrets, generateRsaKeyPair } from '../../tools/lib/secrets.ts';
import { startPostgres } from '../../tools/services/postgres.ts';
import { freePort } from '../../tools/services/util.ts';
import { startWorker, type RunningWorker } from './runtime.ts';
import { startServiceChild, type ServiceChild } from './services.ts';

/** Development-only API key of the throw-away bench stack (not a secret). */
export const BENCH_API_KEY = 'bench-api-key-development-only';

export interface BenchStack {
  base: string;
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
  const worker = await startWorker({
    port,
    inspectorPort,
    vars: all,
    work,
    verbose: !!process.env.BENCH_VERBOSE,
    ...(options.onLogLine ? { onLogLine: options.onLogLine } : {}),
    ...(options.direct ? { direct: true } : {}),
  });
  stops.push(() => worker.stop());
  return {
    base, owner, pg, db, worker, inspectorPort,
    named: { s3: s3Child.pid, proxy: proxyChild.pid },
    proxyChild,
    s3Child,
  };
}
