/**
 * The load bench's simulated network distance (tools/services/delay-line.ts
 * and the WebSocket proxy's delay): chunks come out late by the delay, in
 * order and unchanged, without one waiting for another (a wire, not a
 * stop-and-wait), and a full line holds its source back.
 */
import { randomBytes } from 'node:crypto';
import { createServer, connect, type Server } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { DelayLine, startDelayProxy } from '../../../tools/services/delay-line.ts';
import { startWsProxy } from '../../../tools/services/ws-proxy.ts';

const stops: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const stop of stops.splice(0).reverse()) await stop();
});

/** A TCP server answering every byte it gets with the same byte. */
async function echoServer(): Promise<{ port: number }> {
  const server: Server = createServer((s) => s.pipe(s));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  stops.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const address = server.address();
  return { port: typeof address === 'object' && address ? address.port : 0 };
}

describe('delay line', () => {
  it('delivers each chunk after the delay, in order and unchanged, with later chunks in flight meanwhile', async () => {
    const got: Array<{ at: number; chunk: Buffer }> = [];
    const line = new DelayLine({ delayMs: 60, deliver: (chunk) => got.push({ at: performance.now(), chunk }) });
    const sent = Array.from({ length: 20 }, (_, i) => randomBytes(100 + i));
    const t0 = performance.now();
    for (const [i, chunk] of sent.entries()) {
      line.write(chunk);
      if (i % 5 === 4) await new Promise((r) => setTimeout(r, 5));
    }
    expect(got).toHaveLength(0);
    await new Promise((r) => setTimeout(r, 200));
    expect(got.map((g) => g.chunk)).toEqual(sent);
    // None earlier than the delay; all within one delay of the last write (not 20 delays one after the other).
    expect(Math.min(...got.map((g) => g.at - t0))).toBeGreaterThanOrEqual(59);
    expect(Math.max(...got.map((g) => g.at - t0))).toBeLessThan(60 + 60);
    expect(line.pending).toBe(0);
  });

  it('keeps the order when the delay is shortened between chunks', async () => {
    const got: string[] = [];
    const line = new DelayLine({ delayMs: 80, deliver: (chunk) => got.push(chunk.toString()) });
    line.write(Buffer.from('first'));
    line.setDelay(0);
    line.write(Buffer.from('second'));
    await new Promise((r) => setTimeout(r, 120));
    expect(got).toEqual(['first', 'second']);
  });

  it('pauses its source above the window and resumes once drained', async () => {
    const signals: boolean[] = [];
    const line = new DelayLine({ delayMs: 20, windowBytes: 1000, deliver: () => undefined, backpressure: (full) => signals.push(full) });
    line.write(Buffer.alloc(600));
    expect(signals).toEqual([]);
    line.write(Buffer.alloc(600));
    expect(signals).toEqual([true]);
    await new Promise((r) => setTimeout(r, 60));
    expect(signals).toEqual([true, false]);
  });

  it('the TCP delay proxy adds the round trip it is set to and passes the bytes through', async () => {
    const echo = await echoServer();
    const proxy = await startDelayProxy({ hostname: '127.0.0.1', port: echo.port }, 0);
    stops.push(() => proxy.stop());
    const socket = connect({ host: proxy.hostname, port: proxy.port });
    stops.push(() => void socket.destroy());
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
    const payload = randomBytes(256 * 1024);
    const roundTrip = async (): Promise<{ ms: number; bytes: Buffer }> => {
      const parts: Buffer[] = [];
      let n = 0;
      const t0 = performance.now();
      const done = new Promise<void>((resolve) => {
        const onData = (c: Buffer) => {
          parts.push(c);
          n += c.length;
          if (n >= payload.length) {
            socket.off('data', onData);
            resolve();
          }
        };
        socket.on('data', onData);
      });
      socket.write(payload);
      await done;
      return { ms: performance.now() - t0, bytes: Buffer.concat(parts) };
    };
    const fast = await roundTrip();
    expect(fast.bytes.equals(payload)).toBe(true);
    proxy.setRtt(80);
    const slow = await roundTrip();
    expect(slow.bytes.equals(payload)).toBe(true);
    expect(slow.ms).toBeGreaterThanOrEqual(79);
    expect(slow.ms).toBeLessThan(80 + 400);
  });

  it('the WebSocket proxy delays both directions by half the round trip it is set to', async () => {
    const echo = await echoServer();
    const proxy = await startWsProxy({ rttMs: 100 });
    stops.push(() => proxy.close());
    const t0 = performance.now();
    const ws = new WebSocket(`ws://${proxy.hostPort}/v2?address=127.0.0.1:${echo.port}`);
    stops.push(() => ws.terminate());
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    // The upgrade is one round trip.
    expect(performance.now() - t0).toBeGreaterThanOrEqual(99);
    const echoed = (): Promise<Buffer> => new Promise((resolve) => ws.once('message', (d: Buffer) => resolve(d)));
    const t1 = performance.now();
    const first = echoed();
    ws.send(Buffer.from('one'));
    expect((await first).toString()).toBe('one');
    expect(performance.now() - t1).toBeGreaterThanOrEqual(99);
    proxy.setRtt(0);
    const t2 = performance.now();
    const second = echoed();
    ws.send(Buffer.from('two'));
    expect((await second).toString()).toBe('two');
    expect(performance.now() - t2).toBeLessThan(50);
  });
});
