/**
 * The package loader, run by the queue consumer one chunk per message.
 *
 * A job goes through the README statuses. The first message prepares it
 * (fetch and validate the descriptor, create a NEW staging table); every
 * message then loads rows from the job's checkpoint for at most
 * OS_LOADER_CHUNK_ROWS rows / OS_LOADER_CHUNK_SECONDS seconds and enqueues
 * the next message; the message that reaches the end of the CSV builds the
 * babbage model and swaps the staging table in, with the registry write, in
 * one transaction. Until that commit the previous table and registry entry
 * are untouched, so a failed or interrupted reload changes nothing.
 *
 * Exactly-once rows: each batch's rows and the checkpoint (byte offset and
 * row count) are committed in the same transaction, under a row lock on the
 * job that also checks the checkpoint is still where this delivery started.
 * A redelivered or duplicated message therefore resumes from the last
 * committed batch, and a second delivery racing the first stops at its first
 * commit.
 */
import type { Client } from '@neondatabase/serverless';
import { clearOsApiCache } from '../cache/os-api-cache.ts';
import type { Config } from '../config.ts';
import { transaction } from '../db/client.ts';
import type { StatusPatch } from '../durable/package-status.ts';
import { setPackageAlias, statusStub } from '../durable/status-client.ts';
import type { LoadStatus } from '../durable/status-machine.ts';
import type { Env } from '../env.ts';
import { CsvParser, type ParsedRow } from '../loader/csv.ts';
import { declaredDialectKeys, dialectView, resolveDialect, SAMPLE_BYTES, type ResolvedDialect } from '../loader/dialect.ts';
import { columnNames, factTableName, packageId } from '../loader/naming.ts';
import { factTableIndexes, quoteIdent, swapTableSql } from '../loader/sql.ts';
import { syncAfterWrite } from '../registry/index-sync.ts';
import { getPackage, upsertPackage } from '../registry/registry.ts';
import { copyRows } from './copy-in.ts';
import { prepareLoad, parseFiscalPackage, resourceUrlOf, type PreparedLoad } from './core.ts';
import { checkpointSql, isCheckpointMoved } from './checkpoint.ts';
import { CheckpointConflictError, errorMessage, PermanentError, SupersededError } from './errors.ts';
import { datastoreSigner, fetchText, openResource, probeResource } from './http-fetch.ts';
import { getJob, lastDoneJob, tableExists, type Job } from './jobs.ts';
import type { LoaderMessage } from './messages.ts';
import { buildRegistryDocument } from './metadata.ts';
import { checkFetchUrl, policyFromConfig } from './url-policy.ts';

/** What one invocation did with its job. */
export type ChunkOutcome = 'done' | 'continued' | 'skipped';

/** Shared by the steps of one invocation. */
interface Run {
  env: Env;
  config: Config;
  db: Client;
  job: Job;
  log: (msg: string, fields?: Record<string, unknown>) => void;
}

/** Staging table of a job: short, so its index names stay under 63 bytes. */
export function stagingTableName(jobId: string): string {
  return `fdp_load__${jobId.replace(/-/g, '').slice(0, 24)}`;
}


async function sha256Hex(text: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('');
}

/** Moves the job's status; a refused move means this job is no longer current. */
async function report(run: Run, status: LoadStatus, patch: StatusPatch = {}): Promise<void> {
  const result = await statusStub(run.env, run.job.statusKey).advance(run.job.jobId, status, patch);
  if (!result.ok) throw new SupersededError();
}

/** Runs one message's worth of work for `message.job`. */
export async function runChunk(
  env: Env,
  config: Config,
  db: Client,
  message: LoaderMessage,
  log: Run['log'],
): Promise<ChunkOutcome> {
  const job = await getJob(db, message.job);
  if (!job || job.state === 'fail' || job.state === 'superseded') return 'skipped';
  const current = await statusStub(env, job.statusKey).read();
  if (job.state === 'done') {
    // The swap committed but the final status update was lost: report it now.
    if (current && current.job === job.jobId && current.status !== 'done') {
      await statusStub(env, job.statusKey).advance(job.jobId, 'done', {
        progress: job.rowsLoaded,
        total: job.rowsLoaded,
        fraction: 1,
      });
    }
    return 'skipped';
  }
  if (!current || current.job !== job.jobId) throw new SupersededError();
  const run: Run = { env, config, db, job, log };
  if (job.state === 'queued') {
    const prepared = await prepare(run);
    if (prepared === 'done') return 'done';
  }
  return loadRows(run);
}

/** First message: descriptor, validation, staging table. Returns 'done' for an unchanged package. */
async function prepare(run: Run): Promise<'done' | 'ready'> {
  const { config, job } = run;
  await report(run, 'initializing', { progress: 0, fraction: 0 });

  await report(run, 'loading-datapackage');
  const sign = datastoreSigner(config);
  const text = await fetchText(job.statusKey, 'datapackage.json', config.OS_LOADER_MAX_DESCRIPTOR_BYTES, sign);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new PermanentError('datapackage.json is not valid JSON');
  }

  await report(run, 'validating-datapackage');
  const pkg = parseFiscalPackage(json, config.extraColumnTypes);
  if (pkg.owner !== job.userid) {
    throw new PermanentError(`the datapackage owner "${pkg.owner}" is not the uploading user`);
  }
  const id = packageId(pkg.owner, pkg.name);
  await setPackageAlias(run.env, id, job.statusKey);
  const resourceUrl = resourceUrlOf(job.statusKey, pkg);
  const allowed = checkFetchUrl(resourceUrl, job.userid, policyFromConfig(config));
  if (!allowed.ok) throw new PermanentError(`resource ${resourceUrl}: ${allowed.error}`);
  const info = await probeResource(resourceUrl, sign);
  const descriptorHash = await sha256Hex(text);

  const previous = await lastDoneJob(run.db, id);
  const target = factTableName(pkg.owner, pkg.name);
  if (
    previous &&
    info.etag !== null &&
    previous.dataEtag === info.etag &&
    previous.descriptorHash === descriptorHash &&
    previous.resourceUrl === resourceUrl &&
    (await tableExists(run.db, target)) &&
    (await getPackage(run.db, id)) !== null
  ) {
    return finishUnchanged(run, id, previous);
  }

  await report(run, 'loading-resource');
  const staging = stagingTableName(job.jobId);
  const columns = columnNames(pkg.resource.fields.map((f) => f.name));
  const plan = prepareLoad(pkg, staging, target, columns);
  // Fail on a model or format problem now, not after loading every row.
  plan.babbageModel();
  plan.caster(null);
  // The previous table stays until the final swap (decision 3); this step
  // only says there is one to replace.
  if (await tableExists(run.db, target)) await report(run, 'deleting-table');

  await report(run, 'creating-table');
  await transaction(run.db, async () => {
    const locked = await getJob(run.db, job.jobId, true);
    if (!locked || locked.state !== 'queued') throw new CheckpointConflictError();
    await run.db.query(`DROP TABLE IF EXISTS ${quoteIdent(staging)}`);
    for (const statement of plan.createSql) await run.db.query(statement);
    await run.db.query(
      `UPDATE load_jobs SET state = 'loading', package_id = $2, descriptor = $3, descriptor_hash = $4,
         resource_url = $5, data_etag = $6, staging_table = $7, target_table = $8, columns = $9,
         content_length = $10, byte_offset = 0, rows_loaded = 0, updated_at = now()
       WHERE job_id = $1`,
      [
        job.jobId,
        id,
        JSON.stringify(pkg.descriptor),
        descriptorHash,
        resourceUrl,
        info.etag,
        staging,
        target,
        JSON.stringify(columns),
        info.length,
      ],
    );
  });
  Object.assign(job, {
    state: 'loading',
    packageId: id,
    descriptor: pkg.descriptor,
    descriptorHash,
    resourceUrl,
    dataEtag: info.etag,
    stagingTable: staging,
    targetTable: target,
    columns,
    contentLength: info.length,
    byteOffset: 0,
    rowsLoaded: 0,
  } satisfies Partial<Job>);
  await report(run, 'loading-data-ready');
  return 'ready';
}

/** Re-upload of an unchanged package: no data load; metadata refreshed as a load would. */
async function finishUnchanged(run: Run, id: string, previous: Job): Promise<'done'> {
  await report(run, 'saving-metadata');
  const rows = previous.rowsLoaded;
  await transaction(run.db, async () => {
    const locked = await getJob(run.db, run.job.jobId, true);
    if (!locked || locked.state !== 'queued') throw new CheckpointConflictError();
    const doc = await getPackage(run.db, id);
    if (!doc) throw new CheckpointConflictError();
    // Every upload makes the package private again (api.md quirk 13).
    await upsertPackage(run.db, {
      ...doc,
      package: { ...doc.package, private: true },
      origin_url: run.job.statusKey,
      loaded: true,
      last_update: Date.now() / 1000,
    });
    await run.db.query(
      `UPDATE load_jobs SET state = 'done', package_id = $2, descriptor_hash = $3, data_etag = $4, resource_url = $5,
         target_table = $6, rows_loaded = $7, updated_at = now() WHERE job_id = $1`,
      [run.job.jobId, id, previous.descriptorHash, previous.dataEtag, previous.resourceUrl, previous.targetTable, rows],
    );
  });
  await clearCache(run, id);
  await report(run, 'done', { progress: rows, total: rows, fraction: 1 });
  return 'done';
}

/** The plan of a job in the loading state (recomputed from the stored descriptor). */
function planOf(job: Job): PreparedLoad {
  if (!job.descriptor || !job.stagingTable || !job.targetTable || !job.columns) {
    throw new PermanentError('internal: job lost its load plan');
  }
  return prepareLoad(parseFiscalPackage(job.descriptor), job.stagingTable, job.targetTable, job.columns);
}

/** Batch writes queued on the connection at once (see loadRows). */
const MAX_BATCHES_IN_FLIGHT = 2;

/** Loads rows from the checkpoint on; finishes the job at the end of the file. */
async function loadRows(run: Run): Promise<ChunkOutcome> {
  const { job, config, db } = run;
  const plan = planOf(job);
  const resourceUrl = job.resourceUrl as string;
  const started = Date.now();
  const deadline = started + config.OS_LOADER_CHUNK_SECONDS * 1000;
  const chunkRowLimit = config.OS_LOADER_CHUNK_ROWS;
  const batchRows = config.OS_LOADER_BATCH_ROWS;

  await report(run, 'loading-data', { progress: job.rowsLoaded, fraction: fractionOf(job) });
  await db.query('UPDATE load_jobs SET chunks = chunks + 1, updated_at = now() WHERE job_id = $1', [job.jobId]);

  // The previous message stopped exactly at the end of the file: nothing left to read.
  if (job.contentLength !== null && job.byteOffset > 0 && job.byteOffset === job.contentLength) return finish(run, plan);
  const opened = await openResource(resourceUrl, job.byteOffset, datastoreSigner(config));
  if (job.dataEtag && opened.etag && opened.etag !== job.dataEtag) {
    await opened.reader.cancel();
    throw new PermanentError(`data file ${resourceUrl} changed during the load; upload again`);
  }
  const resuming = job.byteOffset > 0;
  // The first chunk reads the first block ahead to complete the dialect from it.
  let first: Uint8Array | null | undefined;
  let dialect = job.dialect?.dialect ?? plan.pkg.resource.dialect;
  if (!resuming && !job.dialect) {
    first = await opened.reader.read();
    dialect = (await fixDialect(run, plan, first)).dialect;
  }
  const parser = new CsvParser(dialect, plan.pkg.resource.encoding, {
    startOffset: job.byteOffset,
    rowsBefore: job.rowsLoaded,
    ...(resuming ? { expectedFields: job.csvHeader?.length ?? plan.pkg.resource.fields.length } : {}),
  });
  // Values are picked by header name; a resumed chunk has no header row, so
  // the first chunk stores it before its first batch.
  let castRow = resuming || !dialect.header ? plan.caster(job.csvHeader) : null;
  // A server that ignored Range sent the whole file: skip what is loaded.
  let toSkip = opened.ranged ? 0 : job.byteOffset;

  let batch: Array<Array<string | null>> = [];
  let batchEnd = job.byteOffset;
  // Batch writes sent and not yet committed, oldest first. Two may be queued on
  // the connection so Postgres starts the next one as soon as one commits; if
  // one fails, the next fails too (its checkpoint no longer matches).
  const inFlight: Array<Promise<void>> = [];
  const settle = async (): Promise<void> => {
    while (inFlight.length > 0) await inFlight.shift();
  };
  let committedOffset = job.byteOffset;
  let committedRows = job.rowsLoaded;
  let chunkRows = 0;
  let lastFlush = Date.now();
  // Time the parser waited for the previous batch's write (the database was the bottleneck).
  let waitedMs = 0;
  // Parsed rows past the chunk's limit, left for the next message.
  let rowsLeft = false;

  const flush = async (): Promise<void> => {
    if (batch.length === 0) return;
    const rows = batch;
    const end = batchEnd;
    batch = [];
    const from = committedOffset;
    const newRows = committedRows + rows.length;
    const waitFrom = Date.now();
    while (inFlight.length >= MAX_BATCHES_IN_FLIGHT) await inFlight.shift();
    waitedMs += Date.now() - waitFrom;
    const write = (async () => {
      // Rows and checkpoint commit together; a moved checkpoint rolls both back.
      const checkpoint = checkpointSql(job.jobId, from, end, newRows);
      try {
        if (config.OS_LOADER_INSERT_METHOD === 'copy') {
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
      job.byteOffset = end;
      job.rowsLoaded = newRows;
      await report(run, 'loading-data', { progress: newRows, fraction: fractionOf(job) });
    })();
    write.catch(() => undefined); // awaited in order by settle(); not an unhandled rejection meanwhile
    inFlight.push(write);
    committedOffset = end;
    committedRows = newRows;
    lastFlush = Date.now();
  };

  /** Casts and batches parsed rows; rows past the chunk's limit are left for the next message. */
  const take = async (rows: ParsedRow[]): Promise<void> => {
    if (rows.length === 0) return;
    if (!castRow) {
      // First rows of the file: keep the header for the chunks that resume
      // without it (stored before any batch can commit).
      const header = parser.header ?? null;
      castRow = plan.caster(header);
      if (header) {
        await db.query(
          `UPDATE load_jobs SET csv_header = $2, updated_at = now() WHERE job_id = $1 AND state = 'loading' AND byte_offset = 0`,
          [job.jobId, JSON.stringify(header)],
        );
        job.csvHeader = header;
      }
    }
    for (const r of rows) {
      if (chunkRows >= chunkRowLimit) {
        rowsLeft = true;
        return;
      }
      batch.push(castRow(r.fields, r.row));
      batchEnd = r.end;
      chunkRows++;
      if (batch.length >= batchRows) await flush();
    }
  };

  /** Commits what is batched and leaves the rest of the file to the next message. */
  const handOn = async (): Promise<ChunkOutcome> => {
    await flush();
    await settle();
    await opened.reader.cancel();
    await run.env.LOADER_QUEUE.send({ kind: 'load', job: job.jobId } satisfies LoaderMessage);
    run.log('loader chunk handed on', {
      job: job.jobId,
      rows: committedRows,
      offset: committedOffset,
      chunkRows,
      ms: Date.now() - started,
      waitedForDbMs: waitedMs,
    });
    return 'continued';
  };

  let finished = false;
  try {
    for (;;) {
      const block = first !== undefined ? first : await opened.reader.read();
      first = undefined;
      if (block === null) break;
      let bytes = block;
      if (toSkip > 0) {
        if (bytes.byteLength <= toSkip) {
          toSkip -= bytes.byteLength;
          continue;
        }
        bytes = bytes.subarray(toSkip);
        toSkip = 0;
      }
      await take(parser.push(bytes));
      // Let the database connection's replies and writes run: a read that
      // resolves from buffered data does not give the event loop a turn.
      await new Promise((resolve) => setTimeout(resolve, 0));
      // Progress at least once a second, even with a slow stream.
      if (batch.length > 0 && Date.now() - lastFlush >= 1000) await flush();
      // At the row limit the loop reads on: the end of the file finishes the
      // load here, anything else is left for the next message.
      if (rowsLeft || Date.now() >= deadline) return await handOn();
    }
    if (toSkip > 0) throw new PermanentError(`data file ${resourceUrl} is shorter than the loaded part (it changed)`);
    await take(parser.end());
    if (rowsLeft) return await handOn();
    await flush();
    await settle();
    finished = true;
  } finally {
    if (!finished) {
      // Let an in-flight batch settle so its error (not a stray rejection) is what propagates.
      await Promise.allSettled(inFlight);
    }
  }
  return finish(run, plan);
}

/**
 * The dialect of a load: the declared keys, the others detected from the
 * file's first block (`first`, null for an empty file). Stored for the chunks
 * that resume, logged, and shown in the status.
 */
async function fixDialect(run: Run, plan: PreparedLoad, first: Uint8Array | null): Promise<ResolvedDialect> {
  const { resource, descriptor } = plan.pkg;
  const sample = first ?? new Uint8Array(0);
  const resolved = resolveDialect(
    resource.dialect,
    declaredDialectKeys(descriptor),
    sample,
    resource.encoding,
    sample.byteLength > SAMPLE_BYTES,
  );
  await run.db.query(
    `UPDATE load_jobs SET dialect = $2, updated_at = now() WHERE job_id = $1 AND state = 'loading' AND byte_offset = 0`,
    [run.job.jobId, JSON.stringify(resolved)],
  );
  run.job.dialect = resolved;
  const shown = dialectView(resolved);
  run.log('loader CSV dialect', { job: run.job.jobId, ...shown });
  await report(run, 'loading-data', { dialect: shown });
  return resolved;
}

function fractionOf(job: Job): number | null {
  if (!job.contentLength) return null;
  return Math.min(1, job.byteOffset / job.contentLength);
}

/** Babbage model, registry document, atomic swap, done. */
async function finish(run: Run, plan: PreparedLoad): Promise<ChunkOutcome> {
  const { job, db } = run;
  await report(run, 'creating-babbage-model', { progress: job.rowsLoaded, fraction: 1 });
  const model = plan.babbageModel();

  await report(run, 'saving-metadata');
  const pkg = plan.pkg;
  const doc = buildRegistryDocument({
    id: job.packageId as string,
    name: pkg.name,
    owner: pkg.owner,
    descriptor: pkg.descriptor,
    model,
    originUrl: job.statusKey,
    now: Date.now(),
  });
  const staging = job.stagingTable as string;
  const target = job.targetTable as string;
  await transaction(db, async () => {
    const locked = await getJob(db, job.jobId, true);
    if (!locked || locked.state !== 'loading' || locked.byteOffset !== job.byteOffset) {
      throw new CheckpointConflictError();
    }
    // Still the current upload? (checked under the lock, right before the swap)
    const current = await statusStub(run.env, job.statusKey).read();
    if (!current || current.job !== job.jobId) throw new SupersededError();
    for (const sql of swapTableSql(staging, target, factTableIndexes(plan.pkg).length)) await db.query(sql);
    await upsertPackage(db, doc);
    await db.query(`UPDATE load_jobs SET state = 'done', updated_at = now() WHERE job_id = $1`, [job.jobId]);
  });
  // The registry row is committed; mirror it to the search index now (a
  // failure stays queued in the outbox and is retried, never fails the load).
  await syncAfterWrite(run.config, db, job.packageId as string);
  await clearCache(run, job.packageId as string);
  await report(run, 'done', { progress: job.rowsLoaded, total: job.rowsLoaded, fraction: 1 });
  return 'done';
}

/**
 * Clears os-api's cache of the package (OS_API_CACHE). The new data is
 * already committed, so a cache problem is logged, not a failed load.
 */
async function clearCache(run: Run, packageId: string): Promise<void> {
  try {
    await clearOsApiCache(run.config, packageId);
  } catch (err) {
    run.log('loader: os-api cache not cleared', { package: packageId, error: errorMessage(err) });
  }
}

/** Cleans up after a job that will not finish: staging table dropped, job closed. */
export async function abandonJob(db: Client, job: Job): Promise<void> {
  if (job.stagingTable) await db.query(`DROP TABLE IF EXISTS ${quoteIdent(job.stagingTable)}`);
}

export type { Run };
