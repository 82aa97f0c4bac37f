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

export interface WsProxy {
  /** host:port to use as `neonConfig.wsProxy` prefix (no scheme). */
  hostPort: string;
  close(): Promise<void>;
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

export async function startWsProxy(options: { port?: number } = {}): Promise<WsProxy> {
  const server: Server = createServer((_req, res) => {
    res.writeHead(426).end('WebSocket only');
  });
  const wss = new WebSocketServer({ server });
  const sockets = new Set<Socket>();

  wss.on('connection', (ws: WebSocket, req) => {
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
    tcp.on('data', (data) => {
      if (ws.readyState === ws.OPEN) ws.send(data);
    });
    tcp.on('close', () => {
      sockets.delete(tcp);
      ws.close();
    });
    tcp.on('error', () => ws.close());
    ws.on('message', (data: Buffer) => {
      const chunk = Buffer.isBuffer(data) ? data : Buffer.from(data as ArrayBuffer);
      if (open) tcp.write(chunk);
      else pending.push(chunk);
      // PGlite's socket server keeps the connection open after Terminate;
      // closing our side lets the client's end() resolve.
      if (isTerminate(chunk)) tcp.end();
    });
    ws.on('close', () => tcp.destroy());
    ws.on('error', () => tcp.destroy());
  });

  await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', resolve));
  const addr = server.address();
  if (!addr || typeof addr === 'string') throw new Error('ws proxy failed to listen');
  return {
    hostPort: `127.0.0.1:${addr.port}`,
    async close() {
      for (const s of sockets) s.destroy();
      for (const client of wss.clients) client.terminate();
      wss.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
