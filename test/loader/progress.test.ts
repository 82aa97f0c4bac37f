/**
 * OS_STATUS_PROGRESS through the real load path: the package's files PUT to
 * S3, /package/upload and /package/status on the Worker configured with the
 * mode, and the queue consumer loading a 2,000-row package in 500-row chunks,
 * the status read between chunks as a polling client would.
 */
import { describe, expect, it } from 'vitest';
import type { LoaderMessage } from '../../src/queue/messages.ts';
import { callWith as send } from '../helpers/app.ts';
import { deliver, drivenEnv, publishFixture, type StatusBody } from './helpers.ts';

/** Uploads uk-cra, loads it one message at a time; every status body seen, the last one `done`. */
async function loadPolling(settings: Record<string, string>): Promise<StatusBody[]> {
  const sent: LoaderMessage[] = [];
  const e = drivenEnv(sent, settings);
  const pub = await publishFixture('fdp/uk-cra', { noUpload: true });
  const up = await send(e, `/package/upload?datapackage=${encodeURIComponent(pub.url)}&jwt=${encodeURIComponent(pub.token)}`, {
    method: 'POST',
  });
  expect(await up.json()).toEqual({ progress: 0, status: 'queued' });
  const seen: StatusBody[] = [];
  const poll = async () => {
    const res = await send(e, `/package/status?datapackage=${encodeURIComponent(pub.url)}`);
    expect(res.status).toBe(200);
    seen.push((await res.json()) as StatusBody);
  };
  await poll();
  for (let m = sent.shift(), n = 0; m; m = sent.shift(), n++) {
    if (n > 50) throw new Error('too many messages');
    const result = await deliver(e, m);
    expect(result.retryMessages).toEqual([]);
    await poll();
  }
  expect(seen.at(-1)?.status).toBe('done');
  return seen;
}

describe('OS_STATUS_PROGRESS', () => {
  it('fraction: progress is the share done, never above 1, never going back, exactly 1 at done; records given too', async () => {
    const seen = await loadPolling({ OS_STATUS_PROGRESS: 'fraction' });
    expect(seen[0]).toMatchObject({ status: 'queued', progress: 0, records: 0, fraction: 0 });
    const progress = seen.map((s) => s.progress);
    for (const [i, p] of progress.entries()) {
      expect(p).toBeGreaterThanOrEqual(0);
      expect(p).toBeLessThanOrEqual(1);
      expect(p).toBeGreaterThanOrEqual(progress[i - 1] ?? 0);
      expect(p).toBe(seen[i]?.fraction);
      expect(Number.isInteger(seen[i]?.records)).toBe(true);
    }
    // Some reading mid-load, as os-packager's bar and vulekamali's log would show it.
    const mid = seen.filter((s) => s.status === 'loading-data' && s.progress > 0 && s.progress < 1);
    expect(mid.length).toBeGreaterThan(0);
    expect(mid.every((s) => (s.records ?? 0) > 0 && (s.records ?? 0) < 2000)).toBe(true);
    expect(seen.at(-1)).toMatchObject({ status: 'done', progress: 1, fraction: 1, records: 2000, total: 2000 });
    expect(Math.trunc((seen.at(-1)?.progress ?? 0) * 100)).toBe(100); // vulekamali: int(float(progress) * 100)
  });

  it('records (the default): progress is the records loaded; the fraction is given too', async () => {
    const seen = await loadPolling({});
    for (const s of seen) {
      expect(Number.isInteger(s.progress)).toBe(true);
      expect(s.progress).toBe(s.records);
      expect(s.fraction).toBeGreaterThanOrEqual(0);
      expect(s.fraction).toBeLessThanOrEqual(1);
    }
    const mid = seen.filter((s) => s.status === 'loading-data' && s.progress > 0 && s.progress < 2000);
    expect(mid.length).toBeGreaterThan(0);
    expect(mid.every((s) => (s.fraction ?? 0) > 0 && (s.fraction ?? 1) < 1)).toBe(true);
    expect(seen.at(-1)).toMatchObject({ status: 'done', progress: 2000, records: 2000, fraction: 1, total: 2000 });
  });

  it('an unknown mode is a configuration error naming the setting (503, nothing loaded)', async () => {
    const res = await send(drivenEnv([], { OS_STATUS_PROGRESS: 'percent' }), '/package/status?datapackage=x');
    expect(res.status).toBe(503);
  });
});
