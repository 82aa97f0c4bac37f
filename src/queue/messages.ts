/**
 * The loader queue's message format. A message names a job; the job's
 * state and checkpoint live in Postgres (`load_jobs`), so a message is the
 * same whether it is the first, a continuation or a redelivery.
 */
import { z } from 'zod';

export const LoaderMessageSchema = z.object({
  kind: z.literal('load'),
  job: z.uuid(),
});

export type LoaderMessage = z.infer<typeof LoaderMessageSchema>;
