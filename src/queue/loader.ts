/**
 * The load steps, run by the queue consumer one message at a time. The job
 * and its transitions are src/jobs/lifecycle.ts's; this module does the work
 * between them.
 *
 * The first message prepares the job (fetch and validate the descriptor,
 * claim the package, compute and store the load plan, create a NEW staging
 * table); every message then loads rows from the job's checkpoint for at
 * most OS_LOADER_CHUNK_ROWS rows / OS_LOADER_CHUNK_SECONDS seconds and
 * enqueues the next message; the message that reaches the end of the CSV
 * swaps the staging table in, with the registry write, in one transaction.
 * Until that commit the previous table and registry entry are untouched, so
 * a failed, interrupted or empty reload changes nothing.
 *
 * Exactly-once rows: each batch's rows and the checkpoint commit together
 * (batch-writer.ts), under the job's row lock, and only from where this
 * delivery started. A redelivered or duplicated message therefore resumes
 * from the last committed batch, and a second delivery racing the first
 * stops at its first commit. Status updates are the job's live view only:
 * one a duplicate reports late is refused by the status object and ignored.
 */
import type { Client } from '@neondatabase/serverless';
import { clearOsApiCache } from '../cache/os-api-cache.ts';
import type { Config } from '../config.ts';
import type { StatusPatch } from '../durable/package-status.ts';
import { setPackageAlias, startStatus, statusOf } from '../durable/status-client.ts';
import type { LoadStatus } from '../durable/status-machine.ts';
import type { Env } from '../env.ts';
import {
  beginLoading,
  claimPackage,
  commitLoad,
  commitUnchanged,
  getJob,
  noteChunk,
  priorLoad,
  saveCsvHeader,
  saveDialect,
  saveReport,
  saveValidation,
  stagingTableName,
  type Job,
  type Refusal,
} from '../jobs/lifecycle.ts';
import { CastError, headerIndexes, type RowChecker } from '../loader/cast.ts';
import type { CopyBuffer } from '../loader/copy-bytes.ts';
import { CsvError, CsvParser, type ParsedRow } from '../loader/csv.ts';
import {
  addErrors,
  cellErrors,
  emptyValidation,
  encodingError,
  fatalError,
  missingLabel,
  summarySentence,
  type StoredError,
  type ValidationState,
} from '../loader/report.ts';
import { declaredDialectKeys, dialectView, resolveDialect, SAMPLE_BYTES, type ResolvedDialect } from '../loader/dialect.ts';
import { factTableName, packageId } from '../loader/naming.ts';
import { swapTableSql } from '../loader/sql.ts';
import { writeRegistry } from '../registry/index-sync.ts';
import { buildRegistryDocument } from '../registry/document.ts';
import { getPackageStatement, packageFrom, upsertPackageStatement } from '../registry/registry.ts';
import { BatchWriter } from './batch-writer.ts';
import { StatusSender } from './status-sender.ts';
import { CheckpointConflictError, errorMessage, PermanentError, SupersededError } from './errors.ts';
import { datastoreSigner, fetchText, openResource, probeResource } from './http-fetch.ts';
import type { LoaderMessage } from './messages.ts';
import { makePlan, parseFiscalPackage, preparedFrom, resourceUrlOf, type PreparedLoad } from './plan.ts';
import { checkFetchUrl, ownsStatusKey, policyFromConfig } from './url-policy.ts';

/** What one invocation did with its job. */
export type ChunkOutcome = 'done' | 'continued' | 'skipped';

/** Shared by the steps of one invocation. */
interface Run {
  env: Env;
  config: Config;
  db: Client;
  job: Job;
  log: (msg: string, fields?: Record<string, unknown>) => void;
  /**
   * Steps held back while the job may not write its key's status yet: an
   * upload from an allow-listed origin, outside the uploader's datastore
   * folder, gets its status only once its descriptor names the uploader as
   * owner (so no one plants statuses under someone else's URL).
   */
  held?: Array<[LoadStatus, StatusPatch]>;
  /** The status updates, sent without holding up the load (its `waitedMs`: a busy status object shows there). */
  updates: StatusSender<LoadStatus, StatusPatch>;
}

/** The error of a load that read no data rows (loader.md; the original's issue #1120). */
export const NO_DATA_ROWS = 'the data file has no data rows';

async function sha256Hex(text: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('');
}

/**
 * Shows the job's step, without waiting for it (status-sender.ts: in order,
 * progress merged). A refused move (a duplicate reporting late) changes
 * nothing and stops nothing.
 */
function report(run: Run, status: LoadStatus, patch: StatusPatch = {}): void {
  if (run.held) run.held.push([status, patch]);
  else run.updates.push(status, patch);
}

function newRun(env: Env, config: Config, db: Client, job: Job, log: Run['log']): Run {
  const updates = new StatusSender<LoadStatus, StatusPatch>(async (status, patch) => {
    const result = await statusOf(env, job.statusKey).advance(job.jobId, status, patch);
    if (!result.ok && status !== 'loading-data') {
      log('loader: status move refused', { job: job.jobId, to: status, current: result.current?.status });
    }
  });
  return { env, config, db, job, log, updates };
}

/** Turns a refused transition into the error that stops this delivery. */
function stopIf(refusal: Refusal | null): void {
  if (refusal === 'superseded') throw new SupersededError();
  if (refusal === 'conflict') throw new CheckpointConflictError();
}

/** Runs one message's worth of work for `message.job`. Ended jobs are left to the consumer. */
export async function runChunk(
  env: Env,
  config: Config,
  db: Client,
  message: LoaderMessage,
  log: Run['log'],
): Promise<ChunkOutcome | Job> {
  const job = await getJob(db, message.job);
  if (!job) return 'skipped';
  if (job.state === 'fail' || job.state === 'superseded') return job;
  if (job.state === 'done') {
    // The swap committed but the final status update may have been lost: show it now (refused if shown).
    const rows = job.rowsLoaded;
    await statusOf(env, job.statusKey).showEnd(job.jobId, 'done', { progress: rows, total: rows, fraction: 1 });
    return 'skipped';
  }
  const run = newRun(env, config, db, job, log);
  try {
    if (job.state === 'queued' && (await prepare(run)) === 'done') return 'done';
    return await loadChunk(run);
  } catch (err) {
    // The steps shown so far go out before the consumer ends the job.
    await run.updates.settle();
    throw err;
  }
}

/** First message: descriptor, validation, plan, staging table. Returns 'done' for an unchanged package. */
async function prepare(run: Run): Promise<'done' | 'ready'> {
  const { config, job } = run;
  const policy = policyFromConfig(config);
  if (!ownsStatusKey(job.statusKey, job.userid, policy)) run.held = [];
  report(run, 'initializing', { progress: 0, fraction: 0 });

  report(run, 'loading-datapackage');
  const sign = datastoreSigner(config);
  const text = await fetchText(job.statusKey, 'datapackage.json', config.OS_LOADER_MAX_DESCRIPTOR_BYTES, sign);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new PermanentError('datapackage.json is not valid JSON');
  }

  report(run, 'validating-datapackage');
  const pkg = parseFiscalPackage(json, config.extraColumnTypes);
  if (pkg.owner !== job.userid) {
    throw new PermanentError(`the datapackage owner "${pkg.owner}" is not the uploading user`);
  }
  if (run.held) {
    const held = run.held;
    delete run.held;
    await startStatus(run.env, job.statusKey, job.jobId);
    for (const [status, patch] of held) report(run, status, patch);
  }
  const id = packageId(pkg.owner, pkg.name);
  stopIf(await claimPackage(run.db, job.jobId, id));
  job.packageId = id;
  const resourceUrl = resourceUrlOf(job.statusKey, pkg);
  const allowed = checkFetchUrl(resourceUrl, job.userid, policy);
  if (!allowed.ok) throw new PermanentError(`resource ${resourceUrl}: ${allowed.error}`);
  const info = await probeResource(resourceUrl, sign);
  const descriptorHash = await sha256Hex(text);

  const target = factTableName(pkg.owner, pkg.name);
  const prior = await priorLoad(run.db, id, target, [getPackageStatement(id)]);
  const previous = prior.previous;
  if (
    previous &&
    info.etag !== null &&
    previous.dataEtag === info.etag &&
    previous.descriptorHash === descriptorHash &&
    previous.resourceUrl === resourceUrl &&
    prior.tableExists &&
    packageFrom(prior.more[0]) !== null
  ) {
    return finishUnchanged(run, id, previous);
  }

  report(run, 'loading-resource');
  const staging = stagingTableName(job.jobId);
  const plan = makePlan(pkg, staging, target);
  // The previous table stays until the final swap (decision 3); this step
  // only says there is one to replace.
  if (prior.tableExists) report(run, 'deleting-table');

  report(run, 'creating-table');
  stopIf(
    await beginLoading(run.db, job.jobId, {
      plan,
      descriptorHash,
      resourceUrl,
      dataEtag: info.etag,
      contentLength: info.length,
      stagingTable: staging,
      targetTable: target,
      createSql: preparedFrom(plan).createSql,
    }),
  );
  Object.assign(job, {
    state: 'loading',
    plan,
    descriptorHash,
    resourceUrl,
    dataEtag: info.etag,
    stagingTable: staging,
    targetTable: target,
    contentLength: info.length,
    byteOffset: 0,
    rowsLoaded: 0,
  } satisfies Partial<Job>);
  report(run, 'loading-data-ready');
  return 'ready';
}

/** Re-upload of an unchanged package: no data load; metadata refreshed (and mirrored) as a load would. */
async function finishUnchanged(run: Run, id: string, previous: Job): Promise<'done'> {
  report(run, 'saving-metadata');
  const rows = previous.rowsLoaded;
  const refusal = await writeRegistry(
    run.config,
    run.db,
    id,
    () =>
      commitUnchanged(
        run.db,
        run.job.jobId,
        previous,
        {
          read: [getPackageStatement(id)],
          write: ([read]) => {
            const doc = packageFrom(read);
            if (!doc) throw new CheckpointConflictError();
            // Every upload makes the package private again (api.md quirk 13).
            return [
              upsertPackageStatement({
                ...doc,
                package: { ...doc.package, private: true },
                origin_url: run.job.statusKey,
                loaded: true,
                last_update: Date.now() / 1000,
              }),
            ];
          },
        },
        run.config.OS_LOADER_HISTORY_KEEP,
      ),
    { ownTransaction: true },
  );
  stopIf(refusal);
  await setPackageAlias(run.env, id, run.job.statusKey);
  await clearCache(run, id);
  await showDone(run, rows);
  return 'done';
}

function fractionOf(offset: number, job: Job): number | null {
  if (!job.contentLength) return null;
  return Math.min(1, offset / job.contentLength);
}

/** The status figures at a committed point: rows, share done, bytes read (the bytes only the live stream shows). */
function progressAt(offset: number, rows: number, job: Job): StatusPatch {
  return { progress: rows, fraction: fractionOf(offset, job), bytes: offset, bytesTotal: job.contentLength };
}

/**
 * Loads rows from the checkpoint on; finishes the job at the end of the file.
 *
 * At the first bad row the load stops writing (nothing of it goes live, the
 * staging table is dropped when the job fails) and only validates from there:
 * every later row is checked and its problems collected, up to
 * OS_LOADER_MAX_ERRORS, across as many messages as it takes. The validation
 * (rows read, errors so far) is the job's checkpoint then, moved with the byte
 * offset exactly once (saveValidation); at the end of the file or the cap the
 * job fails with a sentence that counts the errors.
 */
async function loadChunk(run: Run): Promise<ChunkOutcome> {
  const { job, config, db } = run;
  if (!job.plan) throw new PermanentError('internal: job lost its load plan');
  const plan = preparedFrom(job.plan);
  const resourceUrl = job.resourceUrl as string;
  const started = Date.now();
  const deadline = started + config.OS_LOADER_CHUNK_SECONDS * 1000;
  const cap = config.OS_LOADER_MAX_ERRORS;
  /** Set once this load met bad data (or it already had when this message started). */
  let validation: ValidationState | null = job.validation;
  /** Byte offset of the job's checkpoint when the validation was last saved, and after the last row it checked. */
  let savedAt = job.byteOffset;
  let checkedTo = job.byteOffset;

  report(run, 'loading-data', progressAt(job.byteOffset, job.rowsLoaded, job));
  // A redelivery after the validation ended, or the previous message stopped
  // exactly at the end of the file: nothing left to read.
  const atEnd = job.contentLength !== null && job.byteOffset > 0 && job.byteOffset === job.contentLength;
  if (validation?.capped || atEnd) {
    await noteChunk(db, job.jobId);
    if (validation) throw new PermanentError(summarySentence(validation));
    return finish(run, plan);
  }
  // The message is counted while the data file opens: one round trip less.
  const [noted, open] = await Promise.allSettled([
    noteChunk(db, job.jobId),
    openResource(resourceUrl, job.byteOffset, datastoreSigner(config)),
  ]);
  if (noted.status === 'rejected') {
    if (open.status === 'fulfilled') await open.value.reader.cancel();
    throw noted.reason;
  }
  if (open.status === 'rejected') throw open.reason;
  const opened = open.value;
  if (job.dataEtag && opened.etag && opened.etag !== job.dataEtag) {
    await opened.reader.cancel();
    throw new PermanentError(`data file ${resourceUrl} changed during the load; upload again`);
  }
  const resuming = job.byteOffset > 0;
  // The first chunk reads the first block ahead to complete the dialect from it.
  let first: Uint8Array | null | undefined;
  let dialect = job.dialect?.dialect ?? job.plan.dialect;
  if (!resuming && !job.dialect) {
    first = await opened.reader.read();
    dialect = (await fixDialect(run, plan, first)).dialect;
  }
  const encoding = job.plan.encoding;
  const parser = new CsvParser(dialect, encoding, {
    startOffset: job.byteOffset,
    rowsBefore: validation ? validation.rows : job.rowsLoaded,
    // Rows of the wrong width or with bad bytes reach the caster, which stops the load, and the checker.
    passBadRows: true,
    ...(resuming ? { expectedFields: job.csvHeader?.length ?? plan.pkg.resource.fields.length } : {}),
  });
  // Values are picked by header name; a resumed chunk has no header row, so
  // the first chunk stores it before its first batch.
  const header = () => (resuming || !dialect.header ? job.csvHeader : (parser.header ?? null));
  let castRow = resuming || !dialect.header ? plan.caster(job.csvHeader) : null;
  let checkRow: RowChecker | null = null;
  // A server that ignored Range sent the whole file: skip what is loaded.
  let toSkip = opened.ranged ? 0 : job.byteOffset;

  const writer = new BatchWriter({
    db,
    jobId: job.jobId,
    plan,
    method: config.OS_LOADER_INSERT_METHOD,
    batchRows: config.OS_LOADER_BATCH_ROWS,
    start: { offset: job.byteOffset, rows: job.rowsLoaded },
    committed: async (at) => {
      job.byteOffset = at.offset;
      job.rowsLoaded = at.rows;
      report(run, 'loading-data', progressAt(at.offset, at.rows, job));
    },
  });
  let chunkRows = 0;

  /**
   * The byte-level fast path (src/loader/copy-bytes.ts): rows it can write
   * as COPY bytes straight from the file never become strings; the parser
   * hands the others to take() as usual. Only before any bad row: then the
   * taker refuses and everything goes through take().
   */
  const takeBytes = (csvHeader: string[] | null): void => {
    const transcode = config.OS_LOADER_INSERT_METHOD === 'copy' ? plan.transcoder(csvHeader, dialect, encoding) : null;
    if (!transcode) return;
    parser.setRowTaker((b, start, stop, quoted, row, end) => {
      if (validation || chunkRows >= config.OS_LOADER_CHUNK_ROWS) return false;
      if (!transcode(b, start, stop, quoted, row, writer.buffer() as CopyBuffer)) return false;
      chunkRows++;
      writer.added(end);
      return true;
    });
  };
  if (castRow) takeBytes(job.csvHeader);

  /** Checks one row into the validation; false once the error cap is reached. */
  const check = (r: ParsedRow): boolean => {
    const v = validation as ValidationState;
    checkRow ??= plan.checker(header());
    v.rows = r.row;
    checkedTo = r.end;
    const found = r.encodingError !== undefined ? [encodingError(r.row, r.encodingError)] : cellErrors(checkRow(r.fields, r.row), r.row);
    return addErrors(v, found, cap);
  };

  /** The first bad row: write no more, keep what is committed as the checkpoint, validate from here. */
  const startValidation = async (r: ParsedRow): Promise<boolean> => {
    writer.discard();
    await writer.settle();
    savedAt = writer.position.offset;
    validation = emptyValidation(r.row - 1);
    run.log('loader: bad data, validating the rest', { job: job.jobId, row: r.row });
    return check(r);
  };

  /** Saves the validation as the checkpoint (exactly once, from where this delivery saved it last). */
  const saveChecked = async (): Promise<void> => {
    stopIf(await saveValidation(db, job.jobId, savedAt, checkedTo, validation as ValidationState));
    savedAt = checkedTo;
    job.byteOffset = checkedTo;
  };

  /** Casts and batches parsed rows (or checks them); false once the chunk's row limit or the error cap is reached. */
  const take = async (rows: ParsedRow[]): Promise<boolean> => {
    // The batches the row taker cut during the push go first: they hold the rows before these.
    await writer.sendSealed();
    if (rows.length === 0) return true;
    if (!castRow && !validation) {
      // First rows of the file: keep the header for the chunks that resume without it.
      const parsed = parser.header ?? null;
      castRow = plan.caster(parsed);
      if (parsed) {
        await saveCsvHeader(db, job.jobId, parsed);
        job.csvHeader = parsed;
      }
      takeBytes(parsed);
    }
    for (const r of rows) {
      if (chunkRows >= config.OS_LOADER_CHUNK_ROWS) return false;
      chunkRows++;
      if (validation) {
        if (!check(r)) return false;
        continue;
      }
      let cast: Array<string | null>;
      try {
        if (r.encodingError !== undefined) throw new CsvError(r.encodingError, r.row);
        cast = (castRow as NonNullable<typeof castRow>)(r.fields, r.row);
      } catch (err) {
        if (!(err instanceof CastError || err instanceof CsvError) || r.row === 0) throw err;
        if (!(await startValidation(r))) return false;
        continue;
      }
      writer.add(cast, r.end, r.plain === true);
      if (writer.full) await writer.flush();
    }
    return true;
  };

  /** Commits what is batched and leaves the rest of the file to the next message. */
  const handOn = async (): Promise<ChunkOutcome> => {
    if (validation) {
      await opened.reader.cancel();
      await saveChecked();
      if (validation.capped) throw new PermanentError(summarySentence(validation));
      report(run, 'loading-data', { fraction: fractionOf(checkedTo, job), bytes: checkedTo, bytesTotal: job.contentLength });
    } else {
      await writer.settle();
      await opened.reader.cancel();
    }
    await run.updates.drain();
    await run.env.LOADER_QUEUE.send({ kind: 'load', job: job.jobId } satisfies LoaderMessage);
    const at = writer.position;
    run.log('loader chunk handed on', {
      job: job.jobId,
      rows: validation ? validation.rows : at.rows,
      offset: validation ? checkedTo : at.offset,
      chunkRows,
      validating: validation !== null,
      ms: Date.now() - started,
      waitedForDbMs: writer.waitedMs,
      waitedForStatusMs: run.updates.waitedMs,
    });
    return 'continued';
  };

  /** The writer's send count at the last yield. */
  let yieldedAt = writer.sends;
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
      const more = await take(parser.push(bytes));
      // After a batch went out, let the connection's writes and replies run: a
      // read that resolves from buffered data does not give the event loop a
      // turn. Only then: a turn per block cost a fifth of the load's time.
      if (writer.sends !== yieldedAt) {
        yieldedAt = writer.sends;
        await new Promise((resolve) => setTimeout(resolve, 0));
      }
      // Progress at least once a second, even with a slow stream.
      if (writer.pending > 0 && Date.now() - writer.lastSentAt >= 1000) await writer.flush();
      // At the row limit the loop reads on only to here: the end of the file
      // finishes the load below, anything else is left for the next message.
      if (!more || Date.now() >= deadline) return await handOn();
    }
    if (toSkip > 0) throw new PermanentError(`data file ${resourceUrl} is shorter than the loaded part (it changed)`);
    if (!(await take(parser.end()))) return await handOn();
    if (validation) {
      await saveChecked();
      throw new PermanentError(summarySentence(validation));
    }
    await writer.settle();
    run.log('loader last chunk written', { job: job.jobId, rows: writer.position.rows, chunkRows, ms: Date.now() - started, waitedForDbMs: writer.waitedMs, waitedForStatusMs: run.updates.waitedMs });
  } catch (err) {
    // Let a batch in flight settle so its error (not a stray rejection) is what propagates.
    await writer.abandon();
    await opened.reader.cancel().catch(() => undefined);
    throw await reportFatal(run, validation, err, header());
  }
  return finish(run, plan);
}

/**
 * A problem that stops the reading (a broken file, a header without the
 * schema's columns) goes into the report too; the job then fails with the
 * error itself, or with the report's sentence when rows had errors before.
 */
async function reportFatal(run: Run, validation: ValidationState | null, err: unknown, header: string[] | null): Promise<unknown> {
  const fields = run.job.plan?.pkg.resource.fields ?? [];
  let found: StoredError[];
  if (err instanceof CastError && err.row === 0 && header) {
    const indexes = headerIndexes(fields, header);
    found = fields.flatMap((f, i) => (indexes[i] === -1 ? [missingLabel(f.name, i + 1, header, err.message)] : []));
  } else if (err instanceof CsvError) {
    found = [fatalError(/is not valid .* text/.test(err.message) ? 'encoding-error' : 'source-error', err.message, err.row)];
  } else {
    return err;
  }
  // Past the cap if need be: the reason the reading stopped is always shown.
  const state = validation ?? emptyValidation(run.job.rowsLoaded);
  state.errors.push(...found);
  await saveReport(run.db, run.job.jobId, state);
  return validation ? new PermanentError(summarySentence(state)) : err;
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
  await saveDialect(run.db, run.job.jobId, resolved);
  run.job.dialect = resolved;
  const shown = dialectView(resolved);
  run.log('loader CSV dialect', { job: run.job.jobId, ...shown });
  report(run, 'loading-data', { dialect: shown });
  return resolved;
}

/** Babbage model, registry document, atomic swap, done. */
async function finish(run: Run, plan: PreparedLoad): Promise<ChunkOutcome> {
  const { job, db } = run;
  // An empty file, or a header only: keep the previous version (the original's issue #1120).
  if (job.rowsLoaded === 0) throw new PermanentError(NO_DATA_ROWS);
  report(run, 'creating-babbage-model', { progress: job.rowsLoaded, fraction: 1 });
  const model = plan.babbageModel();

  report(run, 'saving-metadata');
  const pkg = plan.pkg;
  const id = job.packageId as string;
  const doc = buildRegistryDocument({
    id,
    name: pkg.name,
    owner: pkg.owner,
    descriptor: pkg.descriptor,
    model,
    originUrl: job.statusKey,
    now: Date.now(),
  });
  const swap = swapTableSql(job.stagingTable as string, job.targetTable as string, job.plan?.indexes ?? 0);
  const refusal = await writeRegistry(
    run.config,
    db,
    id,
    () => commitLoad(db, job, [...swap.map((text) => ({ text })), upsertPackageStatement(doc)], run.config.OS_LOADER_HISTORY_KEEP),
    { ownTransaction: true },
  );
  stopIf(refusal);
  // The package id now answers with this job's status (the job that committed, not the one that started last).
  await setPackageAlias(run.env, id, job.statusKey);
  await clearCache(run, id);
  await showDone(run, job.rowsLoaded);
  return 'done';
}

/** The committed job's status: done, from whatever step a duplicate left it at. */
async function showDone(run: Run, rows: number): Promise<void> {
  await run.updates.drain();
  await statusOf(run.env, run.job.statusKey).showEnd(run.job.jobId, 'done', { progress: rows, total: rows, fraction: 1 });
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
