/**
 * Writes a load's rows in batches, each committed with its checkpoint in one
 * transaction (see src/jobs/checkpoint.ts): a batch's rows exist exactly when
 * the job's byte offset and row count say so.
 *
 * With COPY (the default) a batch is one message on the connection
 * (BEGIN; checkpoint; COPY …; COMMIT, copy-in.ts). Up to MAX_IN_FLIGHT
 * batches are on the wire at once, written without waiting for the
 * previous one's answer, so Postgres starts the next as soon as one commits
 * even when it is a round trip away, while the parser prepares the one
 * after; if one fails, the next fails too (its checkpoint no longer
 * matches) and nothing later commits.
 */
import type { Client } from '@neondatabase/serverless';
import { transaction } from '../db/client.ts';
import { checkpointSql, isCheckpointMoved } from '../jobs/checkpoint.ts';
import { copyRows } from './copy-in.ts';
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
  /** The job's checkpoint when this delivery started. */
  start: Position;
  /** Called in order after each batch commits. */
  committed: (at: Position) => Promise<void>;
}

export class BatchWriter {
  private rows: Array<Array<string | null>> = [];
  /** Byte offset after the last row added. */
  private end: number;
  /** Where the last batch sent will leave the checkpoint. */
  private sent: Position;
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
  }

  /** Rows added and not yet sent. */
  get pending(): number {
    return this.rows.length;
  }

  /** Where the checkpoint will be once everything sent has committed. */
  get position(): Position {
    return this.sent;
  }

  /** Adds one cast row that ends at byte `end` of the file. */
  add(row: Array<string | null>, end: number): void {
    this.rows.push(row);
    this.end = end;
  }

  /** Drops the rows added and not yet sent (a load that met bad data writes no more). */
  discard(): void {
    this.rows = [];
    this.end = this.sent.offset;
  }

  /** Sends the rows added so far as one batch (waiting while two are in flight). */
  async flush(): Promise<void> {
    if (this.rows.length === 0) return;
    const rows = this.rows;
    this.rows = [];
    const from = this.sent.offset;
    const to: Position = { offset: this.end, rows: this.sent.rows + rows.length };
    const waitFrom = Date.now();
    while (this.inFlight.length >= MAX_IN_FLIGHT) await this.inFlight.shift();
    this.waitedMs += Date.now() - waitFrom;
    if (this.failure) throw this.failure.error;
    const write = this.write(rows, checkpointSql(this.options.jobId, from, to.offset, to.rows)).then(
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

  /** Sends what is left and waits until every batch has committed (the first error is thrown). */
  async settle(): Promise<void> {
    await this.flush();
    while (this.inFlight.length > 0) await this.inFlight.shift();
  }

  /** Waits for the batches in flight without throwing (before another error propagates). */
  async abandon(): Promise<void> {
    await Promise.allSettled(this.inFlight);
  }

  private async write(rows: Array<Array<string | null>>, checkpoint: string): Promise<void> {
    const { db, plan } = this.options;
    try {
      if (this.options.method === 'copy') {
        await copyRows(db, plan.copySql, rows, { before: ['BEGIN', checkpoint], after: ['COMMIT'], plain: plan.copyPlain }).catch(
          async (err: unknown) => {
            // A failed message leaves its transaction aborted (transaction() rolls back the other path itself).
            await db.query('ROLLBACK').catch(() => undefined);
            throw err;
          },
        );
      } else {
        await transaction(db, async () => {
          await db.query(checkpoint);
          await db.query(plan.insertSql, plan.toColumns(rows));
        });
      }
    } catch (err) {
      throw isCheckpointMoved(err) ? new CheckpointConflictError() : err;
    }
  }
}
