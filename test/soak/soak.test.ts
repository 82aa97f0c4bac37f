/**
 * The fault soak (issue 9): the real loader queue consumer against the real
 * Postgres and S3 servers, uploads through the real POST /package/upload
 * route, with faults drawn from a seed (see schedule.ts and run.ts). CI runs
 * fixed seeds 1..200; `npm run bench:soak` runs random ones (OS_SOAK_SEED,
 * OS_SOAK_SCHEDULES through test/services.ts) and reads the `SOAK ` lines.
 */
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { withDb } from '../../src/db/client.ts';
import { setProxyFaults } from './harness.ts';
import { runSchedule } from './run.ts';
import { describeSchedule, scheduleFor } from './schedule.ts';

const count = Number(env.OS_TEST_SOAK_SCHEDULES ?? 200);
const first = Number(env.OS_TEST_SOAK_SEED ?? 1);

describe('a lost database connection', () => {
  // Found by the soak: after a drop the driver's end() never settled, so a
  // delivery hung until the platform killed it instead of failing at once.
  it.each(['close', 'reset'] as const)('(%s) fails the work promptly instead of hanging', { timeout: 30_000 }, async (mode) => {
    await setProxyFaults({ dbDrops: [{ connection: 1, afterFrames: 6, mode }], s3Faults: [] });
    const cfg = { OS_CONDUCTOR_ENGINE: String(env.OS_CONDUCTOR_ENGINE), OS_DB_WS_PROXY: String(env.OS_TEST_SOAK_DB_PROXY) };
    const started = Date.now();
    try {
      const outcome = withDb(cfg, async (db) => {
        for (let i = 0; i < 50; i++) await db.query('SELECT 1');
      });
      await expect(outcome).rejects.toThrow();
      expect(Date.now() - started).toBeLessThan(10_000);
    } finally {
      expect(await setProxyFaults(null)).toBe(1);
    }
  });
});

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
