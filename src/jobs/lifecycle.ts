/**
 * A load job: one /package/upload, from acceptance to its end. This module
 * owns the `load_jobs` table (all of its SQL is here and in checkpoint.ts)
 * and every transition of a job:
 *
 *   queued ──claim──▶ queued (package known) ──beginLoading──▶ loading ──commitLoad──▶ done
 *   queued | loading ──endJob──▶ fail | superseded
 *   queued ──commitUnchanged──▶ done (an unchanged re-upload)
 *
 * Postgres records the job and is the only truth about its state: a delivery
 * proceeds only while its job row says so, checked under the row lock at
 * every commit (the checkpoint and the swap). The PackageStatus object is
 * the job's live view and lease (the stall alarm); a refused status move is
 * never taken as a verdict on the job. Whatever ends a job ends it here
 * first, drops its staging table, then tells the status object why.
 *
 * "superseded" means a newer upload of the same package started: the same
 * upload URL in any spelling (recordJob), or the same package id once the
 * descriptor names it (claimPackage). The newer job wins.
 */
import type { Client } from '@neondatabase/serverless';
import { transaction } from '../db/client.ts';
import { decidedTransaction, runScript, type Statement, type StatementResult } from '../db/script.ts';
import { statusOf } from '../durable/status-client.ts';
import type { StatusView } from '../durable/package-status.ts';
import type { Env } from '../env.ts';
import type { ResolvedDialect } from '../loader/dialect.ts';
import type { ValidationState } from '../loader/report.ts';
import { quoteIdent } from '../loader/sql.ts';
import type { StoredPlan } from '../queue/plan.ts';

export type JobState = 'queued' | 'loading' | 'done' | 'fail' | 'superseded';

/** A job as the loader uses it (Postgres bigint columns converted to numbers). */
export interface Job {
  jobId: string;
  statusKey: string;
  userid: string;
  state: JobState;
  packageId: string | null;
  descriptorHash: string | null;
  resourceUrl: string | null;
  dataEtag: string | null;
  stagingTable: string | null;
  targetTable: string | null;
  /** The load plan, stored by the first message (null before). */
  plan: StoredPlan | null;
  /** The CSV dialect fixed by the first data chunk from the file's start (null before it, or for older jobs). */
  dialect: ResolvedDialect | null;
  csvHeader: string[] | null;
  byteOffset: number;
  rowsLoaded: number;
  contentLength: number | null;
  chunks: number;
  error: string | null;
  /** Set once the load met bad data: it then only validates (rows read, errors so far), see saveValidation. */
  validation: ValidationState | null;
  createdAt: Date;
  /** When the job ended (null while it runs). */
  finishedAt: Date | null;
}

/** The error text of a job a newer upload replaced. */
export const SUPERSEDED = 'superseded by a newer upload of the same package';

/** How long a statement waits for a lock a (possibly dead) delivery holds; 55P03 is retried as transient. */
const LOCK_TIMEOUT = `SET LOCAL lock_timeout = '60s'`;

/** Staging table of a job: short, so its index names stay under 63 bytes. */
export function stagingTableName(jobId: string): string {
  return `fdp_load__${jobId.replace(/-/g, '').slice(0, 24)}`;
}

function toJob(r: Record<string, unknown>): Job {
  const num = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));
  return {
    jobId: String(r.job_id),
    statusKey: String(r.status_key),
    userid: String(r.userid),
    state: r.state as JobState,
    packageId: (r.package_id as string | null) ?? null,
    descriptorHash: (r.descriptor_hash as string | null) ?? null,
    resourceUrl: (r.resource_url as string | null) ?? null,
    dataEtag: (r.data_etag as string | null) ?? null,
    stagingTable: (r.staging_table as string | null) ?? null,
    targetTable: (r.target_table as string | null) ?? null,
    plan: (r.plan as StoredPlan | null) ?? null,
    dialect: (r.dialect as ResolvedDialect | null) ?? null,
    csvHeader: (r.csv_header as string[] | null) ?? null,
    byteOffset: Number(r.byte_offset),
    rowsLoaded: Number(r.rows_loaded),
    contentLength: num(r.content_length),
    chunks: Number(r.chunks),
    error: (r.error as string | null) ?? null,
    validation: (r.report as ValidationState | null) ?? null,
    createdAt: new Date(r.created_at as string | Date),
    finishedAt: r.finished_at ? new Date(r.finished_at as string | Date) : null,
  };
}

/** The job, or null. */
export async function getJob(db: Client, jobId: string): Promise<Job | null> {
  const { rows } = await db.query('SELECT * FROM load_jobs WHERE job_id = $1', [jobId]);
  return rows[0] ? toJob(rows[0] as Record<string, unknown>) : null;
}

/** Statements that row-lock the job until the transaction ends; the second answers it (see lockedJob). */
function lockJob(jobId: string): Statement[] {
  return [{ text: LOCK_TIMEOUT }, { text: 'SELECT * FROM load_jobs WHERE job_id = $1 FOR UPDATE', values: [jobId] }];
}

/** The job lockJob's statements answered (`opened` starts with their results), or null, and the results after them. */
function lockedJob(opened: StatementResult[]): { job: Job | null; rest: StatementResult[] } {
  const row = opened[1]?.rows[0];
  return { job: row ? toJob(row) : null, rest: opened.slice(2) };
}

/** Why a transition from `state` is refused for the locked `job`: it is gone or superseded, or in another state. */
function refusalOf(job: Job | null, state: JobState): Refusal | null {
  if (!job || job.state === 'superseded') return 'superseded';
  return job.state === state ? null : 'conflict';
}

/** A decision that writes nothing. */
const refused = (value: Refusal) => ({ value, writes: [] });

/**
 * Records a new upload and supersedes the older jobs still running for the
 * same upload URL (exact, or the same normalised form `urlKey`) by the same
 * uploader (another user's upload of that URL is not their package). Returns the
 * superseded jobs (their deliveries stop at their next commit and clean up).
 */
export async function recordJob(
  db: Client,
  job: { jobId: string; statusKey: string; urlKey: string | null; userid: string },
): Promise<string[]> {
  return transaction(db, async () => {
    await db.query('INSERT INTO load_jobs (job_id, status_key, url_key, userid) VALUES ($1, $2, $3, $4)', [
      job.jobId,
      job.statusKey,
      job.urlKey,
      job.userid,
    ]);
    await db.query(LOCK_TIMEOUT);
    const { rows } = await db.query(
      `UPDATE load_jobs SET state = 'superseded', error = $4, updated_at = now(), finished_at = now()
       WHERE job_id <> $1 AND state IN ('queued', 'loading') AND (status_key = $2 OR url_key = $3) AND userid = $5
       RETURNING job_id`,
      [job.jobId, job.statusKey, job.urlKey, SUPERSEDED, job.userid],
    );
    return rows.map((r) => String(r.job_id));
  });
}

/** Fails a job that could not even be queued (nothing was created for it). */
export async function failUnqueued(db: Client, jobId: string, error: string): Promise<void> {
  await db.query(
    `UPDATE load_jobs SET state = 'fail', error = $2, updated_at = now(), finished_at = now() WHERE job_id = $1 AND state = 'queued'`,
    [jobId, error],
  );
}

/** Why a transition did not happen. */
export type Refusal = 'superseded' | 'conflict';

/**
 * The queued job now knows its package: it becomes that package's current
 * load. A newer job of the same package already past this point wins (this
 * one is superseded); older running ones are superseded by this one.
 */
export async function claimPackage(db: Client, jobId: string, packageId: string): Promise<Refusal | null> {
  return decidedTransaction<Refusal | null>(db, [...lockJob(jobId), newerJob(jobId, packageId)], (opened) => {
    const { job, rest: [newer] } = lockedJob(opened);
    const refusal = refusalOf(job, 'queued');
    if (refusal) return refused(refusal);
    if ((newer?.rows.length ?? 0) > 0) {
      return {
        value: 'superseded',
        writes: [{ text: `UPDATE load_jobs SET state = 'superseded', error = $2, updated_at = now() WHERE job_id = $1`, values: [jobId, SUPERSEDED] }],
      };
    }
    return {
      value: null,
      writes: [
        {
          text: `UPDATE load_jobs o SET state = 'superseded', error = $3, updated_at = now() FROM load_jobs me
       WHERE me.job_id = $1 AND o.package_id = $2 AND o.job_id <> $1 AND o.state IN ('queued', 'loading')
         AND (o.created_at, o.job_id) < (me.created_at, me.job_id)`,
          values: [jobId, packageId, SUPERSEDED],
        },
        { text: `UPDATE load_jobs SET package_id = $2, updated_at = now() WHERE job_id = $1`, values: [jobId, packageId] },
      ],
    };
  });
}

/**
 * A statement answering a row when a job of the package newer than `jobId` has
 * claimed it (or already finished); the package is `packageId`, or with null
 * the one the job itself has claimed.
 */
function newerJob(jobId: string, packageId: string | null): Statement {
  return {
    text: `SELECT 1 FROM load_jobs n, load_jobs me WHERE me.job_id = $1 AND n.package_id = ${packageId === null ? 'me.package_id' : '$2'}
       AND n.state IN ('queued', 'loading', 'done') AND (n.created_at, n.job_id) > (me.created_at, me.job_id) LIMIT 1`,
    values: packageId === null ? [jobId] : [jobId, packageId],
  };
}

/** What the first message found out about the data file and stored with the plan. */
export interface LoadStart {
  plan: StoredPlan;
  descriptorHash: string;
  resourceUrl: string;
  dataEtag: string | null;
  contentLength: number | null;
  stagingTable: string;
  targetTable: string;
  /** Statements creating the staging table (run in the same transaction). */
  createSql: string[];
}

/** queued -> loading: the staging table is created and the plan stored, together. */
export async function beginLoading(db: Client, jobId: string, start: LoadStart): Promise<Refusal | null> {
  return decidedTransaction<Refusal | null>(db, lockJob(jobId), (opened) => {
    const refusal = refusalOf(lockedJob(opened).job, 'queued');
    if (refusal) return refused(refusal);
    return {
      value: null,
      writes: [
        `DROP TABLE IF EXISTS ${quoteIdent(start.stagingTable)}`,
        ...start.createSql,
        {
          text: `UPDATE load_jobs SET state = 'loading', plan = $2, descriptor = $3, descriptor_hash = $4, resource_url = $5,
         data_etag = $6, staging_table = $7, target_table = $8, columns = $9, content_length = $10,
         byte_offset = 0, rows_loaded = 0, updated_at = now()
       WHERE job_id = $1`,
          values: [
            jobId,
            JSON.stringify(start.plan),
            JSON.stringify(start.plan.pkg.descriptor),
            start.descriptorHash,
            start.resourceUrl,
            start.dataEtag,
            start.stagingTable,
            start.targetTable,
            JSON.stringify(start.plan.columns),
            start.contentLength,
          ],
        },
      ],
    };
  });
}

/** Counts a message that worked on the job (diagnostics: `chunks`). */
export async function noteChunk(db: Client, jobId: string): Promise<void> {
  await db.query('UPDATE load_jobs SET chunks = chunks + 1, updated_at = now() WHERE job_id = $1', [jobId]);
}

/** Keeps the dialect the first data chunk completed from the file, for the messages that resume (before any batch commits). */
export async function saveDialect(db: Client, jobId: string, dialect: ResolvedDialect): Promise<void> {
  await db.query(
    `UPDATE load_jobs SET dialect = $2, updated_at = now() WHERE job_id = $1 AND state = 'loading' AND byte_offset = 0`,
    [jobId, JSON.stringify(dialect)],
  );
}

/** Keeps the CSV header for the messages that resume without it (before any batch commits). */
export async function saveCsvHeader(db: Client, jobId: string, header: string[]): Promise<void> {
  await db.query(
    `UPDATE load_jobs SET csv_header = $2, updated_at = now() WHERE job_id = $1 AND state = 'loading' AND byte_offset = 0`,
    [jobId, JSON.stringify(header)],
  );
}

/**
 * Moves a validating job's checkpoint from byte `from` to `to` together with
 * its validation (rows read, errors so far): a load that met bad data writes
 * no more rows, so this is its checkpoint, exactly once as a batch's is. A
 * job no longer loading at `from` is a conflict (another delivery moved it).
 */
export async function saveValidation(
  db: Client,
  jobId: string,
  from: number,
  to: number,
  validation: ValidationState,
): Promise<Refusal | null> {
  const { rowCount } = await db.query(
    `UPDATE load_jobs SET byte_offset = $3, report = $4, updated_at = now()
     WHERE job_id = $1 AND state = 'loading' AND byte_offset = $2`,
    [jobId, from, to, JSON.stringify(validation)],
  );
  return rowCount === 1 ? null : 'conflict';
}

/** Keeps the validation of a load that is about to fail at a problem that stops the reading. */
export async function saveReport(db: Client, jobId: string, validation: ValidationState): Promise<void> {
  await db.query(`UPDATE load_jobs SET report = $2, updated_at = now() WHERE job_id = $1 AND state = 'loading'`, [
    jobId,
    JSON.stringify(validation),
  ]);
}

/**
 * Keeps `keep` ended loads of the package: the one whose data is live and
 * the newest others. Called in the transaction that ends a job, so the
 * history stays bounded (running jobs are not counted). Jobs that ended before the descriptor named their
 * package are bounded the same way by their status key.
 */
function pruneHistory(jobId: string, keep: number): Statement {
  return {
    text: `WITH me AS (SELECT package_id, status_key FROM load_jobs WHERE job_id = $1),
     mine AS (
       SELECT j.job_id, j.state, j.created_at, j.finished_at FROM load_jobs j, me
       WHERE (me.package_id IS NOT NULL AND j.package_id = me.package_id)
          OR (me.package_id IS NULL AND j.package_id IS NULL AND j.status_key = me.status_key)
     ),
     live AS (SELECT job_id FROM mine WHERE state = 'done' ORDER BY finished_at DESC NULLS LAST LIMIT 1),
     others AS (
       SELECT job_id, row_number() OVER (ORDER BY created_at DESC, job_id) AS n FROM mine
       WHERE state IN ('done', 'fail', 'superseded') AND job_id NOT IN (SELECT job_id FROM live)
     )
     DELETE FROM load_jobs
     WHERE job_id IN (SELECT job_id FROM others WHERE n > $2::int - (SELECT count(*) FROM live))`,
    values: [jobId, keep],
  };
}

/**
 * loading -> done, in one transaction of two round trips (its own: pass it
 * to writeRegistry with `ownTransaction`): the job is locked and must still
 * be loading at the checkpoint this delivery reached; then the `swap`
 * statements run (table swap, registry row) and the job is done.
 */
export async function commitLoad(db: Client, job: Job, swap: Statement[], keep: number): Promise<Refusal | null> {
  // Two claims that raced: the newer job wins here too (newerJob of the package the job claimed).
  return decidedTransaction<Refusal | null>(db, [...lockJob(job.jobId), newerJob(job.jobId, null)], (opened) => {
    const { job: locked, rest: [newer] } = lockedJob(opened);
    const refusal = refusalOf(locked, 'loading') ?? (locked?.byteOffset !== job.byteOffset ? 'conflict' : null);
    if (refusal) return refused(refusal);
    if ((newer?.rows.length ?? 0) > 0) return refused('superseded');
    return {
      value: null,
      writes: [
        ...swap,
        { text: `UPDATE load_jobs SET state = 'done', updated_at = now(), finished_at = now() WHERE job_id = $1`, values: [job.jobId] },
        pruneHistory(job.jobId, keep),
      ],
    };
  });
}

/** What an unchanged re-upload writes: `write` answers the statements from what `read` answered. */
export interface UnchangedWrite {
  read: Statement[];
  write: (read: StatementResult[]) => Statement[];
}

/**
 * queued -> done for an unchanged re-upload, in one transaction of two round
 * trips (its own, as commitLoad's).
 */
export async function commitUnchanged(db: Client, jobId: string, previous: Job, change: UnchangedWrite, keep: number): Promise<Refusal | null> {
  return decidedTransaction<Refusal | null>(db, [...lockJob(jobId), ...change.read], (opened) => {
    const { job, rest } = lockedJob(opened);
    const refusal = refusalOf(job, 'queued');
    if (refusal) return refused(refusal);
    return {
      value: null,
      writes: [
        ...change.write(rest),
        {
          text: `UPDATE load_jobs SET state = 'done', descriptor_hash = $2, data_etag = $3, resource_url = $4,
       target_table = $5, rows_loaded = $6, content_length = p.content_length, byte_offset = p.byte_offset,
       plan = p.plan, descriptor = p.descriptor, updated_at = now(), finished_at = now()
     FROM (SELECT content_length, byte_offset, plan, descriptor FROM load_jobs WHERE job_id = $7) p
     WHERE load_jobs.job_id = $1`,
          values: [
            jobId,
            previous.descriptorHash,
            previous.dataEtag,
            previous.resourceUrl,
            previous.targetTable,
            previous.rowsLoaded,
            previous.jobId,
          ],
        },
        pruneHistory(jobId, keep),
      ],
    };
  });
}

/** What a package had before this load: its last completed load, whether its table exists. */
export interface PriorLoad {
  previous: Job | null;
  tableExists: boolean;
}

/**
 * The package's last completed load (for the unchanged-upload shortcut) and
 * whether `table` exists, with `more` statements (another module's reads)
 * in the same round trip; answers `more`'s results too.
 */
export async function priorLoad(
  db: Client,
  packageId: string,
  table: string,
  more: Statement[] = [],
): Promise<PriorLoad & { more: StatementResult[] }> {
  const [last, present, ...rest] = await runScript(db, [
    {
      text: `SELECT * FROM load_jobs WHERE package_id = $1 AND state = 'done' ORDER BY finished_at DESC NULLS LAST, updated_at DESC LIMIT 1`,
      values: [packageId],
    },
    { text: 'SELECT to_regclass($1) IS NOT NULL AS present', values: [quoteIdent(table)] },
    ...more,
  ]);
  const row = last?.rows[0];
  return { previous: row ? toJob(row) : null, tableExists: present?.rows[0]?.present === true, more: rest };
}

/**
 * Ends a job in Postgres (if it is still running) and drops its staging
 * table (also for a job that had already ended: a delivery may have died
 * between the two). Returns the job as it now is, or null when unknown.
 */
export async function closeJob(
  db: Client,
  jobId: string,
  state: 'fail' | 'superseded',
  error: string,
  keep: number,
): Promise<Job | null> {
  const ended = await transaction(db, async () => {
    const { rows } = await db.query(
      `UPDATE load_jobs SET state = $2, error = $3, updated_at = now(), finished_at = now()
       WHERE job_id = $1 AND state IN ('queued', 'loading')
       RETURNING *`,
      [jobId, state, error],
    );
    if (rows[0]) {
      const prune = pruneHistory(jobId, keep);
      await db.query(prune.text, prune.values as unknown[]);
    }
    return rows[0] ? toJob(rows[0] as Record<string, unknown>) : null;
  });
  const job = ended ?? (await getJob(db, jobId));
  if (job && job.state !== 'done') await dropStaging(db, job.jobId);
  return job;
}

/** Drops a job's staging table (named by the job id, so also before staging_table was recorded). */
async function dropStaging(db: Client, jobId: string): Promise<void> {
  await transaction(db, async () => {
    await db.query(LOCK_TIMEOUT);
    await db.query(`DROP TABLE IF EXISTS ${quoteIdent(stagingTableName(jobId))}`);
  });
}

/** The status a job's end shows: `fail` with its reason (a superseded job's, too). */
export async function showEnd(env: Pick<Env, 'PACKAGE_STATUS'>, job: Job): Promise<StatusView | null> {
  if (job.state !== 'fail' && job.state !== 'superseded') return null;
  // Refused (and harmless) when a newer job owns the status key already.
  const result = await statusOf(env, job.statusKey).showEnd(job.jobId, 'fail', { error: job.error ?? 'load failed' });
  return result.current;
}

/**
 * Ends a job for good: Postgres first (the truth), staging table dropped,
 * then the status says why. For every end but `done`.
 */
export async function endJob(
  env: Pick<Env, 'PACKAGE_STATUS'>,
  db: Client,
  jobId: string,
  state: 'fail' | 'superseded',
  error: string,
  keep: number,
): Promise<Job | null> {
  const job = await closeJob(db, jobId, state, error, keep);
  if (job) await showEnd(env, job);
  return job;
}
