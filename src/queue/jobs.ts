/**
 * The `load_jobs` table: one row per upload, holding what the chunks of a
 * load share (descriptor, table names, columns) and the checkpoint.
 */
import type { Client } from '@neondatabase/serverless';
import type { ResolvedDialect } from '../loader/dialect.ts';

/** A job as the loader uses it (Postgres bigint columns converted to numbers). */
export interface Job {
  jobId: string;
  statusKey: string;
  userid: string;
  state: 'queued' | 'loading' | 'done' | 'fail' | 'superseded';
  packageId: string | null;
  descriptor: Record<string, unknown> | null;
  descriptorHash: string | null;
  resourceUrl: string | null;
  dataEtag: string | null;
  stagingTable: string | null;
  targetTable: string | null;
  columns: string[] | null;
  csvHeader: string[] | null;
  /** The dialect fixed by the first chunk (null before it, or for older jobs). */
  dialect: ResolvedDialect | null;
  byteOffset: number;
  rowsLoaded: number;
  contentLength: number | null;
  chunks: number;
}

function toJob(r: Record<string, unknown>): Job {
  return {
    jobId: String(r.job_id),
    statusKey: String(r.status_key),
    userid: String(r.userid),
    state: r.state as Job['state'],
    packageId: (r.package_id as string | null) ?? null,
    descriptor: (r.descriptor as Record<string, unknown> | null) ?? null,
    descriptorHash: (r.descriptor_hash as string | null) ?? null,
    resourceUrl: (r.resource_url as string | null) ?? null,
    dataEtag: (r.data_etag as string | null) ?? null,
    stagingTable: (r.staging_table as string | null) ?? null,
    targetTable: (r.target_table as string | null) ?? null,
    columns: (r.columns as string[] | null) ?? null,
    csvHeader: (r.csv_header as string[] | null) ?? null,
    dialect: (r.dialect as ResolvedDialect | null) ?? null,
    byteOffset: Number(r.byte_offset),
    rowsLoaded: Number(r.rows_loaded),
    contentLength: r.content_length === null || r.content_length === undefined ? null : Number(r.content_length),
    chunks: Number(r.chunks),
  };
}

/** The job, or null. With `forUpdate`, the row is locked until the transaction ends. */
export async function getJob(db: Client, jobId: string, forUpdate = false): Promise<Job | null> {
  // A lock held by a dead delivery is released when its connection drops;
  // never wait on it forever (55P03 is retried as transient).
  if (forUpdate) await db.query(`SET LOCAL lock_timeout = '60s'`);
  const { rows } = await db.query(`SELECT * FROM load_jobs WHERE job_id = $1${forUpdate ? ' FOR UPDATE' : ''}`, [
    jobId,
  ]);
  return rows[0] ? toJob(rows[0] as Record<string, unknown>) : null;
}

/** Ends a job that did not finish (failed or superseded). */
export async function closeJob(db: Client, jobId: string, state: 'fail' | 'superseded', error: string): Promise<void> {
  await db.query(
    `UPDATE load_jobs SET state = $2, error = $3, updated_at = now() WHERE job_id = $1 AND state IN ('queued', 'loading')`,
    [jobId, state, error],
  );
}

/** The last completed load of a package, for the unchanged-upload shortcut. */
export async function lastDoneJob(db: Client, packageId: string): Promise<Job | null> {
  const { rows } = await db.query(
    `SELECT * FROM load_jobs WHERE package_id = $1 AND state = 'done' ORDER BY updated_at DESC LIMIT 1`,
    [packageId],
  );
  return rows[0] ? toJob(rows[0] as Record<string, unknown>) : null;
}

/** Whether a table exists in the current schema. */
export async function tableExists(db: Client, table: string): Promise<boolean> {
  const { rows } = await db.query('SELECT to_regclass($1) IS NOT NULL AS present', [`"${table.replace(/"/g, '""')}"`]);
  return rows[0]?.present === true;
}
