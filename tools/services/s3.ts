/**
 * A real S3-compatible server on loopback (npm `@20minutes/s3rver`), for the
 * tests and the dev stack. It verifies SigV4 signatures, the signed headers
 * and expiry of presigned URLs, exactly what the datastore relies on.
 *
 * The bucket behaves the way the datastore is run in production:
 * - objects are publicly readable (GET/HEAD without credentials), because
 *   the loader, os-admin and os-viewer read the files at their upload URL;
 * - CORS allows GET, HEAD and PUT with any header from any origin, for the
 *   browser uploads of os-packager.
 * Two checks that S3 and R2 make and s3rver does not are added by a small
 * front server that proxies everything else to s3rver unchanged:
 * - unsigned writes get S3's 403 AccessDenied (s3rver lets anonymous
 *   requests through; a bucket without public write does not);
 * - a PUT whose body does not match its Content-MD5 gets 400 BadDigest and
 *   is not stored (the body is spooled to a temporary file and hashed first).
 */
import { createHash, randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import { unlink } from 'node:fs/promises';
import {
  createServer,
  request as httpRequest,
  type IncomingMessage,
  type OutgoingHttpHeaders,
  type Server,
  type ServerResponse,
} from 'node:http';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

export interface S3ServerOptions {
  /** TCP port on 127.0.0.1; a free one when omitted. */
  port?: number;
  /** Where objects are stored; a fresh temporary folder (removed at stop) when omitted. */
  directory?: string;
  accessKeyId: string;
  secretAccessKey: string;
  bucket: string;
  /** Origins allowed by the bucket's CORS rule; `*` when omitted. */
  corsOrigins?: string[];
}

export interface S3Server {
  /** 127.0.0.1 */
  hostname: string;
  port: number;
  /** http://127.0.0.1:<port> */
  endpoint: string;
  bucket: string;
  /** Public (path-style) base URL of the bucket's objects. */
  bucketUrl: string;
  stop(): Promise<void>;
}

/** The parts of s3rver's (untyped, CommonJS) API used here. */
interface S3rverInstance {
  configureBuckets(): Promise<unknown>;
  listen(port: number, address: string): Promise<Server>;
  close(): Promise<void>;
}
type S3rverClass = new (options: Record<string, unknown>) => S3rverInstance;
interface AccountModule {
  DUMMY_ACCOUNT: { createKeyPair(accessKeyId: string, secretAccessKey: string): void };
}

const require = createRequire(import.meta.url);

function corsXml(origins: string[]): string {
  const allowed = origins.map((o) => `<AllowedOrigin>${escapeXml(o)}</AllowedOrigin>`).join('');
  return (
    '<CORSConfiguration><CORSRule>' +
    allowed +
    '<AllowedMethod>GET</AllowedMethod><AllowedMethod>HEAD</AllowedMethod><AllowedMethod>PUT</AllowedMethod>' +
    '<AllowedHeader>*</AllowedHeader><ExposeHeader>ETag</ExposeHeader><MaxAgeSeconds>3000</MaxAgeSeconds>' +
    '</CORSRule></CORSConfiguration>'
  );
}

function escapeXml(s: string): string {
  return s.replace(/[<>&'"]/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** True when a request carries any S3 authentication (header or query). */
function isSigned(req: IncomingMessage): boolean {
  if (req.headers.authorization) return true;
  const query = new URL(req.url ?? '/', 'http://s3.local').searchParams;
  return query.has('X-Amz-Algorithm') || query.has('Signature');
}

const READ_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

function s3ErrorResponse(res: ServerResponse, status: number, code: string, message: string): void {
  res.writeHead(status, { 'Content-Type': 'application/xml' });
  res.end(`<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message></Error>`);
}

/**
 * The front server: the checks s3rver lacks (see the module comment), then
 * the request as received (method, path, headers including Host, body) to
 * s3rver, and its answer back.
 */
function frontHandler(upstreamPort: number, spoolDir: string) {
  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    if (!READ_METHODS.has(req.method ?? '') && !isSigned(req)) {
      req.resume(); // drain, so the client reads the answer rather than a reset
      s3ErrorResponse(res, 403, 'AccessDenied', 'Anonymous writes are not allowed');
      return;
    }
    let body: Readable = req;
    let spooled: string | undefined;
    const contentMd5 = req.headers['content-md5'];
    if (req.method === 'PUT' && typeof contentMd5 === 'string') {
      spooled = join(spoolDir, randomUUID());
      const hash = createHash('md5');
      try {
        await pipeline(
          req,
          async function* (source: AsyncIterable<Buffer>) {
            for await (const chunk of source) {
              hash.update(chunk);
              yield chunk;
            }
          },
          createWriteStream(spooled),
        );
      } catch (err) {
        await unlink(spooled).catch(() => undefined); // the client went away mid-upload
        throw err;
      }
      if (hash.digest('base64') !== contentMd5) {
        await unlink(spooled);
        s3ErrorResponse(res, 400, 'BadDigest', 'The Content-MD5 you specified did not match what we received.');
        return;
      }
      body = createReadStream(spooled);
    }
    const headers: OutgoingHttpHeaders = { ...req.headers };
    delete headers.expect; // the front server already answered any 100-continue
    const upstream = httpRequest(
      { host: '127.0.0.1', port: upstreamPort, method: req.method, path: req.url, headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    const cleanup = () => {
      if (spooled) void unlink(spooled).catch(() => undefined);
    };
    upstream.on('close', cleanup);
    upstream.on('error', (err) => {
      if (!res.headersSent) s3ErrorResponse(res, 502, 'InternalError', err.message);
      else res.destroy();
    });
    body.pipe(upstream);
  };
}

/** Starts the server, creates the bucket and its CORS rule; see the module comment. */
export async function startS3Server(options: S3ServerOptions): Promise<S3Server> {
  const S3rver = require('@20minutes/s3rver') as S3rverClass;
  const account = require('@20minutes/s3rver/lib/models/account') as AccountModule;
  // s3rver keeps its accounts in a process-wide registry: register our key pair.
  account.DUMMY_ACCOUNT.createKeyPair(options.accessKeyId, options.secretAccessKey);

  const ownDirectory = options.directory === undefined;
  const directory = options.directory ?? mkdtempSync(join(tmpdir(), 'os-s3-'));
  const s3 = new S3rver({
    silent: true,
    directory,
    // Path-style only: the datastore signs http(s)://host[:port]/<bucket>/<key>.
    vhostBuckets: false,
    configureBuckets: [{ name: options.bucket, configs: [corsXml(options.corsOrigins ?? ['*'])] }],
  });
  await s3.configureBuckets();
  const hostname = '127.0.0.1';
  const inner = await s3.listen(0, hostname);
  const innerAddress = inner.address();
  const innerPort = typeof innerAddress === 'object' && innerAddress ? innerAddress.port : 0;

  const spoolDir = mkdtempSync(join(tmpdir(), 'os-s3-spool-'));
  const handle = frontHandler(innerPort, spoolDir);
  const front: Server = createServer((req, res) => {
    handle(req, res).catch((err: Error) => {
      if (!res.headersSent) s3ErrorResponse(res, 500, 'InternalError', err.message);
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    front.once('error', reject);
    front.listen(options.port ?? 0, hostname, () => resolve());
  });

  const address = front.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  const endpoint = `http://${hostname}:${port}`;
  return {
    hostname,
    port,
    endpoint,
    bucket: options.bucket,
    bucketUrl: `${endpoint}/${options.bucket}`,
    async stop() {
      for (const server of [front, inner]) {
        server.closeAllConnections();
        await new Promise<void>((resolve) => server.close(() => resolve()));
      }
      rmSync(spoolDir, { recursive: true, force: true });
      if (ownDirectory) rmSync(directory, { recursive: true, force: true });
    },
  };
}
