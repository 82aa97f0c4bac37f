/**
 * The `PackageStatus` Durable Object: the load status of one datapackage,
 * one object per status key (the datapackage URL exactly as given to
 * /package/upload, via `idFromName`). State lives in the object's SQLite
 * storage, so it survives restarts and evictions; nothing is kept in memory.
 *
 * The same class also serves as the alias index: an object named by an
 * alias key (a normalised URL or a package id, see `status-keys.ts`) holds
 * only a pointer to the canonical key.
 *
 * The status is the live view of a load job, whose record is Postgres
 * (src/jobs/lifecycle.ts). Every update names the job (one upload) it
 * belongs to, so a stale message of a superseded upload can never overwrite
 * the status of the newer one; a refused update tells the loader nothing
 * about its job. The alarm is the job's lease: a silent job is kicked, and
 * a job silent for too long is ended in Postgres and then here.
 */
import { DurableObject } from 'cloudflare:workers';
import { getConfig } from '../config.ts';
import { withDb } from '../db/client.ts';
import type { Env } from '../env.ts';
import { closeJob } from '../jobs/lifecycle.ts';
import type { DialectView } from '../loader/dialect.ts';
import type { LoaderMessage } from '../queue/messages.ts';
import { canTransition, isLoadStatus, TERMINAL, type LoadStatus } from './status-machine.ts';
import { HEARTBEAT, resumeFrom, STREAM_PREAMBLE, eventId, fanoutIntervalMs, statusEvent, type StatusSnapshot } from './status-stream.ts';

/**
 * What /package/status reports (plus bookkeeping the loader reads):
 * `progress` is records loaded so far (README definition), `total` the
 * records when known, `fraction` the 0..1 share of the work done when known,
 * `dialect` the CSV dialect once the first chunk has read the file, `steps`
 * the milliseconds spent in each step so far.
 */
export interface StatusView extends StatusSnapshot {
  key: string;
  job: string;
}

/** Fields a status update may change besides the status itself. */
export interface StatusPatch {
  progress?: number;
  total?: number | null;
  fraction?: number | null;
  error?: string | null;
  dialect?: DialectView;
  /** Bytes of the data file read so far and its size (shown only in the event stream). */
  bytes?: number;
  bytesTotal?: number | null;
}

/** The result of an update: applied, or refused with the current state. */
export interface AdvanceResult {
  ok: boolean;
  current: StatusView | null;
}

interface Row extends Record<string, SqlStorageValue> {
  key: string;
  job: string;
  status: string;
  progress: number;
  total: number | null;
  fraction: number | null;
  error: string | null;
  dialect: string | null;
  steps: string;
  started_at: number;
  updated_at: number;
  step_started_at: number;
  seq: number;
  bytes: number | null;
  bytes_total: number | null;
}

/** One open event stream. */
interface Watcher {
  writer: WritableStreamDefaultWriter<Uint8Array>;
  /** Id of the last event written to it. */
  sent: string | null;
}

/** Longest error message kept (tracebacks and row dumps are cut). */
const MAX_ERROR = 2000;

/** When a stalled job could not be ended in Postgres, the next try. */
const STALL_RETRY_MS = 60_000;


/** Open streams one object serves at most (each holds a small write queue). */
const MAX_WATCHERS = 5000;

const encoder = new TextEncoder();

export class PackageStatus extends DurableObject<Env> {
  private readonly sql: SqlStorage;
  /** Open event streams (in memory: a stream lives no longer than this instance). */
  private readonly watchers = new Set<Watcher>();
  private fanoutTimer: ReturnType<typeof setTimeout> | null = null;
  private heartbeatTimer: ReturnType<typeof setInterval> | null = null;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    this.sql.exec(`CREATE TABLE IF NOT EXISTS load_status (
      id INTEGER PRIMARY KEY CHECK (id = 1),
      key TEXT NOT NULL, job TEXT NOT NULL, status TEXT NOT NULL,
      progress INTEGER NOT NULL, total INTEGER, fraction REAL, error TEXT, dialect TEXT,
      steps TEXT NOT NULL, started_at INTEGER NOT NULL, updated_at INTEGER NOT NULL,
      step_started_at INTEGER NOT NULL)`);
    // Added after the first release: objects created before have no such column.
    const columns = this.sql.exec<{ name: string }>('PRAGMA table_info(load_status)').toArray();
    const has = (name: string) => columns.some((c) => c.name === name);
    if (!has('dialect')) this.sql.exec('ALTER TABLE load_status ADD COLUMN dialect TEXT');
    if (!has('seq')) this.sql.exec('ALTER TABLE load_status ADD COLUMN seq INTEGER NOT NULL DEFAULT 0');
    if (!has('bytes')) this.sql.exec('ALTER TABLE load_status ADD COLUMN bytes INTEGER');
    if (!has('bytes_total')) this.sql.exec('ALTER TABLE load_status ADD COLUMN bytes_total INTEGER');
    this.sql.exec('CREATE TABLE IF NOT EXISTS alias (id INTEGER PRIMARY KEY CHECK (id = 1), target TEXT NOT NULL)');
  }

  private stallMs(): number {
    return getConfig(this.env).OS_LOADER_STALL_TIMEOUT * 1000;
  }

  private kickMs(): number {
    return Math.min(getConfig(this.env).OS_LOADER_KICK_AFTER * 1000, this.stallMs());
  }

  private row(): Row | null {
    const rows = this.sql.exec<Row>('SELECT * FROM load_status WHERE id = 1').toArray();
    return rows[0] ?? null;
  }

  private view(row: Row | null): StatusView | null {
    if (!row || !isLoadStatus(row.status)) return null;
    return {
      key: row.key,
      job: row.job,
      status: row.status,
      progress: row.progress,
      total: row.total,
      fraction: row.fraction,
      error: row.error,
      dialect: row.dialect === null ? null : (JSON.parse(row.dialect) as DialectView),
      steps: JSON.parse(row.steps) as StatusView['steps'],
      startedAt: row.started_at,
      updatedAt: row.updated_at,
      seq: row.seq,
      bytes: row.bytes,
      bytesTotal: row.bytes_total,
      stepStartedAt: row.step_started_at,
    };
  }

  /** The current status, or null when this key was never used. */
  async read(): Promise<StatusView | null> {
    return this.view(this.row());
  }

  /** The canonical key this alias points to, or null. */
  async aliasTarget(): Promise<string | null> {
    const rows = this.sql.exec<{ target: string }>('SELECT target FROM alias WHERE id = 1').toArray();
    return rows[0]?.target ?? null;
  }

  /** Points this alias at a canonical key (the latest upload wins). */
  async setAlias(target: string): Promise<void> {
    this.sql.exec('INSERT OR REPLACE INTO alias (id, target) VALUES (1, ?)', target);
  }

  /** A new upload: status `queued` for `job`, whatever came before. */
  async start(key: string, job: string): Promise<StatusView> {
    const now = Date.now();
    this.sql.exec(
      `INSERT OR REPLACE INTO load_status
       (id, key, job, status, progress, total, fraction, error, steps, started_at, updated_at, step_started_at, seq)
       VALUES (1, ?, ?, 'queued', 0, NULL, 0, NULL, '{}', ?, ?, ?, 1)`,
      key,
      job,
      now,
      now,
      now,
    );
    await this.ctx.storage.setAlarm(now + this.kickMs());
    this.changed();
    return this.view(this.row()) as StatusView;
  }

  /**
   * Records a failure that happened before any load started (e.g. a URL
   * with a `..` step), but only when the key has no status yet. The Worker
   * calls it only for a key its caller owns (src/jobs/accept.ts).
   */
  async failIfAbsent(key: string, job: string, error: string): Promise<boolean> {
    if (this.row()) return false;
    const now = Date.now();
    this.sql.exec(
      `INSERT INTO load_status
       (id, key, job, status, progress, total, fraction, error, steps, started_at, updated_at, step_started_at, seq)
       VALUES (1, ?, ?, 'fail', 0, NULL, NULL, ?, '{}', ?, ?, ?, 1)`,
      key,
      job,
      error.slice(0, MAX_ERROR),
      now,
      now,
      now,
    );
    this.changed();
    return true;
  }

  /**
   * Moves `job` to `status` (or updates its progress), if the job is still
   * the current one and the status machine allows the move.
   */
  async advance(job: string, status: LoadStatus, patch: StatusPatch = {}): Promise<AdvanceResult> {
    return this.move(job, status, patch, false);
  }

  /**
   * Shows the end Postgres recorded for `job` (done, or fail with its
   * reason), from whatever step the status was left at, if the job is still
   * the current one and has not ended here yet.
   */
  async showEnd(job: string, status: 'done' | 'fail', patch: StatusPatch = {}): Promise<AdvanceResult> {
    return this.move(job, status, patch, true);
  }

  private async move(job: string, status: LoadStatus, patch: StatusPatch, ending: boolean): Promise<AdvanceResult> {
    const row = this.row();
    const current = this.view(row);
    const allowed = ending ? !TERMINAL.has(current?.status ?? 'done') : canTransition(current?.status ?? null, status);
    if (!row || !current || current.job !== job || !allowed || status === 'queued') {
      return { ok: false, current };
    }
    const now = Date.now();
    const steps = current.steps;
    steps[current.status] = (steps[current.status] ?? 0) + (now - row.step_started_at);
    const error = status === 'fail' ? (patch.error ?? current.error ?? 'load failed').slice(0, MAX_ERROR) : null;
    this.sql.exec(
      `UPDATE load_status SET status = ?, progress = ?, total = ?, fraction = ?, error = ?, dialect = ?, steps = ?,
       updated_at = ?, step_started_at = ?, seq = seq + 1, bytes = ?, bytes_total = ? WHERE id = 1`,
      status,
      patch.progress ?? current.progress,
      patch.total !== undefined ? patch.total : current.total,
      patch.fraction !== undefined ? patch.fraction : current.fraction,
      error,
      patch.dialect !== undefined ? JSON.stringify(patch.dialect) : row.dialect,
      JSON.stringify(steps),
      now,
      now,
      patch.bytes ?? row.bytes,
      patch.bytesTotal !== undefined ? patch.bytesTotal : row.bytes_total,
    );
    if (TERMINAL.has(status)) await this.ctx.storage.deleteAlarm();
    else await this.ctx.storage.setAlarm(now + this.kickMs());
    this.changed();
    return { ok: true, current: this.view(this.row()) };
  }

  /**
   * The live event stream of this status (the Worker has decided the caller
   * may see it): the current state first unless `Last-Event-ID` says it was
   * seen, then every change, coalesced, until done or fail.
   */
  override async fetch(request: Request): Promise<Response> {
    const view = this.view(this.row());
    if (!view) return Response.json({ error: 'no status' }, { status: 404 });
    const resume = resumeFrom(request.headers.get('Last-Event-ID'), view);
    if (resume === 'end') return new Response(null, { status: 204 });
    if (this.watchers.size >= MAX_WATCHERS) return Response.json({ error: 'too many watchers of this status' }, { status: 503 });
    const { readable, writable } = new TransformStream<Uint8Array, Uint8Array>();
    const watcher: Watcher = { writer: writable.getWriter(), sent: resume === 'wait' ? eventId(view) : null };
    this.write(watcher, encoder.encode(STREAM_PREAMBLE));
    if (resume === 'send') {
      watcher.sent = eventId(view);
      this.write(watcher, this.encode(view));
    }
    if (TERMINAL.has(view.status)) {
      watcher.writer.close().catch(() => undefined);
    } else {
      this.watchers.add(watcher);
      this.startHeartbeat();
    }
    return new Response(readable, {
      headers: { 'Content-Type': 'text/event-stream; charset=utf-8', 'Cache-Control': 'no-store' },
    });
  }

  private encode(view: StatusSnapshot): Uint8Array {
    return encoder.encode(statusEvent(view, getConfig(this.env).OS_STATUS_PROGRESS, Date.now()));
  }

  /** Queues bytes on a watcher without waiting; a closed stream drops it. */
  private write(watcher: Watcher, bytes: Uint8Array): void {
    watcher.writer.write(bytes).catch(() => this.drop(watcher));
  }

  private drop(watcher: Watcher): void {
    this.watchers.delete(watcher);
    watcher.writer.abort().catch(() => undefined);
    if (this.watchers.size === 0) this.stopTimers();
  }

  private stopTimers(): void {
    if (this.heartbeatTimer !== null) clearInterval(this.heartbeatTimer);
    if (this.fanoutTimer !== null) clearTimeout(this.fanoutTimer);
    this.heartbeatTimer = null;
    this.fanoutTimer = null;
  }

  private startHeartbeat(): void {
    if (this.heartbeatTimer !== null) return;
    const beat = encoder.encode(HEARTBEAT);
    this.heartbeatTimer = setInterval(() => {
      // A watcher still holding unsent bytes needs no keep-alive (and gets no more queued).
      for (const w of this.watchers) if ((w.writer.desiredSize ?? 1) > 0) this.write(w, beat);
    }, getConfig(this.env).OS_STATUS_STREAM_HEARTBEAT * 1000);
  }

  /**
   * A change was stored. Watchers get it later, in one batch for all of
   * them: the update that made it (the loader's call) returns first, and a
   * burst of progress ticks costs one event per fanoutIntervalMs. An end
   * goes out at once.
   */
  private changed(): void {
    if (this.watchers.size === 0) return;
    const status = this.row()?.status;
    const ending = status === 'done' || status === 'fail';
    if (this.fanoutTimer !== null) {
      if (!ending) return;
      clearTimeout(this.fanoutTimer);
    }
    this.fanoutTimer = setTimeout(() => this.fanOut(), ending ? 0 : fanoutIntervalMs(this.watchers.size));
  }

  private fanOut(): void {
    this.fanoutTimer = null;
    const view = this.view(this.row());
    if (!view) return;
    const id = eventId(view);
    const ending = TERMINAL.has(view.status);
    const bytes = this.encode(view);
    let lagging = false;
    for (const w of this.watchers) {
      if (w.sent === id) continue;
      // A slow reader is not queued more than one event: it gets the newest one once it has read.
      if (!ending && (w.writer.desiredSize ?? 1) <= 0) {
        lagging = true;
        continue;
      }
      w.sent = id;
      this.write(w, bytes);
      if (ending) {
        this.watchers.delete(w);
        w.writer.close().catch(() => undefined);
      }
    }
    if (this.watchers.size === 0) this.stopTimers();
    else if (lagging) this.fanoutTimer = setTimeout(() => this.fanOut(), fanoutIntervalMs(this.watchers.size));
  }

  /**
   * Liveness. A load silent for OS_LOADER_KICK_AFTER gets its job message
   * sent again (a lost or stuck delivery; the checkpoint makes a second
   * delivery harmless); one silent for OS_LOADER_STALL_TIMEOUT fails.
   */
  override async alarm(): Promise<void> {
    const current = this.view(this.row());
    if (!current || TERMINAL.has(current.status)) return;
    const now = Date.now();
    const silentMs = now - current.updatedAt;
    const limit = this.stallMs();
    if (silentMs + 50 >= limit) {
      const error = `load stalled: no progress for ${Math.round(silentMs / 1000)} s while ${current.status}`;
      try {
        // The job's record first (its deliveries stop at their next commit), staging table dropped.
        const job = await withDb(getConfig(this.env), (db) => closeJob(db, current.job, 'fail', error, getConfig(this.env).OS_LOADER_HISTORY_KEEP));
        if (job?.state === 'done') {
          // Committed, only its last status update was lost.
          const rows = job.rowsLoaded;
          await this.showEnd(current.job, 'done', { progress: rows, total: rows, fraction: 1 });
          return;
        }
        await this.showEnd(current.job, 'fail', { error: job?.error ?? error });
      } catch {
        // Postgres unreachable: the job is still running there; try again shortly.
        await this.ctx.storage.setAlarm(now + STALL_RETRY_MS);
      }
      return;
    }
    const kick = this.kickMs();
    if (silentMs + 50 >= kick && current.status !== 'queued') {
      const message: LoaderMessage = { kind: 'load', job: current.job };
      await this.env.LOADER_QUEUE.send(message).catch(() => undefined);
      await this.ctx.storage.setAlarm(Math.min(now + kick, current.updatedAt + limit));
      return;
    }
    await this.ctx.storage.setAlarm(Math.min(current.updatedAt + kick, current.updatedAt + limit));
  }
}
