/**
 * The fault soak (issue 9): the real loader queue consumer against the real
 * Postgres and S3 servers, uploads through the real POST /package/upload
 * route, with faults drawn from a seed (see schedule.ts and run.ts). CI runs
 * fixed seeds 1..200; `npm run bench:soak` runs random ones (OS_SOAK_SEED,
 * OS_SOAK_SCHEDULES through test/services.ts) and reads the `SOAK ` lines.
 */
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { runSchedule } from './run.ts';
import { describeSchedule, scheduleFor } from './schedule.ts';

const count = Number(env.OS_TEST_SOAK_SCHEDULES ?? 200);
const first = Number(env.OS_TEST_SOAK_SEED ?? 1);

describe('fault soak', () => {
  for (let seed = first; seed < first + count; seed++) {
    const schedule = scheduleFor(seed);
    it(`seed ${seed}: ${describeSchedule(schedule)}`, { timeout: 90_000 }, async () => {
      const result = await runSchedule(schedule);
      console.log(`SOAK ${JSON.stringify(result)}`);
      expect(result.broken).toEqual([]);
    });
  }
});
