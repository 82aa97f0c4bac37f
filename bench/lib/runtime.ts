/**
 * Runs the Worker for a benchmark: the bundle `wrangler deploy` would upload
 * (built with --dry-run) in workerd through Miniflare, with the bindings of
 * wrangler.toml (Durable Object, queue producer and consumer). Not under
 * `wrangler dev`: its own processes (Node and a front workerd) take part in
 * every request and outbound connection and used more CPU than the Worker
 * itself, which says more about the dev tool than the service.
 */
import { Miniflare } from 'miniflare';
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface RunningWorker {
  url: string;
  /** Root of the processes that run the Worker (for CPU and memory accounting). */
  rootPid: number;
  /** The workerd process of this instance. */
  workerdPid: number;
  inspectorPort: number;
  stop(): Promise<void>;
}

export interface WorkerOptions {
  port: number;
  inspectorPort: number;
  vars: Record<string, string>;
  /** Scratch directory (bundle, persisted state). */
  work: string;
  verbose: boolean;
  /** Each line the Worker logs (its JSON logs), verbose or not. */
  onLogLine?: (line: string) => void;
  /**
   * Serve `port` from the Worker's own socket in workerd rather than
   * Miniflare's entry Worker (which forwards each request to ours, and wraps
   * each response to log it): as in production, no Worker in front.
   */
  direct?: boolean;
  /** The Worker's name, by which other instances reach its objects through the dev registry. */
  name?: string;
  /** Miniflare's dev registry (a directory), shared by instances that use each other's objects. */
  devRegistry?: string;
  /** The instance (by name) whose workerd holds the status objects, when not this one. */
  statusWorker?: string;
  /** Whether this instance consumes the loader queue (default true). */
  consumer?: boolean;
}

/** The Worker's compatibility date, from wrangler.toml (a top-level string: no TOML parser needed). */
export function compatibilityDate(): string {
  const m = /^compatibility_date\s*=\s*"([^"]*)"/m.exec(readFileSync(join(ROOT, 'wrangler.toml'), 'utf8'));
  if (!m?.[1]) throw new Error('wrangler.toml has no compatibility_date');
  return m[1];
}

/** Bundles a Worker into `outdir` with `wrangler deploy --dry-run`, exactly as a deploy would (wrangler.toml unless `config`). */
export function bundleWorker(outdir: string, config?: string): void {
  execFileSync(
    join(ROOT, 'node_modules', '.bin', 'wrangler'),
    ['deploy', '--dry-run', ...(config ? ['--config', config] : []), '--outdir', outdir],
    { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, WRANGLER_SEND_METRICS: 'false' } },
  );
}

async function waitUp(url: string, alive: () => boolean): Promise<void> {
  const until = Date.now() + 60_000;
  while (Date.now() < until) {
    if (!alive()) throw new Error('the Worker runtime exited');
    try {
      const res = await fetch(url);
      if (res.status === 400) return;
    } catch {
      // not yet listening
    }
    await new Promise((r) => setTimeout(r, 300));
  }
  throw new Error('the Worker did not start');
}

/** The workerd process whose inspector listens on `inspectorPort` (Linux /proc). */
function workerdWithInspector(inspectorPort: number): number {
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
      if (cmd.includes('workerd') && cmd.includes(`--inspector-addr=localhost:${inspectorPort}`)) return Number(pid);
    } catch {
      // ended meanwhile
    }
  }
  throw new Error(`no workerd process with its inspector on port ${inspectorPort}`);
}

export async function startWorker(options: WorkerOptions): Promise<RunningWorker> {
  const { port, inspectorPort, vars, work } = options;
  const url = `http://127.0.0.1:${port}`;
  const dist = join(work, 'dist');
  bundleWorker(dist);
  const mf = new Miniflare({
    ...(options.name ? { name: options.name } : {}),
    ...(options.devRegistry ? { unsafeDevRegistryPath: options.devRegistry } : {}),
    modules: true,
    scriptPath: join(dist, 'index.js'),
    modulesRoot: dist,
    compatibilityDate: compatibilityDate(),
    compatibilityFlags: ['nodejs_compat'],
    host: '127.0.0.1',
    port: options.direct ? 0 : port,
    ...(options.direct ? { unsafeDirectSockets: [{ host: '127.0.0.1', port }], logRequests: false } : {}),
    inspectorPort,
    bindings: vars,
    // The Worker's JSON logs only with BENCH_VERBOSE.
    handleRuntimeStdio(stdout: Readable, stderr: Readable) {
      if (options.onLogLine) {
        let rest = '';
        stdout.on('data', (chunk: Buffer) => {
          const lines = (rest + chunk.toString()).split('\n');
          rest = lines.pop() ?? '';
          for (const line of lines) options.onLogLine?.(line);
        });
      }
      if (options.verbose) {
        stdout.pipe(process.stdout);
        stderr.pipe(process.stderr);
      } else {
        stdout.resume();
        stderr.pipe(process.stderr);
      }
    },
    durableObjects: {
      PACKAGE_STATUS: { className: 'PackageStatus', useSQLite: true, ...(options.statusWorker ? { scriptName: options.statusWorker } : {}) },
    },
    durableObjectsPersist: join(work, 'do'),
    queueProducers: { LOADER_QUEUE: 'os-conductor-loader' },
    ...(options.consumer === false
      ? {}
      : {
          queueConsumers: {
            'os-conductor-loader': { maxBatchSize: 1, maxBatchTimeout: 1, maxRetries: 10, deadLetterQueue: 'os-conductor-loader-dlq' },
          },
        }),
  });
  await mf.ready;
  await waitUp(`${url}/package/status`, () => true);
  return {
    url,
    rootPid: process.pid,
    workerdPid: workerdWithInspector(inspectorPort),
    inspectorPort,
    stop: () => mf.dispose(),
  };
}
