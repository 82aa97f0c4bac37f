import type { Env } from '../env.ts';

/** Loader queue consumer. */
export async function handleLoaderBatch(
  batch: MessageBatch<unknown>,
  _env: Env,
  _ctx: ExecutionContext,
): Promise<void> {
  batch.ackAll();
}
