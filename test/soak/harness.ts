/**
 * The fault soak's machinery: a queue driver that delivers loader messages
 * the way Cloudflare Queues does (at least once, retries counted in
 * `attempts`, dead-letter queue after max_retries), an env whose Durable
 * Object binding and queue producer fail on cue, and the switches of the
 * fault proxies in front of Postgres and S3 (tools/services/ws-proxy.ts,
 * tools/services/s3-faults.ts).
 */
import { env } from 'cloudflare:workers';
import { createExecutionContext, createMessageBatch, getQueueResult } from 'cloudflare:test';
import type { Env } from '../../src/env.ts';
import { handleLoaderBatch } from '../../src/queue/consumer.ts';
import type { LoaderMessage } from '../../src/queue/messages.ts';
import { callWith } from '../helpers/app.ts';
import type { Schedule } from './schedule.ts';

/** The search index the soak's loads mirror to (when OpenSearch runs). */
export const SOAK_INDEX = 'soak-packages';

/** wrangler.toml's max_retries: a message is delivered at most this + 1 times, then dead-lettered. */
export const MAX_RETRIES = 10;
/** Deliveries after which a schedule is declared stuck. */
const MAX_DELIVERIES = 200;
/**
 * How long one delivery may take before the driver gives up on it and
 * retries the message, as the platform does with an invocation over its
 * limit (the hung one goes on in the background). Chunks hand on after
 * OS_LOADER_CHUNK_SECONDS (2 s here), so only a call without a timeout
 * gets near it.
 */
export const DELIVERY_DEADLINE_MS = 10_000;

interface Pending {
  id: string;
  body: unknown;
  attempts: number;
}

/** What happened to the messages of a schedule. */
export interface QueueLog {
  deliveries: number;
  /** Messages dead-lettered, by job. */
  deadLettered: string[];
  /** Stopped at MAX_DELIVERIES with messages left. */
  stuck: boolean;
  /** Deliveries that did not end within DELIVERY_DEADLINE_MS: number and the last status call before. */
  hung: Array<{ delivery: number; lastCall: string }>;
}

/** Injected failures count from 1 over the consumer's calls of each kind. */
export class FaultCounters {
  doCalls = 0;
  sends = 0;
  /** The consumer's last Durable Object call (method and status), to say where a hung delivery stopped. */
  lastCall = '';
  fired: string[] = [];
  constructor(readonly schedule: Schedule) {}
}

class SoakFault extends Error {
  constructor(what: string) {
    super(`soak fault: ${what}`);
    this.name = 'SoakFault';
  }
}

/**
 * The loader queue as the consumer sees it. `producer` records sends (the
 * upload's and the consumer's); `run` delivers until nothing is left.
 */
export class QueueDriver {
  private pending: Pending[] = [];
  private last = new Map<string, Pending>();
  readonly log: QueueLog = { deliveries: 0, deadLettered: [], stuck: false, hung: [] };

  /** The producer for the upload path (never fails). */
  readonly uploads = this.producer(null);

  /** The dead-letter queue, for a consumer that parks given-up messages itself (LOADER_DLQ). */
  readonly deadLetters = {
    send: async (body: unknown) => {
      this.log.deadLettered.push(jobOf(body));
    },
    sendBatch: async () => undefined,
  } as unknown as Queue<unknown>;

  constructor(
    private readonly rng: () => number,
    private readonly lastCall: () => string = () => '',
  ) {}

  /** A producer; with counters, the consumer's, failing the scheduled sends. */
  producer(counters: FaultCounters | null): Queue<unknown> {
    const push = (body: unknown) => {
      if (counters) {
        const n = ++counters.sends;
        if (counters.schedule.sendFaults.includes(n)) {
          counters.fired.push(`send-error@${n}`);
          throw new SoakFault('queue send failed');
        }
      }
      this.pending.push({ id: crypto.randomUUID(), body, attempts: 1 });
    };
    return {
      send: async (body: unknown) => push(body),
      sendBatch: async (messages: Iterable<MessageSendRequest<unknown>>) => {
        for (const m of messages) push(m.body);
      },
    } as unknown as Queue<unknown>;
  }

  /** One delivery of one message; true when the queue considers it acknowledged. */
  private async deliverOnce(e: Env, m: Pending): Promise<boolean> {
    const batch = createMessageBatch<unknown>('os-conductor-loader', [
      { id: m.id, timestamp: Date.now(), attempts: m.attempts, body: m.body },
    ]);
    const ctx = createExecutionContext();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const deadline = new Promise<'hung'>((resolve) => {
      timer = setTimeout(() => resolve('hung'), DELIVERY_DEADLINE_MS);
    });
    try {
      const ended = await Promise.race([handleLoaderBatch(batch, e, ctx), deadline]);
      if (ended === 'hung') {
        this.log.hung.push({ delivery: this.log.deliveries, lastCall: this.lastCall() });
        return false;
      }
    } catch {
      return false; // a throwing handler retries the whole batch
    } finally {
      clearTimeout(timer);
    }
    const result = await getQueueResult(batch, ctx);
    if (result.retryBatch.retry || result.retryMessages.length > 0) return false;
    return true; // acked explicitly, or implicitly by a handler that returned
  }

  private retry(m: Pending): void {
    if (m.attempts > MAX_RETRIES) {
      this.log.deadLettered.push(jobOf(m.body));
      return;
    }
    // A retry comes back after a delay: other messages go first.
    this.pending.push({ ...m, attempts: m.attempts + 1 });
  }

  /**
   * Delivers until the queue is empty; `before(n)` runs before the n-th
   * delivery (1-based) and the schedule's delivery faults strike there.
   */
  async run(e: Env, schedule: Schedule, before: (n: number) => Promise<void>): Promise<void> {
    for (;;) {
      const m = this.pending.shift();
      if (!m) break;
      if (this.log.deliveries >= MAX_DELIVERIES) {
        this.log.stuck = true;
        break;
      }
      const n = ++this.log.deliveries;
      await before(n);
      const fault = schedule.deliveries.find((d) => d.at === n);
      this.last.set(jobOf(m.body), m);
      if (fault?.kind === 'crash-before') {
        this.retry(m);
        continue;
      }
      if (fault?.kind === 'duplicate-concurrent') {
        const copy = { ...m };
        const [a, b] = await Promise.all([this.deliverOnce(e, m), this.deliverOnce(e, copy)]);
        if (!a) this.retry(m);
        if (!b) this.retry(copy);
        continue;
      }
      const acked = await this.deliverOnce(e, m);
      if (!acked || fault?.kind === 'ack-lost') this.retry(m);
      // A second copy of the message (an alarm's resend, a queue duplicate), delivered later.
      if (fault?.kind === 'duplicate-later') this.pending.push({ id: crypto.randomUUID(), body: m.body, attempts: 1 });
      // Cloudflare Queues does not promise order: sometimes the newest message goes first.
      if (this.pending.length > 1 && this.rng() < 0.2) this.pending.unshift(this.pending.pop() as Pending);
    }
  }

  /** Queues the last delivered message of every job once more. */
  repeatLast(): void {
    for (const m of this.last.values()) this.pending.push({ id: crypto.randomUUID(), body: m.body, attempts: 1 });
  }
}

function jobOf(body: unknown): string {
  return String((body as Partial<LoaderMessage>).job);
}

/**
 * The Durable Object namespace with the schedule's failing calls: `before`
 * throws without calling (the request was lost), `after` calls and then
 * throws (the reply was lost).
 */
export function faultyStatusBinding(ns: Env['PACKAGE_STATUS'], counters: FaultCounters): Env['PACKAGE_STATUS'] {
  const wrapStub = (stub: object) =>
    new Proxy(stub, {
      get(target, prop) {
        const value = (target as Record<string | symbol, unknown>)[prop];
        if (prop === 'then' || typeof value !== 'function') return value;
        return async (...args: unknown[]) => {
          const n = ++counters.doCalls;
          counters.lastCall = `${String(prop)}${typeof args[1] === 'string' ? ` ${args[1]}` : ''}`;
          const fault = counters.schedule.doFaults.find((f) => f.call === n);
          if (fault?.when === 'before') {
            counters.fired.push(`do-error-before@${n} ${String(prop)}`);
            throw new SoakFault(`Durable Object call ${String(prop)} failed`);
          }
          const result: unknown = await Reflect.apply(value as (...a: unknown[]) => Promise<unknown>, target, args);
          if (fault?.when === 'after') {
            counters.fired.push(`do-error-after@${n} ${String(prop)}`);
            throw new SoakFault(`Durable Object call ${String(prop)}: reply lost`);
          }
          return result;
        };
      },
    });
  return new Proxy(ns, {
    get(target, prop) {
      if (prop === 'get') return (...args: Parameters<typeof ns.get>) => wrapStub(target.get(...args));
      const value = (target as unknown as Record<string | symbol, unknown>)[prop];
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}

function soakBinding(name: 'OS_TEST_SOAK_S3_PORT' | 'OS_TEST_SOAK_DB_PROXY'): string {
  const value = env[name];
  if (!value) throw new Error(`${name} is not bound: the soak's fault proxies did not start (test/services.ts)`);
  return value;
}

/** Sets the fault plans of the proxies; answers how many of the previous plan's faults fired. */
export async function setProxyFaults(schedule: Pick<Schedule, 'dbDrops' | 's3Faults'> | null): Promise<number> {
  const db = await fetch(`http://${soakBinding('OS_TEST_SOAK_DB_PROXY')}/__faults`, {
    method: 'POST',
    body: JSON.stringify({ drops: schedule?.dbDrops ?? [] }),
  });
  const s3 = await fetch(`http://127.0.0.1:${soakBinding('OS_TEST_SOAK_S3_PORT')}/__faults`, {
    method: 'POST',
    body: JSON.stringify({ faults: schedule?.s3Faults ?? [] }),
  });
  const a = (await db.json()) as { fired: number };
  const b = (await s3.json()) as { fired: number };
  return a.fired + b.fired;
}

/** The envs of one schedule: the upload path's (clean database) and the consumer's (every fault). */
export function soakEnvs(schedule: Schedule, driver: QueueDriver, counters: FaultCounters): { upload: Env; consumer: Env } {
  const base = {
    ...env,
    // Upload URLs (and so every read of the loader) go through the S3 fault proxy.
    OS_S3_PORT: soakBinding('OS_TEST_SOAK_S3_PORT'),
    OS_LOADER_CHUNK_ROWS: String(schedule.chunkRows),
    OS_LOADER_BATCH_ROWS: String(schedule.batchRows),
    // Short enough that a slow read hands on by time.
    OS_LOADER_CHUNK_SECONDS: '2',
    // With an OpenSearch node (CI), loads mirror to an index of the soak's own.
    ...(env.OS_TEST_ELASTICSEARCH_URL
      ? { OS_ELASTICSEARCH_ADDRESS: env.OS_TEST_ELASTICSEARCH_URL, OS_ES_PACKAGES_INDEX_NAME: SOAK_INDEX }
      : {}),
  } as Env;
  return {
    upload: { ...base, LOADER_QUEUE: driver.uploads },
    consumer: {
      ...base,
      OS_DB_WS_PROXY: soakBinding('OS_TEST_SOAK_DB_PROXY'),
      LOADER_QUEUE: driver.producer(counters),
      // Where a consumer that parks given-up messages itself sends them.
      LOADER_DLQ: driver.deadLetters,
      PACKAGE_STATUS: faultyStatusBinding(env.PACKAGE_STATUS, counters),
    } as Env,
  };
}

/** POST /package/upload through the real route; its JSON answer. */
export async function uploadWith(e: Env, url: string, token: string): Promise<Record<string, unknown>> {
  const res = await callWith(e, `/package/upload?datapackage=${encodeURIComponent(url)}&jwt=${encodeURIComponent(token)}`, {
    method: 'POST',
  });
  if (res.status !== 200) throw new Error(`upload: HTTP ${res.status}`);
  return (await res.json()) as Record<string, unknown>;
}
