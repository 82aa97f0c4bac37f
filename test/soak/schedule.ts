/**
 * The fault soak's schedules: a seed -> which package is loaded and which
 * faults strike where. Pure (no I/O), so a failing seed replays the same
 * schedule (the timing of a dropped connection relative to Postgres's reply
 * can still differ between runs).
 */

/** mulberry32: a small, fast, seedable PRNG (uniform in [0, 1)). */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export type Rng = () => number;

export function int(rng: Rng, lo: number, hi: number): number {
  return lo + Math.floor(rng() * (hi - lo + 1));
}

export function pick<T>(rng: Rng, items: readonly T[]): T {
  return items[Math.floor(rng() * items.length)] as T;
}

/** What a delivery fault does to the `at`-th delivery of the schedule (1-based). */
export type DeliveryFault =
  /** The same message delivered twice at once (two consumers). */
  | { kind: 'duplicate-concurrent'; at: number }
  /** The same message delivered again after this delivery (an alarm resend, a queue duplicate). */
  | { kind: 'duplicate-later'; at: number }
  /** The consumer finished (committed) but died before its ack: the queue retries it. */
  | { kind: 'ack-lost'; at: number }
  /** The consumer died before doing anything: the queue retries it. */
  | { kind: 'crash-before'; at: number };

/** Which upload's data: the generated CSV, a new version of it, or an empty file. */
export type DataKind = 'csv' | 'new-csv' | 'zero-bytes' | 'header-only';

export interface Schedule {
  seed: number;
  /** A generated CSV (packager-example's schema) or the real uk-cra fixture (2,000 rows). */
  fixture: 'generated' | 'uk-cra';
  /** Data rows of the generated CSV. */
  rows: number;
  chunkRows: number;
  batchRows: number;
  /** A previous version loaded (fault-free) before the faulted upload. */
  preload: boolean;
  /** The faulted upload's data. */
  data: DataKind;
  /** A second upload of the same package while the first runs. */
  concurrent: null | { atDelivery: number; spelling: 'same' | 'query'; data: DataKind };
  deliveries: DeliveryFault[];
  /** Deliver the last message of every job again after the queue is empty. */
  duplicateLast: boolean;
  /** Dropped Postgres connections (of the consumer's connections, counted from 1). */
  dbDrops: Array<{ connection: number; afterFrames: number; mode: 'close' | 'reset' }>;
  /** Spoiled S3 reads (of the consumer's GET/HEAD requests, counted from 1). */
  s3Faults: Array<{ read: number; kind: '503' | 'slow' | 'reset'; delayMs?: number }>;
  /** Failing Durable Object calls of the consumer (counted from 1): before the call, or after it (reply lost). */
  doFaults: Array<{ call: number; when: 'before' | 'after' }>;
  /** Failing LOADER_QUEUE.send calls of the consumer (counted from 1). */
  sendFaults: number[];
}

/** The schedule of `seed`. */
export function scheduleFor(seed: number): Schedule {
  const rng = prng(seed);
  const fixture = rng() < 0.04 ? 'uk-cra' : 'generated';
  const rows = fixture === 'uk-cra' ? 2000 : int(rng, 300, 1500);
  const chunkRows = fixture === 'uk-cra' ? 700 : pick(rng, [150, 250, 400]);
  const messages = Math.ceil(rows / chunkRows);
  const s: Schedule = {
    seed,
    fixture,
    rows,
    chunkRows,
    batchRows: 50,
    preload: rng() < 0.4,
    data: rng() < 0.1 ? pick(rng, ['zero-bytes', 'header-only'] as const) : 'csv',
    concurrent: null,
    deliveries: [],
    duplicateLast: false,
    dbDrops: [],
    s3Faults: [],
    doFaults: [],
    sendFaults: [],
  };
  // One to three faults; every kind is as likely.
  const faults = int(rng, 1, 3);
  // Delivery 1 is the first message; a middle one lies within the load's messages.
  const at = () => (rng() < 0.35 ? 1 : int(rng, 2, Math.max(2, messages)));
  for (let i = 0; i < faults; i++) {
    switch (int(rng, 0, 8)) {
      case 0:
        s.deliveries.push({ kind: 'duplicate-concurrent', at: at() });
        break;
      case 1:
        s.deliveries.push({ kind: 'duplicate-later', at: at() });
        break;
      case 2:
        s.deliveries.push({ kind: rng() < 0.5 ? 'ack-lost' : 'crash-before', at: at() });
        break;
      case 3:
        s.duplicateLast = true;
        break;
      case 4:
        // A vanished peer (no close frame) is rarer, and costs a delivery deadline when nothing times out.
        s.dbDrops.push({
          connection: int(rng, 1, messages + 1),
          afterFrames: int(rng, 1, 40),
          mode: rng() < 0.06 ? 'reset' : 'close',
        });
        break;
      case 5: {
        const kind = pick(rng, ['503', 'slow', 'reset'] as const);
        s.s3Faults.push({ read: int(rng, 1, messages + 2), kind, ...(kind === 'slow' ? { delayMs: int(rng, 20, 150) } : {}) });
        break;
      }
      case 6:
        s.doFaults.push({ call: int(rng, 1, 12 + messages * 3), when: rng() < 0.5 ? 'before' : 'after' });
        break;
      case 7:
        s.sendFaults.push(int(rng, 1, messages));
        break;
      case 8:
        s.concurrent = {
          atDelivery: int(rng, 1, messages + 1),
          spelling: rng() < 0.5 ? 'same' : 'query',
          data: rng() < 0.15 ? 'header-only' : pick(rng, ['csv', 'new-csv'] as const),
        };
        break;
    }
  }
  return s;
}

/** A short description of a schedule for reports. */
export function describeSchedule(s: Schedule): string {
  const parts = [`${s.fixture}${s.fixture === 'generated' ? ` ${s.rows} rows` : ''}`, `chunk ${s.chunkRows}`];
  if (s.preload) parts.push('preloaded');
  if (s.data !== 'csv') parts.push(`data ${s.data}`);
  for (const d of s.deliveries) parts.push(`${d.kind}@${d.at}`);
  if (s.duplicateLast) parts.push('duplicate-last');
  for (const d of s.dbDrops) parts.push(`db-${d.mode} conn ${d.connection} frame ${d.afterFrames}`);
  for (const f of s.s3Faults) parts.push(`s3-${f.kind}@read ${f.read}`);
  for (const f of s.doFaults) parts.push(`do-error-${f.when}@call ${f.call}`);
  for (const n of s.sendFaults) parts.push(`send-error@${n}`);
  if (s.concurrent) parts.push(`concurrent-upload(${s.concurrent.spelling}, ${s.concurrent.data})@${s.concurrent.atDelivery}`);
  return parts.join(', ');
}

const NAMES = ['Angola', 'Aruba', 'Bonaire, Sint Eustatius and Saba', "Côte d'Ivoire", 'Say "hi"', 'Österreich'];

/** A generated CSV with packager-example's columns (date, money, id, name); `variant` gives other values. */
export function generatedCsv(seed: number, variant: number, rows: number): { text: string; values: Array<[string, string]> } {
  const rng = prng(seed * 31 + variant * 7919 + 1);
  const lines = ['date,money,id,name'];
  const values: Array<[string, string]> = [];
  const day0 = Date.UTC(2013, 0, 1);
  for (let i = 0; i < rows; i++) {
    const date = new Date(day0 + int(rng, 0, 1400) * 86_400_000).toISOString().slice(0, 10);
    const money = `${int(rng, 0, 99_999)}.${String(int(rng, 0, 99)).padStart(2, '0')}`;
    const name = pick(rng, NAMES);
    const quoted = /[",]/.test(name) ? `"${name.replace(/"/g, '""')}"` : name;
    lines.push(`${date},${money},${String.fromCharCode(97 + int(rng, 0, 25), 97 + int(rng, 0, 25))},${quoted}`);
    values.push([date, money]);
  }
  return { text: lines.join('\n') + '\n', values };
}
