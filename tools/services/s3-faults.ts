/**
 * An HTTP proxy in front of the test S3 server that spoils chosen reads, for
 * the fault soak (test/soak/). Requests pass through unchanged (the Host
 * header too, so SigV4 signatures still verify); `POST /__faults` with a
 * ReadFaultPlan replaces the plan and answers the report of the previous one.
 *
 * Reads (GET and HEAD) are counted from 1 after each plan; the `read`-th gets:
 * - `503`: S3's SlowDown answer, body and all;
 * - `slow`: the real answer, its body sent in 16 KiB pieces `delayMs` apart;
 * - `reset`: the real status and headers, then the connection cut after
 *   half the body (a truncated read).
 */
import { createServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { listenOnLoopback } from './util.ts';

export interface ReadFault {
  read: number;
  kind: '503' | 'slow' | 'reset';
  /** Pause between pieces of a slow body (ms). */
  delayMs?: number;
}

export interface ReadFaultPlan {
  faults: ReadFault[];
}

export interface ReadFaultReport {
  reads: number;
  fired: number;
}

export interface S3FaultProxy {
  hostname: string;
  port: number;
  stop(): Promise<void>;
}

const PIECE = 16 * 1024;

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => resolve(body));
    req.on('error', reject);
  });
}

async function sendSpoiled(answer: IncomingMessage, res: ServerResponse, fault: ReadFault): Promise<void> {
  const chunks: Buffer[] = [];
  for await (const c of answer) chunks.push(c as Buffer);
  const body = Buffer.concat(chunks);
  res.writeHead(answer.statusCode ?? 502, answer.headers);
  if (fault.kind === 'reset') {
    res.write(body.subarray(0, Math.floor(body.length / 2)));
    setTimeout(() => res.destroy(), 5);
    return;
  }
  for (let at = 0; at < body.length; at += PIECE) {
    if (res.destroyed) return;
    res.write(body.subarray(at, at + PIECE));
    await new Promise((r) => setTimeout(r, fault.delayMs ?? 50));
  }
  res.end();
}

export async function startS3FaultProxy(upstream: { hostname: string; port: number }): Promise<S3FaultProxy> {
  let plan: ReadFaultPlan = { faults: [] };
  let report: ReadFaultReport = { reads: 0, fired: 0 };

  const server: Server = createServer((req, res) => {
    if (req.method === 'POST' && req.url === '/__faults') {
      void readBody(req).then((body) => {
        const previous = report;
        plan = JSON.parse(body || '{"faults":[]}') as ReadFaultPlan;
        report = { reads: 0, fired: 0 };
        res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify(previous));
      });
      return;
    }
    let fault: ReadFault | undefined;
    if (req.method === 'GET' || req.method === 'HEAD') {
      const n = ++report.reads;
      fault = plan.faults.find((f) => f.read === n);
      if (fault) report.fired++;
    }
    if (fault?.kind === '503') {
      req.resume();
      res.writeHead(503, { 'Content-Type': 'application/xml' });
      res.end('<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>');
      return;
    }
    const forward = httpRequest(
      { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers },
      (answer) => {
        if (fault && req.method === 'GET') {
          sendSpoiled(answer, res, fault).catch(() => res.destroy());
          return;
        }
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    forward.on('error', () => {
      if (!res.headersSent) res.writeHead(502).end();
      else res.destroy();
    });
    req.pipe(forward);
  });
  const port = await listenOnLoopback(server);
  return {
    hostname: '127.0.0.1',
    port,
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
