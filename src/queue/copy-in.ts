/**
 * `COPY … FROM STDIN` through the Neon driver (a pg Client): the driver has
 * no COPY API, but it accepts a "submittable" query object and forwards the
 * protocol's CopyInResponse to it, so the rows can be sent as CopyData
 * messages. Several times faster than `INSERT … SELECT FROM unnest` for the
 * same rows, because Postgres parses plain text instead of array literals.
 */
import type { Client } from '@neondatabase/serverless';
import { Buffer } from 'node:buffer';

/** The parts of the driver's connection a submittable uses. */
interface PgConnection {
  query(text: string): void;
  sendCopyFromChunk(chunk: Buffer): void;
  endCopyFrom(): void;
}

const SPECIAL = /[\\\t\n\r]/g;
const ESCAPED: Record<string, string> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' };

/** Whether `value` has a character COPY's text format escapes (a char loop: faster than a regex on short values). */
function needsEscape(value: string): boolean {
  for (let k = 0; k < value.length; k++) {
    const c = value.charCodeAt(k);
    if (c === 92 || c === 9 || c === 10 || c === 13) return true;
  }
  return false;
}

/** Escapes one value for COPY's text format (NULL is `\N`). */
export function copyValue(value: string | null): string {
  if (value === null) return '\\N';
  return needsEscape(value) ? value.replace(SPECIAL, (c) => ESCAPED[c] as string) : value;
}

const NO_MASK: readonly boolean[] = [];

/**
 * The COPY text-format line of one row of text values, with its line feed.
 * `plain` marks the columns known to need no escaping (numbers and dates,
 * see castsToPlainText; text taken as it is from a CSV row without special
 * characters, see ParsedRow.plain): they are not checked.
 */
export function copyLine(row: ReadonlyArray<string | null>, plain: readonly boolean[] = NO_MASK): string {
  const values = new Array<string>(row.length);
  for (let i = 0; i < row.length; i++) {
    const v = row[i] ?? null;
    values[i] = v === null ? '\\N' : plain[i] ? v : copyValue(v);
  }
  return values.join('\t') + '\n';
}

/** COPY text for rows (one string), `plain[r]` as copyLine's `plain` for row r. */
export function copyText(rows: ReadonlyArray<ReadonlyArray<string | null>>, plain: ReadonlyArray<readonly boolean[]> = []): string {
  let out = '';
  for (let r = 0; r < rows.length; r++) out += copyLine(rows[r] as ReadonlyArray<string | null>, plain[r]);
  return out;
}

/** Largest CopyData message sent at once. */
const CHUNK_BYTES = 256 * 1024;

/** How a batch is sent: statements in the same simple-protocol message as the COPY. */
export interface CopyOptions {
  /** Before the COPY (e.g. BEGIN and a checkpoint check). No parameters: literals only. */
  before?: string[];
  /** After the COPY (e.g. COMMIT). */
  after?: string[];
}

/** What a client's pipeline knows: its connection (once one batch was submitted) and its batches awaiting their answer. */
interface Pipeline {
  connection: PgConnection | null;
  /** In the order they were queued; `written` once their bytes are on the connection. */
  outstanding: Array<{ submittable: object; written: boolean }>;
}

const PIPELINES = new WeakMap<object, Pipeline>();

/**
 * Whether a batch may be written now, ahead of its turn in the client's
 * queue: the driver sends one query at a time and the next only after the
 * previous one's ReadyForQuery, so under a real round trip the database
 * would idle a round trip per batch. Written ahead, the next batch is already
 * in the server's socket when the previous commits. Replies are routed by
 * the client's queue order, so that order must be the wire order: only when
 * every batch before it is already written and the client's queue holds
 * nothing but this pipeline's batches. A client without the queue we know
 * (another driver version) just sends in turn.
 */
function canWriteAhead(db: Client, pipeline: Pipeline): boolean {
  if (!pipeline.connection || pipeline.outstanding.length === 0) return false;
  // A client that lost or is closing its connection: writing there would hit a
  // closed socket (an uncaught error inside the driver); in turn, the driver
  // answers the batch with its own error instead.
  const state = db as unknown as { _queryable?: boolean; _ending?: boolean };
  if (state._queryable === false || state._ending === true) return false;
  const socket = (pipeline.connection as unknown as { stream?: { ws?: { readyState?: number } | null } }).stream;
  if (socket && (!socket.ws || (typeof socket.ws.readyState === 'number' && socket.ws.readyState !== 1))) return false;
  if (!pipeline.outstanding.every((o) => o.written)) return false;
  const queue = (db as unknown as { queryQueue?: unknown }).queryQueue;
  if (!Array.isArray(queue)) return false;
  const ours = new Set(pipeline.outstanding.map((o) => o.submittable));
  return queue.every((q) => ours.has(q as object));
}

/**
 * Runs `copySql` (a `COPY … FROM STDIN` statement) with `bytes` (COPY text
 * format, see copyText and src/loader/copy-bytes.ts) as its data,
 * with the `before`/`after` statements in the same Query message, and sends the data
 * at once instead of waiting for the server's CopyInResponse: a batch is one
 * round trip, which matters because replies are only read when the busy
 * loader yields. Batches called for while others are unanswered go on the
 * wire at once (see canWriteAhead), so several are in flight and none waits
 * for the previous one's answer; the caller's checkpoint chain (each batch
 * commits only from where the previous one ended) is what keeps a batch
 * after a failed one from committing. If a statement before the COPY fails,
 * the server skips the rest of the message and ignores the copy data (the
 * protocol says so), and an open transaction is left aborted for the caller
 * to roll back.
 */
export function copyRows(
  db: Client,
  copySql: string,
  bytes: Uint8Array,
  options: CopyOptions = {},
): Promise<void> {
  // The driver wants a Buffer, which wraps the bytes without a copy.
  let data: Buffer | null = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const text = [...(options.before ?? []), copySql, ...(options.after ?? [])].join(';\n');
  let pipeline = PIPELINES.get(db);
  if (!pipeline) {
    pipeline = { connection: null, outstanding: [] };
    PIPELINES.set(db, pipeline);
  }
  const line = pipeline;
  // The driver calls these as the server answers; submit/handleError/handleReadyForQuery are set below.
  const submittable: Record<string, (...args: never[]) => void> = {
    handleCopyInResponse() {},
    handleCommandComplete() {},
    handleRowDescription() {},
    handleDataRow() {},
    handleEmptyQuery() {},
    handlePortalSuspended() {},
    handleCopyData() {},
  };
  const entry = { submittable: submittable as object, written: false };
  const write = (connection: PgConnection) => {
    if (!data) return;
    connection.query(text);
    for (let at = 0; at < data.length; at += CHUNK_BYTES) {
      connection.sendCopyFromChunk(data.subarray(at, at + CHUNK_BYTES));
    }
    connection.endCopyFrom();
    data = null; // the connection has the bytes now
    entry.written = true;
  };
  const answered = () => {
    const i = line.outstanding.indexOf(entry);
    if (i >= 0) line.outstanding.splice(i, 1);
  };
  const done = new Promise<void>((resolve, reject) => {
    let failure: unknown = null;
    submittable.submit = (connection: PgConnection) => {
      line.connection = connection;
      write(connection);
    };
    submittable.handleError = (err: unknown) => {
      // Reject at once: after a lost connection no ReadyForQuery follows.
      answered();
      failure ??= err;
      reject(err);
    };
    submittable.handleReadyForQuery = () => {
      answered();
      if (failure) reject(failure);
      else resolve();
    };
  });
  const ahead = canWriteAhead(db, line);
  line.outstanding.push(entry);
  if (ahead) write(line.connection as PgConnection);
  (db as unknown as { query(q: unknown): unknown }).query(submittable);
  return done;
}
