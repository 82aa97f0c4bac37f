/**
 * A real S3-compatible server on loopback (npm `@20minutes/s3rver`), for the
 * tests and the dev stack. It verifies SigV4 signatures, the signed headers
 * and expiry of presigned URLs, exactly what the datastore relies on.
 *
 * The bucket is set up the way the datastore is run in production:
 * - objects are publicly readable (GET/HEAD without credentials), because
 *   the loader, os-admin and os-viewer read the files at their upload URL;
 * - every write must be signed: s3rver itself lets anonymous requests
 *   through, so a thin guard in front of it answers unsigned writes with
 *   S3's own 403 AccessDenied, as a bucket without public write does;
 * - CORS allows GET, HEAD and PUT with any header from any origin, for the
 *   browser uploads of os-packager.
 *
 * Known gap: s3rver does not compare Content-MD5 with the body (S3 and R2
 * do); it does check that the Content-MD5 header equals the signed one.
 */
import { createRequire } from 'node:module';
import { mkdtempSync, rmSync } from 'node:fs';
import type { IncomingMessage, RequestListener, Server, ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

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

function denyAnonymousWrites(inner: RequestListener): RequestListener {
  return (req: IncomingMessage, res: ServerResponse) => {
    if (!READ_METHODS.has(req.method ?? '') && !isSigned(req)) {
      // Drain the body so the client sees the answer rather than a reset.
      req.resume();
      res.writeHead(403, { 'Content-Type': 'application/xml' });
      res.end(
        '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>AccessDenied</Code>' +
          '<Message>Anonymous writes are not allowed</Message></Error>',
      );
      return;
    }
    inner(req, res);
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
  const server = await s3.listen(options.port ?? 0, hostname);
  const [handler] = server.listeners('request') as RequestListener[];
  if (!handler) throw new Error('s3rver did not install a request handler');
  server.removeAllListeners('request');
  server.on('request', denyAnonymousWrites(handler));

  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  const endpoint = `http://${hostname}:${port}`;
  return {
    hostname,
    port,
    endpoint,
    bucket: options.bucket,
    bucketUrl: `${endpoint}/${options.bucket}`,
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      if (ownDirectory) rmSync(directory, { recursive: true, force: true });
    },
  };
}
