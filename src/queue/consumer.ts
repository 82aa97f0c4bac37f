/**
 * The loader queue consumer: one chunk of one job per message, then ack.
 * Transient errors retry the message (with back-off); permanent ones end the
 * job `fail` with the error. A message is worked on at most MAX_ATTEMPTS
 * times: a delivery after that (the previous ones crashed the isolate, timed
 * out or kept failing) ends its job `fail` and goes to the dead-letter
 * queue. Jobs end through src/jobs/lifecycle.ts (Postgres, staging table,
 * status), so a duplicate or late delivery finds its job ended and stops.
 */
import { getConfig, type Config } from '../config.ts';
import { withDb } from '../db/client.ts';
import { statusOf } from '../durable/status-client.ts';
import type { Env } from '../env.ts';
import { createLogger } from '../http/log.ts';
import { endJob, getJob, SUPERSEDED, type Job } from '../jobs/lifecycle.ts';
import { classifyError, errorMessage, retryDelaySeconds } from './errors.ts';
import { runChunk } from './loader.ts';
import { LoaderMessageSchema, type LoaderMessage } from './messages.ts';

/** Deliveries of one message before it is given up (below the queue's max_retries, see wrangler.toml). */
export const MAX_ATTEMPTS = 6;

type Log = (msg: string, fields?: Record<string, unknown>) => void;

/** Processes a batch of loader messages (the Worker's `queue` handler). */
export async function handleLoaderBatch(
  batch: MessageBatch<unknown>,
  env: Env,
  _ctx: ExecutionContext,
): Promise<void> {
  const config = getConfig(env);
  for (const message of batch.messages) {
    const log = createLogger(`queue:${message.id}`);
    const parsed = LoaderMessageSchema.safeParse(message.body);
    if (!parsed.success) {
      log('warn', 'loader: dropping a malformed message', { issue: parsed.error.issues[0]?.message });
      message.ack();
      continue;
    }
    await handleMessage(env, config, parsed.data, message, (msg, fields) => log('info', msg, fields));
  }
}

async function handleMessage(
  env: Env,
  config: Config,
  body: LoaderMessage,
  message: Message<unknown>,
  log: Log,
): Promise<void> {
  if (message.attempts > MAX_ATTEMPTS) {
    const error = `the load was given up after ${message.attempts - 1} attempts that crashed or timed out`;
    await giveUp(env, config, body, message, error, log);
    return;
  }
  try {
    const outcome = await withDb(config, (db) => runChunk(env, config, db, body, log));
    if (typeof outcome === 'object') await settleEnded(env, config, outcome);
    log('loader: chunk finished', { job: body.job, outcome: typeof outcome === 'object' ? outcome.state : outcome });
    message.ack();
    return;
  } catch (err) {
    const kind = classifyError(err);
    const error = errorMessage(err);
    if (kind === 'conflict') {
      // Another delivery moved the job on, or something ended it: nothing to do here.
      log('loader: duplicate delivery stopped', { job: body.job });
      await settleIfEnded(env, config, body.job).catch(() => undefined);
      message.ack();
      return;
    }
    if (kind === 'superseded') {
      await endAs(env, config, body.job, 'superseded', SUPERSEDED, log);
      message.ack();
      return;
    }
    if (kind === 'transient' && message.attempts < MAX_ATTEMPTS) {
      log('loader: transient error, retrying', { job: body.job, attempt: message.attempts, error });
      await heartbeat(env, config, body.job);
      message.retry({ delaySeconds: retryDelaySeconds(message.attempts) });
      return;
    }
    if (kind === 'transient') {
      await giveUp(env, config, body, message, `gave up after ${message.attempts} attempts: ${error}`, log);
      return;
    }
    await endAs(env, config, body.job, 'fail', error, log);
    message.ack();
  }
}

/** Ends the job `fail`, parks the message in the dead-letter queue, acks it. */
async function giveUp(env: Env, config: Config, body: LoaderMessage, message: Message<unknown>, error: string, log: Log) {
  await endAs(env, config, body.job, 'fail', error, log);
  try {
    await env.LOADER_DLQ?.send({ ...body, error, attempts: message.attempts });
  } catch (e) {
    log('loader: could not park the message in the dead-letter queue', { job: body.job, error: errorMessage(e) });
  }
  message.ack();
}

async function endAs(env: Env, config: Config, jobId: string, state: 'fail' | 'superseded', error: string, log: Log) {
  try {
    await withDb(config, (db) => endJob(env, db, jobId, state, error, config.OS_LOADER_HISTORY_KEEP));
    log('loader: job ended', { job: jobId, state, error });
  } catch (e) {
    // Postgres is unreachable: the status object's stall alarm ends the job later.
    log('loader: could not record the end of the job', { job: jobId, error: errorMessage(e) });
  }
}

/** A job found ended (by another delivery, the stall alarm, a newer upload): its cleanup, again (idempotent). */
async function settleEnded(env: Env, config: Config, job: Job): Promise<void> {
  if (job.state !== 'fail' && job.state !== 'superseded') return;
  await withDb(config, (db) => endJob(env, db, job.jobId, job.state as 'fail' | 'superseded', job.error ?? 'load failed', config.OS_LOADER_HISTORY_KEEP),
  );
}

async function settleIfEnded(env: Env, config: Config, jobId: string): Promise<void> {
  const job = await withDb(config, (db) => getJob(db, jobId));
  if (job) await settleEnded(env, config, job);
}

/** Keeps the status fresh while a message waits for its retry (the stall alarm). */
async function heartbeat(env: Env, config: Config, jobId: string): Promise<void> {
  await withDb(config, async (db) => {
    const job = await getJob(db, jobId);
    if (!job) return;
    const stub = statusOf(env, job.statusKey);
    const current = await stub.read();
    if (current && current.job === jobId) await stub.advance(jobId, current.status);
  }).catch(() => undefined);
}
