import type { PackageStatus } from './durable/package-status.ts';

/**
 * The Worker's bindings. Every OS_* setting arrives as a string var or
 * secret (wrangler.toml [vars], `wrangler secret put`, `.dev.vars`/.env
 * locally); `src/config.ts` validates them.
 */
export interface Env {
  PACKAGE_STATUS: DurableObjectNamespace<PackageStatus>;
  LOADER_QUEUE: Queue<unknown>;
  /** The loader's dead-letter queue: messages given up after MAX_ATTEMPTS (src/queue/consumer.ts). */
  LOADER_DLQ?: Queue<unknown>;
  [setting: `OS_${string}`]: string | undefined;
}
