import { describe, expect, it } from 'vitest';
import { StatusSender } from './status-sender.ts';

interface Patch {
  progress?: number;
  bytes?: number;
  total?: number;
}

/** A status object whose answers the test releases one by one. */
function slowStatus() {
  const sent: Array<[string, Patch]> = [];
  const answers: Array<(error?: Error) => void> = [];
  const send = (status: string, patch: Patch) =>
    new Promise<void>((resolve, reject) => {
      sent.push([status, patch]);
      answers.push((error) => (error ? reject(error) : resolve()));
    });
  const answer = async (error?: Error) => {
    answers.shift()?.(error);
    // Let the sender see the answer and send what waits.
    await new Promise((r) => setTimeout(r, 0));
  };
  return { sent, send, answer, open: () => answers.length };
}

describe('StatusSender', () => {
  it('returns at once while the status object is busy, with one update in flight', async () => {
    const status = slowStatus();
    const sender = new StatusSender<string, Patch>(status.send);
    sender.push('loading-data', { progress: 1 });
    sender.push('loading-data', { progress: 2 });
    sender.push('loading-data', { progress: 3 });
    expect(status.sent).toEqual([['loading-data', { progress: 1 }]]);
    expect(status.open()).toBe(1);
    await status.answer();
    // The progress that waited goes out as one update: the newest figures.
    expect(status.sent).toEqual([['loading-data', { progress: 1 }], ['loading-data', { progress: 3 }]]);
    await status.answer();
    await sender.drain();
    expect(status.sent).toHaveLength(2);
  });

  it('sends step changes in order, each once, merging only updates of the same step in a row', async () => {
    const status = slowStatus();
    const sender = new StatusSender<string, Patch>(status.send);
    sender.push('initializing', { progress: 0 });
    sender.push('loading-datapackage', {});
    sender.push('validating-datapackage', {});
    sender.push('loading-data', { progress: 5 });
    sender.push('loading-data', { progress: 10, bytes: 100 });
    sender.push('creating-babbage-model', { progress: 10 });
    while (status.open() > 0) await status.answer();
    await sender.drain();
    expect(status.sent).toEqual([
      ['initializing', { progress: 0 }],
      ['loading-datapackage', {}],
      ['validating-datapackage', {}],
      ['loading-data', { progress: 10, bytes: 100 }],
      ['creating-babbage-model', { progress: 10 }],
    ]);
  });

  it('keeps the keys of merged updates that the newest one does not repeat', async () => {
    const status = slowStatus();
    const sender = new StatusSender<string, Patch>(status.send);
    sender.push('loading-data', { progress: 1 });
    sender.push('loading-data', { total: 10 });
    sender.push('loading-data', { progress: 5, bytes: 50 });
    await status.answer();
    expect(status.sent[1]).toEqual(['loading-data', { total: 10, progress: 5, bytes: 50 }]);
    await status.answer();
    await sender.drain();
  });

  it('drain waits until everything queued has been answered', async () => {
    const status = slowStatus();
    const sender = new StatusSender<string, Patch>(status.send);
    sender.push('loading-data', { progress: 1 });
    sender.push('creating-babbage-model', {});
    let drained = false;
    const draining = sender.drain().then(() => (drained = true));
    await status.answer();
    expect(drained).toBe(false);
    await status.answer();
    await draining;
    expect(drained).toBe(true);
    expect(status.sent.map(([s]) => s)).toEqual(['loading-data', 'creating-babbage-model']);
  });

  it('throws a failed update from the next push, and from drain', async () => {
    const status = slowStatus();
    const sender = new StatusSender<string, Patch>(status.send);
    sender.push('loading-data', { progress: 1 });
    sender.push('creating-babbage-model', {});
    await status.answer(new Error('status object: advance timed out'));
    // What waited is not sent after a failure.
    expect(status.sent).toHaveLength(1);
    expect(() => sender.push('saving-metadata', {})).toThrow('advance timed out');
    await expect(sender.drain()).rejects.toThrow('advance timed out');
  });

  it('settle sends what is queued and does not throw, stopping at a failure', async () => {
    const status = slowStatus();
    const sender = new StatusSender<string, Patch>(status.send);
    sender.push('loading-data', { progress: 1 });
    sender.push('creating-babbage-model', {});
    sender.push('saving-metadata', {});
    const settling = sender.settle();
    await status.answer();
    await status.answer(new Error('gone'));
    await settling;
    expect(status.sent.map(([s]) => s)).toEqual(['loading-data', 'creating-babbage-model']);
  });

  it('counts only the time drain held the caller up', async () => {
    const sender = new StatusSender<string, Patch>(() => new Promise((r) => setTimeout(r, 30)));
    sender.push('loading-data', { progress: 1 });
    expect(sender.waitedMs).toBe(0);
    await sender.drain();
    expect(sender.waitedMs).toBeGreaterThanOrEqual(20);
  });
});
