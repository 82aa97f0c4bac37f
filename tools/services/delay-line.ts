/**
 * A delay line for the load bench's simulated network distance: every chunk
 * written in comes out `delayMs` later, in order, while later chunks keep
 * flowing in (a wire with a latency, not a stop-and-wait). Half a round
 * trip per direction; the WebSocket proxy (Postgres) and the TCP delay
 * proxy (S3) put one on each side of a connection.
 *
 * The bytes held in the line are bounded like a TCP window: above
 * `windowBytes` the source is paused until the line drains, so a delayed
 * link does not turn into an unbounded buffer.
 */
import { createServer, connect, type Server, type Socket } from 'node:net';
import { listenOnLoopback } from './util.ts';

export interface DelayLineOptions {
  delayMs: number;
  /** Bytes held before the source is paused (default 4 MiB, a common auto-tuned TCP window). */
  windowBytes?: number;
  /** Receives each chunk when its delay has passed. */
  deliver: (chunk: Buffer) => void;
  /** Called with true when the line is full (pause the source) and false once it drained below half. */
  backpressure?: (full: boolean) => void;
}

export class DelayLine {
  private readonly queue: Array<{ due: number; chunk: Buffer }> = [];
  private held = 0;
  private full = false;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private lastDue = 0;
  private delayMs: number;
  private readonly windowBytes: number;

  constructor(private readonly options: DelayLineOptions) {
    this.delayMs = options.delayMs;
    this.windowBytes = options.windowBytes ?? 4 * 1024 * 1024;
  }

  /** Changes the delay for chunks written from now on (earlier ones keep theirs; order is kept). */
  setDelay(ms: number): void {
    this.delayMs = ms;
  }

  /** Bytes written and not yet delivered. */
  get pending(): number {
    return this.held;
  }

  write(chunk: Buffer): void {
    if (this.delayMs <= 0 && this.queue.length === 0) {
      this.options.deliver(chunk);
      return;
    }
    // Never before an earlier chunk, even when the delay was just shortened.
    const due = Math.max(Date.now() + this.delayMs, this.lastDue);
    this.lastDue = due;
    this.queue.push({ due, chunk });
    this.held += chunk.length;
    if (!this.full && this.held > this.windowBytes) {
      this.full = true;
      this.options.backpressure?.(true);
    }
    this.schedule();
  }

  /** Drops what is held (the connection closed). */
  clear(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.queue.length = 0;
    this.held = 0;
  }

  private schedule(): void {
    if (this.timer || this.queue.length === 0) return;
    const wait = Math.max(0, (this.queue[0] as { due: number }).due - Date.now());
    this.timer = setTimeout(() => this.flush(), wait);
  }

  private flush(): void {
    this.timer = null;
    const now = Date.now();
    while (this.queue.length > 0 && (this.queue[0] as { due: number }).due <= now) {
      const { chunk } = this.queue.shift() as { chunk: Buffer };
      this.held -= chunk.length;
      this.options.deliver(chunk);
    }
    if (this.full && this.held <= this.windowBytes / 2) {
      this.full = false;
      this.options.backpressure?.(false);
    }
    this.schedule();
  }
}

/** Both directions of a socket pair through delay lines of `delayMs` each (one round trip = 2 × delayMs). */
export function delayedPipe(a: Socket, b: Socket, delayMs: () => number): { setDelay(ms: number): void } {
  const line = (from: Socket, to: Socket) => {
    const l = new DelayLine({
      delayMs: delayMs(),
      deliver: (chunk) => {
        if (!to.destroyed) to.write(chunk);
      },
      backpressure: (full) => (full ? from.pause() : from.resume()),
    });
    from.on('data', (chunk: Buffer) => l.write(chunk));
    // The end travels the wire too: after the data written before it.
    from.on('end', () => {
      const end = () => (l.pending === 0 ? to.end() : setTimeout(end, 1));
      end();
    });
    from.on('close', () => l.clear());
    return l;
  };
  const ab = line(a, b);
  const ba = line(b, a);
  const destroy = () => {
    a.destroy();
    b.destroy();
  };
  a.on('error', destroy);
  b.on('error', destroy);
  return {
    setDelay(ms: number) {
      ab.setDelay(ms);
      ba.setDelay(ms);
    },
  };
}

export interface DelayProxy {
  hostname: string;
  port: number;
  /** Sets the round trip added from now on (half each way). */
  setRtt(ms: number): void;
  stop(): Promise<void>;
}

/** A TCP proxy to `upstream` on loopback adding a round trip of `rttMs` (settable) to every connection. */
export async function startDelayProxy(upstream: { hostname: string; port: number }, rttMs = 0): Promise<DelayProxy> {
  let half = rttMs / 2;
  const pipes = new Set<{ setDelay(ms: number): void }>();
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const target = connect({ host: upstream.hostname, port: upstream.port, noDelay: true });
    client.setNoDelay(true);
    sockets.add(client);
    sockets.add(target);
    const pipe = delayedPipe(client, target, () => half);
    pipes.add(pipe);
    client.on('close', () => {
      pipes.delete(pipe);
      sockets.delete(client);
      target.destroy();
    });
    target.on('close', () => {
      sockets.delete(target);
      client.destroy();
    });
  });
  const port = await listenOnLoopback(server);
  return {
    hostname: '127.0.0.1',
    port,
    setRtt(ms: number) {
      half = ms / 2;
      for (const p of pipes) p.setDelay(half);
    },
    async stop() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
