import { describe, expect, it } from 'vitest';
import { ProgressSender } from './progress-sender.ts';

interface Patch {
  progress?: number;
  bytes?: number;
  total?: number;
}

/** A status object whose answers the test releases one by one. */
function slowStatus() {
  const sent: Patch[] = [];
  const answers: Array<(error?: Error) => void> = [];
  const send = (patch: Patch) =>
    new Promise<void>((resolve, reject) => {
      sent.push(patch);
      answers.push((error) => (error ? reject(error) : resolve()));
    });
  const answer = async (error?: Error) => {
    answers.shift()?.(error);
    // Let the sender see the answer and send what waits.
    await new Promise((r) => setTimeout(r, 0));
  };
  return { sent, send, answer, open: () => answers.length };
}

describe('ProgressSender', () => {
  it('returns at once while the status object is busy, with one update in flight', async () => {
    const status = slowStatus();
    const sender = new ProgressSender<Patch>(status.send);
    sender.push({ progress: 1 });
    sender.push({ progress: 2 });
    sender.push({ progress: 3 });
    expect(status.sent).toEqual([{ progress: 1 }]);
    expect(status.open()).toBe(1);
    await status.answer();
    // The updates that waited go out as one: the newest figures.
    expect(status.sent).toEqual([{ progress: 1 }, { progress: 3 }]);
    await status.answer();
    await sender.drain();
    expect(status.sent).toHaveLength(2);
  });

  it('keeps the keys of merged updates that the newest one does not repeat', async () => {
    const status = slowStatus();
    const sender = new ProgressSender<Patch>(status.send);
    sender.push({ progress: 1 });
    sender.push({ total: 10 });
    sender.push({ progress: 5, bytes: 50 });
    await status.answer();
    expect(status.sent[1]).toEqual({ total: 10, progress: 5, bytes: 50 });
    await status.answer();
    await sender.drain();
  });

  it('drain waits until everything queued has been answered', async () => {
    const status = slowStatus();
    const sender = new ProgressSender<Patch>(status.send);
    sender.push({ progress: 1 });
    sender.push({ progress: 2 });
    let drained = false;
    const draining = sender.drain().then(() => (drained = true));
    await status.answer();
    expect(drained).toBe(false);
    await status.answer();
    await draining;
    expect(drained).toBe(true);
    expect(status.sent.map((p) => p.progress)).toEqual([1, 2]);
  });

  it('throws a failed update from the next push, and from drain', async () => {
    const status = slowStatus();
    const sender = new ProgressSender<Patch>(status.send);
    sender.push({ progress: 1 });
    sender.push({ progress: 2 });
    await status.answer(new Error('status object: advance timed out'));
    // What waited is not sent after a failure.
    expect(status.sent).toHaveLength(1);
    expect(() => sender.push({ progress: 3 })).toThrow('advance timed out');
    await expect(sender.drain()).rejects.toThrow('advance timed out');
  });

  it('abandon waits for the update in flight, drops the rest and does not throw', async () => {
    const status = slowStatus();
    const sender = new ProgressSender<Patch>(status.send);
    sender.push({ progress: 1 });
    sender.push({ progress: 2 });
    const abandoning = sender.abandon();
    await status.answer(new Error('gone'));
    await abandoning;
    expect(status.sent).toEqual([{ progress: 1 }]);
  });

  it('counts only the time drain held the caller up', async () => {
    const sender = new ProgressSender<Patch>(() => new Promise((r) => setTimeout(r, 30)));
    sender.push({ progress: 1 });
    expect(sender.waitedMs).toBe(0);
    await sender.drain();
    expect(sender.waitedMs).toBeGreaterThanOrEqual(20);
  });
});
