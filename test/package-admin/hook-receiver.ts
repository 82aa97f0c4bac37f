/**
 * A loopback HTTP server standing in for a pipeline that /package/run-hooks
 * may call (a real server: it records what actually arrived over the wire).
 * Runs in Node, started by the test setup.
 *
 * - POST /pipeline/<name>: recorded; answers 200 with a long text body (so
 *   the response summary cap is observable); /pipeline/redirect answers 307
 *   to /pipeline/leaked instead (a redirect must not be followed).
 * - GET /__received: every recorded request as JSON
 *   [{method, path, contentType, body}].
 */
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedRequest {
  method: string;
  path: string;
  contentType: string;
  body: string;
}

export interface HookReceiver {
  /** http://127.0.0.1:<port> */
  url: string;
  stop(): Promise<void>;
}

const MAX_BODY = 1024 * 1024;

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size <= MAX_BODY) chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/** Starts the receiver on a free loopback port. */
export async function startHookReceiver(): Promise<HookReceiver> {
  const received: RecordedRequest[] = [];
  const server = createServer((req, res) => {
    const path = req.url ?? '/';
    if (req.method === 'GET' && path === '/__received') {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify(received));
      return;
    }
    readBody(req).then(
      (body) => {
        received.push({ method: req.method ?? '', path, contentType: req.headers['content-type'] ?? '', body });
        if (path === '/pipeline/redirect') {
          res.writeHead(307, { Location: '/pipeline/leaked' });
          res.end();
          return;
        }
        res.writeHead(200, { 'Content-Type': 'text/plain' });
        res.end(`pipeline accepted the request; ${'details '.repeat(200)}`);
      },
      () => {
        res.writeHead(400);
        res.end();
      },
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
