/**
 * The checkpoint a loaded batch commits with. The batch's rows, this
 * statement and COMMIT travel in one message (see copy-in.ts), so the
 * statement cannot take parameters: every value is checked and written as a
 * literal here. It moves the job's checkpoint from `from` to `to` and raises
 * CHECKPOINT_MOVED when the job is no longer loading or another delivery
 * already moved it; the row lock it takes makes a racing delivery wait and
 * then fail that same check.
 */

/** SQLSTATE raised when the checkpoint is not where this delivery started. */
export const CHECKPOINT_MOVED = 'OSC01';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function wholeNumber(n: number, what: string): string {
  if (!Number.isSafeInteger(n) || n < 0) throw new Error(`internal: checkpoint ${what} ${n} is not a whole number`);
  return String(n);
}

/** A `DO` statement advancing job `jobId` from byte `from` to `to` with `rows` rows loaded. */
export function checkpointSql(jobId: string, from: number, to: number, rows: number): string {
  if (!UUID.test(jobId)) throw new Error('internal: checkpoint job id is not a UUID');
  if (to < from) throw new Error('internal: checkpoint moves backwards');
  return (
    `DO $checkpoint$ BEGIN ` +
    `UPDATE load_jobs SET byte_offset = ${wholeNumber(to, 'offset')}, rows_loaded = ${wholeNumber(rows, 'rows')}, updated_at = now() ` +
    `WHERE job_id = '${jobId}' AND state = 'loading' AND byte_offset = ${wholeNumber(from, 'offset')}; ` +
    `IF NOT FOUND THEN RAISE EXCEPTION 'checkpoint moved by another delivery' USING ERRCODE = '${CHECKPOINT_MOVED}'; END IF; ` +
    `END $checkpoint$`
  );
}

/** Whether `err` is the database error {@link checkpointSql} raises. */
export function isCheckpointMoved(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === CHECKPOINT_MOVED;
}
