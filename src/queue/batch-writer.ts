/**
 * Writes a load's rows in batches, each committed with its checkpoint in one
 * transaction (see src/jobs/checkpoint.ts): a batch's rows exist exactly when
 * the job's byte offset and row count say so.
 *
 * With COPY (the default) a batch is one message on the connection
 * (BEGIN; checkpoint; COPY …; COMMIT, copy-in.ts), its rows kept as COPY
 * bytes as they are added (written by the loader's fast path, or encoded
 * from cast rows); a full batch is cut as rows arrive and sent by the next
 * sendSealed() or flush(), in order. Up to MAX_IN_FLIGHT
 * batches are on the wire at once, written without waiting for the
 * previous one's answer, so Postgres starts the next as soon as one commits
 * even when it is a round trip away, while the parser prepares the one
 * after; if one fails, the next fails too (its checkpoint no longer
 * matches) and nothing later commits.
 */
import type { Client } from '@neondatabase/serverless';
import { transaction } from '../db/client.ts';
import { checkpointSql, isCheckpointMoved } from '../jobs/checkpoint.ts';
import { CopyBuffer } from '../loader/copy-bytes.ts';
import { copyLine, copyRows } from './copy-in.ts';
import { CheckpointConflictError } from './errors.ts';
import type { PreparedLoad } from './plan.ts';

/**
 * Batch writes on the connection at once. Enough to cover a round trip of
 * tens of milliseconds (a batch of 5,000 rows is ≈ 30 ms of parsing here and
 * ≈ 620 KB on the wire); each one's bytes are handed to the connection when
 * sent, so the isolate holds no more rows for it.
 */
const MAX_IN_FLIGHT = 4;

/** Where a job's committed data ends. */
export interface Position {
  /** Byte offset in the data file after the last committed row. */
  offset: number;
  rows: number;
}

export interface BatchWriterOptions {
  db: Client;
  jobId: string;
  plan: PreparedLoad;
  method: 'copy' | 'unnest';
  /** Rows per batch (OS_LOADER_BATCH_ROWS). */
  batchRows: number;
  /** The job's checkpoint when this delivery started. */
  start: Position;
  /** Called in order after each batch commits. */
  committed: (at: Position) => Promise<void>;
}

/** A batch cut and not yet sent: its COPY bytes (or, with unnest, its rows) and where it leaves the checkpoint. */
interface Sealed {
  data: Uint8Array | null;
  rows: Array<Array<string | null>>;
  to: Position;
}

const ENCODER = new TextEncoder();

export class BatchWriter {
  /** With unnest: the rows added and not yet cut into a batch. */
  private rows: Array<Array<string | null>> = [];
  /** With COPY: the batch's bytes so far; rows added as text wait in `lines` until bytes follow or the batch is cut. */
  private copy: CopyBuffer | null;
  private lines: string[] = [];
  private count = 0;
  /** Byte offset after the last row added. */
  private end: number;
  /** Where the last batch cut will leave the checkpoint. */
  private cut: Position;
  /** Where the last batch sent will leave the checkpoint. */
  private sent: Position;
  private sealed: Sealed[] = [];
  private readonly inFlight: Array<Promise<void>> = [];
  /** The first failed write: nothing more is sent after it (it could not commit anyway). */
  private failure: { error: unknown } | null = null;
  /** Time spent waiting for the database before a batch could be sent (it was the bottleneck). */
  waitedMs = 0;
  /** When the last batch was sent. */
  lastSentAt = Date.now();
  /** Batches sent so far. */
  sends = 0;

  constructor(private readonly options: BatchWriterOptions) {
    this.end = options.start.offset;
    this.sent = { ...options.start };
    this.cut = { ...options.start };
    this.copy = options.method === 'copy' ? new CopyBuffer() : null;
  }

  /** Rows added and not yet cut into a batch. */
  get pending(): number {
    return this.count;
  }

  /** A batch's worth of rows is pending: time to flush(). */
  get full(): boolean {
    return this.count >= this.options.batchRows;
  }

  /** Where the checkpoint will be once everything sent has committed. */
  get position(): Position {
    return this.sent;
  }

  /** Adds one cast row that ends at byte `end` of the file; `plainText` as ParsedRow.plain. */
  add(row: Array<string | null>, end: number, plainText = false): void {
    const { plan } = this.options;
    if (this.copy) this.lines.push(copyLine(row, plainText ? plan.copyPlainInPlainRow : plan.copyPlain));
    else this.rows.push(row);
    this.count++;
    this.end = end;
  }

  /**
   * With COPY: the buffer the next row's COPY line is written into (by a
   * row transcoder), then announced with `added`; null with unnest.
   */
  buffer(): CopyBuffer | null {
    if (this.copy && this.lines.length > 0) this.encodeLines(this.copy);
    return this.copy;
  }

  /** A row written into `buffer()` that ends at byte `end`; cuts a batch once a batch's worth is pending. */
  added(end: number): void {
    this.count++;
    this.end = end;
    if (this.full) this.seal();
  }

  /** Drops the rows added and the batches cut and not yet sent (a load that met bad data writes no more). */
  discard(): void {
    this.rows = [];
    this.lines = [];
    if (this.copy) this.copy = new CopyBuffer();
    this.count = 0;
    this.sealed = [];
    this.end = this.sent.offset;
    this.cut = { ...this.sent };
  }

  /** Sends the rows added so far as one batch, after the batches cut before (waiting while MAX_IN_FLIGHT are in flight). */
  async flush(): Promise<void> {
    this.seal();
    await this.sendSealed();
  }

  /** Sends the batches cut and not yet sent, in order. */
  async sendSealed(): Promise<void> {
    for (let batch = this.sealed.shift(); batch; batch = this.sealed.shift()) {
      const from = this.sent.offset;
      const waitFrom = Date.now();
      while (this.inFlight.length >= MAX_IN_FLIGHT) await this.inFlight.shift();
      this.waitedMs += Date.now() - waitFrom;
      if (this.failure) throw this.failure.error;
      const to = batch.to;
      const write = this.write(batch, checkpointSql(this.options.jobId, from, to.offset, to.rows)).then(
        () => this.options.committed(to),
        (error: unknown) => {
          this.failure ??= { error };
          throw error;
        },
      );
      write.catch(() => undefined); // awaited in order by settle(); not an unhandled rejection meanwhile
      this.inFlight.push(write);
      this.sent = to;
      this.sends++;
      this.lastSentAt = Date.now();
    }
  }

  /** Sends what is left and waits until every batch has committed (the first error is thrown). */
  async settle(): Promise<void> {
    await this.flush();
    while (this.inFlight.length > 0) await this.inFlight.shift();
  }

  /** Waits for the batches in flight without throwing (before another error propagates). */
  async abandon(): Promise<void> {
    await Promise.allSettled(this.inFlight);
  }

  /** Cuts the rows pending into a batch to send. */
  private seal(): void {
    if (this.count === 0) return;
    const to: Position = { offset: this.end, rows: this.cut.rows + this.count };
    let data: Uint8Array | null = null;
    if (this.copy) {
      if (this.lines.length > 0) this.encodeLines(this.copy);
      data = this.copy.view();
      // The next batch starts with room for one like this one.
      this.copy = new CopyBuffer(Math.ceil(data.length * 1.1) + 1024);
    }
    this.sealed.push({ data, rows: this.rows, to });
    this.rows = [];
    this.count = 0;
    this.cut = to;
  }

  /** Appends the text rows' lines to the COPY bytes (one encoding for a run of them). */
  private encodeLines(into: CopyBuffer): void {
    into.append(ENCODER.encode(this.lines.join('')));
    this.lines = [];
  }

  private async write(batch: Sealed, checkpoint: string): Promise<void> {
    const { db, plan } = this.options;
    try {
      if (batch.data) {
        await copyRows(db, plan.copySql, batch.data, { before: ['BEGIN', checkpoint], after: ['COMMIT'] }).catch(async (err: unknown) => {
          // A failed message leaves its transaction aborted (transaction() rolls back the other path itself).
          await db.query('ROLLBACK').catch(() => undefined);
          throw err;
        });
      } else {
        await transaction(db, async () => {
          await db.query(checkpoint);
          await db.query(plan.insertSql, plan.toColumns(batch.rows));
        });
      }
    } catch (err) {
      throw isCheckpointMoved(err) ? new CheckpointConflictError() : err;
    }
  }
}
