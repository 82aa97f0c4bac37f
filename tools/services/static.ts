/**
 * A tiny read-only HTTP server for a folder, on loopback. Tests inside
 * workerd cannot read the file system, so the fixture packages are served
 * over HTTP instead (the loader fetches datapackages by URL anyway).
 *
 * Only GET/HEAD of regular files under the root; no directory listings, no
 * path escapes (`..`, encoded or not, and symlinks out of the root are refused).
 */
import { createReadStream, realpathSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import { extname, join, sep } from 'node:path';

export interface StaticServer {
  /** http://127.0.0.1:<port> (no trailing slash) */
  url: string;
  port: number;
  stop(): Promise<void>;
}

const TYPES: Record<string, string> = {
  '.json': 'application/json',
  '.csv': 'text/csv; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.md': 'text/markdown; charset=utf-8',
};

/** Serves the files under `root` at http://127.0.0.1:<port>/<relative path>. */
export async function startStaticServer(root: string, options: { port?: number } = {}): Promise<StaticServer> {
  const realRoot = realpathSync(root);
  const server = createServer((req, res) => {
    const notFound = () => {
      res.writeHead(404, { 'Content-Type': 'text/plain' });
      res.end('not found');
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { Allow: 'GET, HEAD' });
      res.end();
      return;
    }
    let relative: string;
    try {
      relative = decodeURIComponent(new URL(req.url ?? '/', 'http://static.local').pathname);
    } catch {
      return notFound();
    }
    if (relative.split('/').some((s) => s === '..') || relative.includes('\0')) return notFound();
    let file: string;
    try {
      file = realpathSync(join(realRoot, relative));
    } catch {
      return notFound();
    }
    if (!file.startsWith(realRoot + sep)) return notFound();
    const stat = statSync(file, { throwIfNoEntry: false });
    if (!stat?.isFile()) return notFound();
    res.writeHead(200, {
      'Content-Type': TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream',
      'Content-Length': stat.size,
      'Access-Control-Allow-Origin': '*',
    });
    if (req.method === 'HEAD') {
      res.end();
      return;
    }
    createReadStream(file).pipe(res);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
