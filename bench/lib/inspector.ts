/**
 * A minimal Chrome DevTools Protocol client for the Worker under
 * `wrangler dev --inspector-port N`: samples the isolate's JS heap
 * (Runtime.getHeapUsage, the memory the Workers limit applies to) and takes
 * CPU profiles (Profiler.*). Bench-only; never part of the Worker.
 */
import WebSocket from 'ws';

interface CdpTarget {
  webSocketDebuggerUrl?: string;
  title?: string;
}

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number; scriptId: string };
  children?: number[];
}

/** A V8 CPU profile as Profiler.stop returns it. */
export interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

/** An open inspector session on the Worker's isolate. */
export class Inspector {
  private nextId = 1;
  private readonly waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();

  private constructor(private readonly socket: WebSocket) {
    socket.on('message', (data) => {
      const msg = JSON.parse(String(data)) as { id?: number; result?: unknown; error?: { message: string } };
      if (msg.id === undefined) return;
      const w = this.waiting.get(msg.id);
      if (!w) return;
      this.waiting.delete(msg.id);
      if (msg.error) w.reject(new Error(msg.error.message));
      else w.resolve(msg.result);
    });
  }

  /** Connects to the first Worker target listed on `port`. */
  static async connect(port: number): Promise<Inspector> {
    const until = Date.now() + 30_000;
    for (;;) {
      try {
        const targets = (await (await fetch(`http://127.0.0.1:${port}/json`)).json()) as CdpTarget[];
        const target = targets.find((t) => t.webSocketDebuggerUrl);
        if (target?.webSocketDebuggerUrl) {
          const socket = new WebSocket(target.webSocketDebuggerUrl);
          await new Promise<void>((resolve, reject) => {
            socket.once('open', () => resolve());
            socket.once('error', reject);
          });
          return new Inspector(socket);
        }
      } catch {
        // not listening yet
      }
      if (Date.now() > until) throw new Error(`no inspector target on port ${port}`);
      await new Promise((r) => setTimeout(r, 300));
    }
  }

  send<T>(method: string, params: Record<string, unknown> = {}): Promise<T> {
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.waiting.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.socket.send(JSON.stringify({ id, method, params }));
    });
  }

  /** Live JS heap: a full garbage collection, then the used size (bytes). */
  async liveHeap(): Promise<number> {
    await this.send('HeapProfiler.collectGarbage');
    return (await this.heapUsage()).usedSize;
  }

  /** Used and total size of the isolate's JS heap, in bytes (garbage not yet collected included). */
  heapUsage(): Promise<{ usedSize: number; totalSize: number }> {
    return this.send('Runtime.getHeapUsage');
  }

  close(): void {
    this.socket.close();
  }
}

/** Where a profiled function is: script and 0-based line/column. */
export interface Place {
  scriptId: string;
  line: number;
  column: number;
}

/** Self time per function (ms), highest first. */
export function selfTimes(profile: CpuProfile): Array<{ name: string; ms: number; share: number; place: Place }> {
  const byNode = new Map<number, number>();
  for (let i = 0; i < profile.samples.length; i++) {
    const node = profile.samples[i] as number;
    byNode.set(node, (byNode.get(node) ?? 0) + (profile.timeDeltas[i] ?? 0));
  }
  const byName = new Map<string, number>();
  const places = new Map<string, Place>();
  let total = 0;
  for (const node of profile.nodes) {
    const us = byNode.get(node.id) ?? 0;
    if (us === 0) continue;
    const f = node.callFrame;
    const file = f.url.split('/').pop() ?? '';
    const name = `${f.functionName || '(anonymous)'} ${file ? `${file}:${f.lineNumber + 1}` : ''}`.trim();
    byName.set(name, (byName.get(name) ?? 0) + us);
    places.set(name, { scriptId: f.scriptId, line: f.lineNumber, column: f.columnNumber });
    total += us;
  }
  return [...byName]
    .map(([name, us]) => ({ name, ms: us / 1000, share: us / total, place: places.get(name) as Place }))
    .sort((a, b) => b.ms - a.ms);
}
