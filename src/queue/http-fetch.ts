/**
 * The loader's outbound HTTP: only URLs already checked against the
 * allow-list, no redirects (a redirect could lead anywhere), bounded time
 * and size. Status codes map to permanent or transient errors. Datastore
 * objects are read with a signed request (R2 serves no anonymous reads on
 * its S3 endpoint; see src/datastore/read.ts).
 *
 * Content-Encoding is handled here, never by the runtime: any uploader can
 * store an object with a `Content-Encoding: gzip` its body does not have,
 * and the runtime's own decoding of such a body is a fatal error of the
 * whole process. Bodies are read as stored (`encodeResponseBody: 'manual'`);
 * the descriptor is decompressed here through a stream whose errors are
 * caught; a data file must be stored without an encoding (byte offsets of
 * the resumable load are offsets in the stored object).
 */
import type { Config } from '../config.ts';
import { signedDatastoreRequest } from '../datastore/read.ts';
import { storageTarget } from '../datastore/presign.ts';
import { readBounded, TooLargeError } from '../http/bounded-read.ts';
import { blockReader, type BlockReader } from '../http/block-reader.ts';
import { PermanentError } from './errors.ts';

/**
 * Data file blocks: 64 KiB to 256 KiB (a few hundred to a few thousand rows
 * per parser call, short enough that database replies are handled between
 * blocks); the wait for one block is bounded.
 */
const BLOCKS = { minBytes: 64 * 1024, maxBytes: 256 * 1024, idleMs: 60_000, sender: 'the data file' };

/** Signs a request for a datastore object, or null for any other URL. */
export type Signer = (
  url: string,
  init: { method: 'GET' | 'HEAD'; headers?: Record<string, string> },
) => Promise<Request | null>;

/** The signer for the configured datastore (none when it is not configured). */
export function datastoreSigner(config: Config): Signer {
  let target: ReturnType<typeof storageTarget> | null = null;
  try {
    target = storageTarget(config);
  } catch {
    target = null;
  }
  return async (url, init) => (target ? signedDatastoreRequest(target, url, init) : null);
}

async function send(
  url: string,
  method: 'GET' | 'HEAD',
  headers: Record<string, string>,
  sign: Signer | undefined,
  signal?: AbortSignal,
): Promise<Response> {
  const all = { ...headers, 'Accept-Encoding': 'identity' };
  const signed = sign ? await sign(url, { method, headers: all }) : null;
  return fetch(signed ?? new Request(url, { method, headers: all }), {
    redirect: 'manual',
    encodeResponseBody: 'manual',
    ...(signal ? { signal } : {}),
  });
}

/** The body's Content-Encoding, lower case; null for none or identity. */
function contentEncoding(res: Response): string | null {
  const value = res.headers.get('content-encoding')?.trim().toLowerCase() ?? '';
  return value === '' || value === 'identity' ? null : value;
}

/** Decompresses a small body we chose to decode (gzip, deflate); a broken one is a PermanentError naming `what`. */
async function decoded(bytes: Uint8Array, encoding: string, what: string): Promise<Uint8Array> {
  if (encoding !== 'gzip' && encoding !== 'deflate') {
    throw new PermanentError(`${what} is stored with Content-Encoding: ${encoding}, which the loader does not read`);
  }
  try {
    const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream(encoding));
    return new Uint8Array(await new Response(stream).arrayBuffer());
  } catch {
    throw new PermanentError(`${what} is stored with Content-Encoding: ${encoding} but is not ${encoding} data`);
  }
}

/** Throws for a non-success answer: 4xx permanent, 5xx transient. */
function checkStatus(res: Response, what: string): void {
  if (res.status >= 300 && res.status < 400) {
    throw new PermanentError(`could not fetch ${what}: HTTP ${res.status} redirect (redirects are not followed)`);
  }
  if (res.status >= 400 && res.status < 500 && res.status !== 408 && res.status !== 429) {
    throw new PermanentError(`could not fetch ${what}: HTTP ${res.status}`);
  }
  if (!res.ok) throw new Error(`could not fetch ${what}: HTTP ${res.status}`);
}

/** GETs a small text file (the descriptor), at most `maxBytes`, within `timeoutMs`. */
export async function fetchText(
  url: string,
  what: string,
  maxBytes: number,
  sign?: Signer,
  timeoutMs = 15_000,
): Promise<string> {
  const res = await send(url, 'GET', {}, sign, AbortSignal.timeout(timeoutMs));
  checkStatus(res, what);
  let all: Uint8Array;
  try {
    all = await readBounded(res.body, maxBytes, res.headers.get('content-length'));
  } catch (err) {
    if (err instanceof TooLargeError) throw new PermanentError(`${what} is larger than ${maxBytes} bytes`);
    throw err;
  }
  const encoding = contentEncoding(res);
  if (encoding) all = await decoded(all, encoding, what);
  if (all.byteLength > maxBytes) throw new PermanentError(`${what} is larger than ${maxBytes} bytes`);
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(all);
  } catch {
    throw new PermanentError(`${what} is not UTF-8 text`);
  }
}

/** What a HEAD of the data file tells: its version and size. */
export interface ResourceInfo {
  etag: string | null;
  length: number | null;
}

/** HEADs the data file: it must exist before a table is created for it. */
export async function probeResource(url: string, sign?: Signer, timeoutMs = 15_000): Promise<ResourceInfo> {
  const res = await send(url, 'HEAD', {}, sign, AbortSignal.timeout(timeoutMs));
  // A server without HEAD: nothing known in advance (the GET will tell).
  if (res.status === 405 || res.status === 501) return { etag: null, length: null };
  checkStatus(res, `data file ${url}`);
  const length = Number(res.headers.get('content-length') ?? NaN);
  return { etag: res.headers.get('etag'), length: Number.isFinite(length) ? length : null };
}

/** An open data file, positioned at the requested byte offset. */
export interface OpenedResource {
  /** The body in blocks of at least 64 KiB (see block-reader.ts). */
  reader: BlockReader;
  etag: string | null;
  /** True when the server honoured the Range request. */
  ranged: boolean;
}

/**
 * GETs the data file from byte `offset` on with `Range: bytes=<offset>-`.
 * When the server ignores Range (HTTP 200), the caller skips `offset` bytes.
 */
export async function openResource(url: string, offset: number, sign?: Signer): Promise<OpenedResource> {
  const headers: Record<string, string> = {};
  if (offset > 0) headers.Range = `bytes=${offset}-`;
  // Bounded wait for the answer's headers; the body's blocks have their own (BLOCKS.idleMs).
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(new Error(`data file ${url}: no answer within 30 s`)), 30_000);
  let res: Response;
  try {
    res = await send(url, 'GET', headers, sign, abort.signal);
  } finally {
    clearTimeout(timer);
  }
  if (res.status === 416) throw new PermanentError(`data file ${url} is shorter than the loaded part (it changed)`);
  checkStatus(res, `data file ${url}`);
  const encoding = contentEncoding(res);
  if (encoding) {
    await res.body?.cancel();
    throw new PermanentError(
      `data file ${url} is stored with Content-Encoding: ${encoding}; upload it again without that header (as plain CSV)`,
    );
  }
  let ranged = false;
  if (res.status === 206) {
    const start = /^bytes (\d+)-/.exec(res.headers.get('content-range') ?? '');
    if (!start || Number(start[1]) !== offset) {
      await res.body?.cancel();
      throw new Error(`data file ${url}: unexpected Content-Range ${res.headers.get('content-range')}`);
    }
    ranged = true;
  }
  // An empty object may come without a body: it reads as no rows.
  const body = res.body ?? new Blob([]).stream();
  return { reader: blockReader(body, BLOCKS), etag: res.headers.get('etag'), ranged };
}
