/**
 * A WebSocket-to-TCP proxy speaking the protocol of Neon's wsproxy, so the
 * @neondatabase/serverless driver inside workerd can reach a plain Postgres
 * (or PGlite) on this machine exactly the way it reaches Neon in production.
 *
 * Only loopback targets are allowed: the proxy must never become a way out.
 */
import { createServer, type Server } from 'node:http';
import { connect, isIP, type Socket } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import { DelayLine } from './delay-line.ts';

export interface WsProxy {
  /** host:port to use as `neonConfig.wsProxy` prefix (no scheme). */
  hostPort: string;
  /**
   * Sets the round trip added between the client and this proxy from now on
   * (the load bench's --db-rtt): half on each direction's frames, and one
   * whole round trip before the WebSocket upgrade is answered.
   */
  setRtt(ms: number): void;
  close(): Promise<void>;
}

/**
 * Dropped connections for the fault soak (test/soak/): the `connection`-th
 * connection opened after the plan was set (1-based) is cut, both sides at
 * once, right after the client's `afterFrames`-th WebSocket frame reached
 * Postgres (so a drop can fall before or after a COMMIT): `close` closes the
 * WebSocket (the client sees the connection end), `reset` kills it without a
 * close frame (a peer that vanished; the client hears nothing).
 */
export interface DropPlan {
  drops: Array<{ connection: number; afterFrames: number; mode?: 'close' | 'reset' }>;
}

/** The proxy's record of a plan: connections seen and drops made since it was set. */
export interface DropReport {
  connections: number;
  fired: number;
}

const LOOPBACK_NAMES = new Set(['localhost', '127.0.0.1', '::1', '[::1]']);

export function isLoopbackHost(host: string): boolean {
  if (LOOPBACK_NAMES.has(host)) return true;
  return isIP(host) === 4 && host.startsWith('127.');
}

/** Postgres frontend "Terminate" message: 'X' followed by int32 length 4. */
function isTerminate(chunk: Buffer): boolean {
  return chunk.length === 5 && chunk[0] === 0x58 && chunk.readInt32BE(1) === 4;
}

/**
 * With `faults`, `POST /__faults` (a DropPlan as JSON) replaces the plan and
 * answers the report of the previous one; only a proxy the soak owns gets it.
 */
export async function startWsProxy(options: { port?: number; faults?: boolean; rttMs?: number } = {}): Promise<WsProxy> {
  let rttMs = options.rttMs ?? 0;
  const lines = new Set<DelayLine>();
  let plan: DropPlan = { drops: [] };
  let report: DropReport = { connections: 0, fired: 0 };
  const server: Server = createServer((req, res) => {
    if (options.faults && req.method === 'POST' && req.url === '/__faults') {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        const previous = report;
        plan = JSON.parse(body || '{"drops":[]}') as DropPlan;
        report = { connections: 0, fired: 0 };
        res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify(previous));
      });
      return;
    }
    res.writeHead(426).end('WebSocket only');
  });
  const wss = new WebSocketServer({
    server,
    // The upgrade request and its answer are one round trip of the distance simulated.
    verifyClient: (_info, done) => (rttMs > 0 ? void setTimeout(() => done(true), rttMs) : done(true)),
  });
  const sockets = new Set<Socket>();

  wss.on('connection', (ws: WebSocket, req) => {
    const index = ++report.connections;
    const drop = plan.drops.find((d) => d.connection === index);
    const current = report;
    let frames = 0;
    const url = new URL(req.url ?? '/', 'http://proxy');
    const address = url.searchParams.get('address') ?? '';
    const sep = address.lastIndexOf(':');
    const host = address.slice(0, sep);
    const port = Number(address.slice(sep + 1));
    if (!isLoopbackHost(host) || !Number.isInteger(port) || port <= 0) {
      ws.close(1008, 'target not allowed');
      return;
    }
    // noDelay: Nagle's algorithm would hold back each small protocol message
    // (BEGIN, a checkpoint UPDATE) for up to 40 ms while data is unacknowledged.
    // Neon's proxy (Go) sends them at once too.
    const tcp = connect({ host: host.replace(/^\[|\]$/g, ''), port, noDelay: true });
    sockets.add(tcp);
    const pending: Buffer[] = [];
    let open = false;
    tcp.on('connect', () => {
      open = true;
      for (const chunk of pending) tcp.write(chunk);
      pending.length = 0;
    });
    // Half the simulated round trip each way (no delay: delivered at once, as before).
    const toClient = new DelayLine({
      delayMs: rttMs / 2,
      deliver: (data) => {
        if (ws.readyState === ws.OPEN) ws.send(data);
      },
      backpressure: (full) => (full ? tcp.pause() : tcp.resume()),
    });
    const toServer = new DelayLine({
      delayMs: rttMs / 2,
      deliver: (chunk) => forward(chunk),
      backpressure: (full) => (full ? ws.pause() : ws.resume()),
    });
    lines.add(toClient);
    lines.add(toServer);
    const forget = () => {
      toClient.clear();
      toServer.clear();
      lines.delete(toClient);
      lines.delete(toServer);
    };
    tcp.on('data', (data) => toClient.write(data));
    tcp.on('close', () => {
      sockets.delete(tcp);
      // Postgres's last bytes still travel the delay before the close.
      const close = () => (toClient.pending === 0 ? (forget(), ws.close()) : setTimeout(close, 1));
      close();
    });
    tcp.on('error', () => ws.close());
    ws.on('message', (data: Buffer) => toServer.write(Buffer.isBuffer(data) ? data : Buffer.from(data as ArrayBuffer)));
    const forward = (chunk: Buffer) => {
      if (open) tcp.write(chunk);
      else pending.push(chunk);
      // PGlite's socket server keeps the connection open after Terminate;
      // closing our side lets the client's end() resolve.
      if (isTerminate(chunk)) tcp.end();
      if (drop && ++frames === drop.afterFrames) {
        current.fired++;
        // Give Postgres the frame, then cut both sides as a network failure would.
        setTimeout(() => {
          tcp.destroy();
          if (drop.mode === 'reset') ws.terminate();
          else ws.close();
        }, 1);
      }
    };
    ws.on('close', () => {
      forget();
      tcp.destroy();
    });
    ws.on('error', () => tcp.destroy());
  });

  await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', resolve));
  const addr = server.address();
  if (!addr || typeof addr === 'string') throw new Error('ws proxy failed to listen');
  return {
    hostPort: `127.0.0.1:${addr.port}`,
    setRtt(ms: number) {
      rttMs = ms;
      for (const line of lines) line.setDelay(ms / 2);
    },
    async close() {
      for (const s of sockets) s.destroy();
      for (const client of wss.clients) client.terminate();
      wss.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
