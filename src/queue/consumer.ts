/**
 * The loader queue consumer: one chunk of one job per message, then ack;
 * transient errors retry the message (with back-off), permanent ones fail
 * the load (status `fail` with the error, staging table dropped) and ack.
 */
import { getConfig, type Config } from '../config.ts';
import { withDb } from '../db/client.ts';
import { statusStub } from '../durable/status-client.ts';
import type { Env } from '../env.ts';
import { createLogger } from '../http/log.ts';
import { classifyError, errorMessage, retryDelaySeconds } from './errors.ts';
import { closeJob, getJob } from './jobs.ts';
import { abandonJob, runChunk } from './loader.ts';
import { LoaderMessageSchema, type LoaderMessage } from './messages.ts';

/** Deliveries of one message before a transient problem fails the load. */
export const MAX_ATTEMPTS = 6;

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
  log: (msg: string, fields?: Record<string, unknown>) => void,
): Promise<void> {
  try {
    const outcome = await withDb(config, (db) => runChunk(env, config, db, body, log));
    log('loader: chunk finished', { job: body.job, outcome });
    message.ack();
    return;
  } catch (err) {
    const kind = classifyError(err);
    const error = errorMessage(err);
    if (kind === 'conflict') {
      // Another delivery owns the job now.
      log('loader: duplicate delivery stopped', { job: body.job });
      message.ack();
      return;
    }
    if (kind === 'transient' && message.attempts < MAX_ATTEMPTS) {
      log('loader: transient error, retrying', { job: body.job, attempt: message.attempts, error });
      await heartbeat(env, config, body.job);
      message.retry({ delaySeconds: retryDelaySeconds(message.attempts) });
      return;
    }
    const final = kind === 'transient' ? `gave up after ${message.attempts} attempts: ${error}` : error;
    await endJob(env, config, body.job, kind === 'superseded' ? 'superseded' : 'fail', final).catch((e: Error) => {
      log('loader: could not record the failure', { job: body.job, error: e.message });
    });
    log('loader: job ended', { job: body.job, kind, error: final });
    message.ack();
  }
}

/** Keeps the status fresh while a message waits for its retry (the stall alarm). */
async function heartbeat(env: Env, config: Config, jobId: string): Promise<void> {
  await withDb(config, async (db) => {
    const job = await getJob(db, jobId);
    if (!job) return;
    const stub = statusStub(env, job.statusKey);
    const current = await stub.read();
    if (current && current.job === jobId) await stub.advance(jobId, current.status);
  }).catch(() => undefined);
}

/** Fails (or retires) a job: status first, so the user sees it even if Postgres is down. */
async function endJob(
  env: Env,
  config: Config,
  jobId: string,
  state: 'fail' | 'superseded',
  error: string,
): Promise<void> {
  await withDb(config, async (db) => {
    const job = await getJob(db, jobId);
    if (!job) return;
    // Also for a "superseded" job: the object refuses it when another job is
    // current, and a job that is still current must never be left running.
    await statusStub(env, job.statusKey).advance(jobId, 'fail', { error });
    await abandonJob(db, job);
    await closeJob(db, jobId, state, error);
  });
}
