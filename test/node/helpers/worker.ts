/**
 * Runs the Worker on a real loopback port from Node tests (wrangler's
 * unstable_startWorker: the same bundling and workerd as `wrangler dev`),
 * with the bindings of the test setup. Reusable by any node test that needs
 * the service at a real URL (a browser, a CLI, another process).
 */
import { unstable_readConfig, unstable_startWorker } from 'wrangler';

export interface RunningWorker {
  /** Base URL without trailing slash, e.g. http://127.0.0.1:41234 (also the Worker's OS_BASE_URL). */
  url: string;
  stop(): Promise<void>;
}

/**
 * Starts the Worker at `baseUrl` (loopback, explicit port). Every string in
 * `bindings` becomes a plain-text var; OS_BASE_URL is set to `baseUrl`.
 */
export async function startWorker(options: { baseUrl: string; bindings: Record<string, string> }): Promise<RunningWorker> {
  const base = new URL(options.baseUrl);
  const vars: Record<string, { type: 'plain_text'; value: string }> = {};
  for (const [k, v] of Object.entries({ ...options.bindings, OS_BASE_URL: base.origin })) {
    vars[k] = { type: 'plain_text', value: v };
  }
  // Passed explicitly: startWorker does not take them from the file when other options are given.
  const file = unstable_readConfig({ config: 'wrangler.toml' });
  const worker = await unstable_startWorker({
    config: 'wrangler.toml',
    compatibilityDate: file.compatibility_date,
    compatibilityFlags: file.compatibility_flags,
    // nodejs_compat on a 2024+ compatibility date; wrangler dev derives this itself, startWorker does not.
    build: { nodejsCompatMode: 'v2' },
    bindings: vars,
    dev: {
      server: { hostname: base.hostname, port: Number(base.port) },
      inspector: false,
      persist: false,
      watch: false,
      liveReload: false,
      logLevel: (process.env.OS_TEST_WORKER_LOG_LEVEL as 'warn' | undefined) ?? 'warn',
      remote: false,
    },
  });
  await worker.ready;
  return { url: base.origin, stop: () => worker.dispose() };
}

declare module 'vitest' {
  export interface ProvidedContext {
    /** Worker bindings from test/global-setup.ts. */
    bindings: Record<string, string>;
  }
}
