/**
 * A package's load history and a load's validation report, read from the
 * jobs themselves: load_jobs keeps every load (the newest
 * OS_LOADER_HISTORY_KEEP per package, pruned by lifecycle.ts as a job ends).
 * Who may see what is decided by historyAccess (pure); the routes are
 * src/routes/package-report.ts.
 */
import type { Client } from '@neondatabase/serverless';
import { buildReport, type LoadReport, type ValidationState } from '../loader/report.ts';
import type { CsvDialect, Field } from '../loader/types.ts';
import { mayManagePackage } from '../registry/policy.ts';
import type { Job, JobState } from './lifecycle.ts';

/** Errors of a report shown in a history entry (the whole report is /package/report's). */
export const HISTORY_ERRORS = 10;

/** What a caller may see of a package's history: all (its owner), the public part, or nothing (404). */
export type HistoryAccess = 'full' | 'public' | null;

/**
 * The owner (a verified user token) sees everything, anyone else only a
 * published package's history and without errors or reports; an unknown or
 * private package is not found.
 */
export function historyAccess(userid: string | null, packageId: string, published: boolean | null): HistoryAccess {
  if (userid !== null && mayManagePackage(userid, packageId)) return 'full';
  return published === true ? 'public' : null;
}

/** The status a history entry shows: a running job (queued or loading) is `running`. */
export type HistoryStatus = 'running' | 'done' | 'fail' | 'superseded';

export interface HistoryEntry {
  started: string;
  finished: string | null;
  status: HistoryStatus;
  rows: number;
  bytes: number;
  seconds: number;
  /** SHA-256 of datapackage.json as fetched. */
  descriptorHash: string | null;
  /** The data file's ETag when it was read (S3: the MD5 of a single-part upload). */
  dataHash: string | null;
  /** The load's data went live (it committed; an unchanged re-upload keeps the same data live). */
  live: boolean;
  /** The newest load. */
  latest: boolean;
  /** The load whose data is live now. */
  successful: boolean;
  error?: string;
  report?: LoadReport;
}

/** What a report and a history entry read of a job. */
export interface JobRecord {
  jobId: string;
  state: JobState;
  createdAt: Date;
  finishedAt: Date | null;
  rowsLoaded: number;
  byteOffset: number;
  contentLength: number | null;
  validation: ValidationState | null;
  error: string | null;
  /** The schema fields, missing values and dialect of the loaded resource (null before the plan). */
  fields: Field[];
  missingValues: string[] | null;
  dialect: Pick<CsvDialect, 'delimiter' | 'header'> | null;
}

/** The record of a whole job. */
export function recordOf(job: Job): JobRecord {
  const resource = job.plan?.pkg.resource;
  return {
    jobId: job.jobId,
    state: job.state,
    createdAt: job.createdAt,
    finishedAt: job.finishedAt,
    rowsLoaded: job.rowsLoaded,
    byteOffset: job.byteOffset,
    contentLength: job.contentLength,
    validation: job.validation,
    error: job.error,
    fields: resource?.fields ?? [],
    missingValues: resource?.missingValues ?? null,
    dialect: job.dialect?.dialect ?? job.plan?.dialect ?? null,
  };
}

const rowsOf = (job: JobRecord): number => (job.validation ? job.validation.rows : job.rowsLoaded);
const bytesOf = (job: JobRecord): number => (job.state === 'done' ? (job.contentLength ?? job.byteOffset) : job.byteOffset);
const secondsOf = (job: JobRecord, now: number): number =>
  Math.round(Math.max(0, (job.finishedAt?.getTime() ?? now) - job.createdAt.getTime())) / 1000;

function historyStatus(state: JobState): HistoryStatus {
  return state === 'queued' || state === 'loading' ? 'running' : state;
}

/** The validation report of a job (/package/report), with the job's status. */
export function jobReport(job: JobRecord, now = Date.now()): LoadReport & { status: HistoryStatus } {
  const report = buildReport({
    done: job.state === 'done',
    running: job.state === 'queued' || job.state === 'loading',
    rows: rowsOf(job),
    bytes: bytesOf(job),
    fields: job.fields,
    seconds: secondsOf(job, now),
    // Frictionless row numbers count the header row.
    header: job.dialect?.header ?? true,
    validation: job.validation,
    error: job.error,
    ...(job.missingValues ? { missingValues: job.missingValues } : {}),
    ...(job.dialect ? { delimiter: job.dialect.delimiter } : {}),
  });
  return { ...report, status: historyStatus(job.state) };
}

/**
 * The loads of `packageId`, newest first, as `access` may see them. Only
 * what an entry shows is read: a report's first HISTORY_ERRORS errors (and
 * their count), the schema's fields rather than the whole plan.
 */
export async function packageHistory(db: Client, packageId: string, access: 'full' | 'public', limit: number): Promise<HistoryEntry[]> {
  const { rows } = await db.query(
    `SELECT job_id, state, created_at, finished_at, rows_loaded, byte_offset, content_length, descriptor_hash, data_etag,
       error, coalesce(dialect->'dialect', plan->'dialect') AS dialect,
       plan->'pkg'->'resource'->'fields' AS fields, plan->'pkg'->'resource'->'missingValues' AS missing_values,
       CASE WHEN report IS NULL THEN NULL ELSE jsonb_build_object(
         'rows', report->'rows', 'capped', report->'capped',
         'errors', jsonb_path_query_array(report, '$.errors[0 to ${HISTORY_ERRORS - 1}]')) END AS report,
       coalesce(jsonb_array_length(report->'errors'), 0) AS error_count
     FROM load_jobs WHERE package_id = $1 ORDER BY created_at DESC, job_id LIMIT $2`,
    [packageId, limit],
  );
  const now = Date.now();
  const jobs = rows.map((r) => ({ job: recordOfRow(r), row: r }));
  // The live load: the done load that committed last.
  const live = jobs
    .filter(({ job }) => job.state === 'done')
    .reduce<JobRecord | null>((best, { job }) => (!best || (job.finishedAt?.getTime() ?? 0) > (best.finishedAt?.getTime() ?? 0) ? job : best), null);
  return jobs.map(({ job, row }, i) => {
    const entry: HistoryEntry = {
      started: job.createdAt.toISOString(),
      finished: job.finishedAt?.toISOString() ?? null,
      status: historyStatus(job.state),
      rows: rowsOf(job),
      bytes: bytesOf(job),
      seconds: secondsOf(job, now),
      descriptorHash: (row.descriptor_hash as string | null) ?? null,
      dataHash: (row.data_etag as string | null) ?? null,
      live: job.state === 'done',
      latest: i === 0,
      successful: job === live,
    };
    if (access === 'full') {
      if (job.error) entry.error = job.error;
      const { status: _status, ...report } = jobReport(job, now);
      // Only the first errors were read: the count is the whole report's.
      if (job.validation) report.stats.errors = Number(row.error_count);
      entry.report = report;
    }
    return entry;
  });
}

function recordOfRow(r: Record<string, unknown>): JobRecord {
  return {
    jobId: String(r.job_id),
    state: r.state as JobState,
    createdAt: new Date(r.created_at as string),
    finishedAt: r.finished_at ? new Date(r.finished_at as string) : null,
    rowsLoaded: Number(r.rows_loaded),
    byteOffset: Number(r.byte_offset),
    contentLength: r.content_length === null ? null : Number(r.content_length),
    validation: (r.report as ValidationState | null) ?? null,
    error: (r.error as string | null) ?? null,
    fields: (r.fields as Field[] | null) ?? [],
    missingValues: (r.missing_values as string[] | null) ?? null,
    dialect: (r.dialect as JobRecord['dialect']) ?? null,
  };
}
