/**
 * Presigned PUT URLs for the datastore bucket, and presigned GETs for
 * reading a private bucket (SigV4 query signing with aws4fetch). This file is the trust boundary between a checked upload
 * request and the storage: keep it small enough to audit in one sitting.
 *
 * What a URL allows: one PUT of one key, in OS_STORAGE_BUCKET_NAME on
 * OS_S3_HOSTNAME (path-style), until it expires, with exactly the signed
 * Content-MD5 and (when the client gave a type) Content-Type. Content-Length
 * is deliberately not signed: browsers set it themselves and os-packager's
 * XHR path omits it; the MD5 already pins the bytes on S3 and R2.
 *
 * A part URL (multipart uploads) allows one UploadPart PUT of one part
 * number of one upload id of one key, until it expires, with the signed
 * Content-MD5 when the client gave the part's digest. Starting, listing,
 * completing and aborting uploads are the service's own header-signed
 * requests (signS3Request), never handed to clients.
 */
import { AwsV4Signer } from 'aws4fetch';
import { ConfigError, type Config } from '../config.ts';
import { encodeObjectKey } from './paths.ts';

/** SigV4 presigned URLs may live at most 7 days. */
export const MAX_PRESIGN_SECONDS = 7 * 24 * 3600;

/** Where and with which credentials uploads are signed. */
export interface StorageTarget {
  scheme: 'http' | 'https';
  hostname: string;
  /** Explicit port; omitted from URLs when it is the scheme's default. */
  port?: number;
  bucket: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
}

// A DNS name or an IPv4 address; no scheme, path, port or user info.
const HOSTNAME = /^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;
// S3 bucket naming rules (lower case, digits, dots, hyphens; 3–63).
const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

/**
 * The storage settings from the configuration; throws ConfigError (the app
 * answers 503) when the datastore is not configured or a setting is malformed.
 */
export function storageTarget(config: Config): StorageTarget {
  const missing = (
    ['OS_ACCESS_KEY_ID', 'OS_SECRET_ACCESS_KEY', 'OS_S3_HOSTNAME', 'OS_STORAGE_BUCKET_NAME'] as const
  ).filter((k) => !config[k]);
  if (missing.length) throw new ConfigError(`datastore not configured: ${missing.join(', ')} missing`);
  const hostname = config.OS_S3_HOSTNAME ?? '';
  const bucket = config.OS_STORAGE_BUCKET_NAME ?? '';
  if (!HOSTNAME.test(hostname)) throw new ConfigError('OS_S3_HOSTNAME must be a bare host name (no scheme or port)');
  if (!BUCKET.test(bucket)) throw new ConfigError('OS_STORAGE_BUCKET_NAME is not a valid bucket name');
  if (config.OS_UPLOAD_URL_TTL > MAX_PRESIGN_SECONDS) {
    throw new ConfigError(`OS_UPLOAD_URL_TTL must be at most ${MAX_PRESIGN_SECONDS} seconds (SigV4 limit)`);
  }
  if (config.OS_DATASTORE_READ_URL_TTL > MAX_PRESIGN_SECONDS) {
    throw new ConfigError(`OS_DATASTORE_READ_URL_TTL must be at most ${MAX_PRESIGN_SECONDS} seconds (SigV4 limit)`);
  }
  return {
    scheme: config.OS_S3_SCHEME,
    hostname: hostname.toLowerCase(),
    port: config.OS_S3_PORT,
    bucket,
    region: config.OS_S3_REGION,
    accessKeyId: config.OS_ACCESS_KEY_ID ?? '',
    secretAccessKey: config.OS_SECRET_ACCESS_KEY ?? '',
  };
}

/** `scheme://host[:port]/<bucket>`: the public base of every uploaded object. */
export function bucketUrl(target: Pick<StorageTarget, 'scheme' | 'hostname' | 'port' | 'bucket'>): string {
  const defaultPort = target.scheme === 'https' ? 443 : 80;
  const port = target.port !== undefined && target.port !== defaultPort ? `:${target.port}` : '';
  return `${target.scheme}://${target.hostname}${port}/${target.bucket}`;
}

export interface PresignRequest {
  /** Object key, already checked (see paths.ts objectKey). */
  key: string;
  /** base64 MD5 the PUT must send as Content-MD5. */
  contentMd5: string;
  /** Content-Type the PUT must send, when the client named one. */
  contentType?: string;
  /** Lifetime in seconds. */
  expiresIn: number;
  /** Signing time; now by default. Tests pass a past time to get an expired URL. */
  now?: Date;
  /** SigV4 signing-key cache shared across the files of one request. */
  cache?: Map<string, ArrayBuffer>;
}

/** The original's response shape: the query-less URL, and each query parameter as a one-element array. */
export interface PresignedUpload {
  uploadUrl: string;
  uploadQuery: Record<string, [string]>;
}

/** SigV4 date form: 20260102T030405Z. */
function amzDate(date: Date): string {
  return date.toISOString().replace(/[:-]|\.\d{3}/g, '');
}

/** Signs one PUT; see the module comment for what the URL allows. */
export async function presignUpload(target: StorageTarget, request: PresignRequest): Promise<PresignedUpload> {
  return presignPut(target, request, {});
}

export interface PresignPartRequest extends Omit<PresignRequest, 'contentMd5' | 'contentType'> {
  /** The upload id CreateMultipartUpload answered. */
  uploadId: string;
  /** 1 to 10,000. */
  partNumber: number;
  /** base64 MD5 of the part, when the client sent one: the part's PUT must then carry it. */
  contentMd5?: string;
}

/** Signs one UploadPart PUT; see the module comment for what the URL allows. */
export async function presignUploadPart(target: StorageTarget, request: PresignPartRequest): Promise<PresignedUpload> {
  if (!Number.isInteger(request.partNumber) || request.partNumber < 1 || request.partNumber > 10_000) {
    throw new RangeError('partNumber out of range');
  }
  if (request.uploadId === '') throw new RangeError('uploadId is empty');
  return presignPut(target, request, { partNumber: String(request.partNumber), uploadId: request.uploadId });
}

async function presignPut(
  target: StorageTarget,
  request: Omit<PresignRequest, 'contentMd5'> & { contentMd5?: string },
  query: Record<string, string>,
): Promise<PresignedUpload> {
  const headers = new Headers();
  if (request.contentMd5 !== undefined) headers.set('Content-MD5', request.contentMd5);
  if (request.contentType !== undefined) headers.set('Content-Type', request.contentType);
  const signed = await presignedUrl(target, 'PUT', request, query, headers);
  const uploadQuery: Record<string, [string]> = {};
  for (const [name, value] of signed.searchParams) uploadQuery[name] = [value];
  return { uploadUrl: `${signed.origin}${signed.pathname}`, uploadQuery };
}

/** The query-signed (SigV4) URL of one `method` on `request.key`, valid `expiresIn` seconds; `headers` are signed too. */
async function presignedUrl(
  target: StorageTarget,
  method: 'GET' | 'PUT',
  request: Pick<PresignRequest, 'key' | 'expiresIn' | 'now' | 'cache'>,
  query: Record<string, string> = {},
  headers: Headers = new Headers(),
): Promise<URL> {
  if (!Number.isInteger(request.expiresIn) || request.expiresIn < 1 || request.expiresIn > MAX_PRESIGN_SECONDS) {
    throw new RangeError('expiresIn out of range');
  }
  const url = new URL(`${bucketUrl(target)}/${encodeObjectKey(request.key)}`);
  for (const [name, value] of Object.entries(query)) url.searchParams.set(name, value);
  url.searchParams.set('X-Amz-Expires', String(request.expiresIn));
  const signer = new AwsV4Signer({
    method,
    url: url.toString(),
    headers,
    accessKeyId: target.accessKeyId,
    secretAccessKey: target.secretAccessKey,
    service: 's3',
    region: target.region,
    datetime: amzDate(request.now ?? new Date()),
    signQuery: true,
    // Sign every header given (aws4fetch would otherwise leave Content-Type out).
    allHeaders: true,
    cache: request.cache,
  });
  return (await signer.sign()).url;
}

/** A request the service itself sends to the bucket (CreateMultipartUpload and the like). */
export interface S3Call {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** Object key; '' for a call on the bucket. */
  key: string;
  /** Query parameters, e.g. `{ uploads: '' }` for CreateMultipartUpload. */
  query?: Record<string, string>;
  headers?: Record<string, string>;
  body?: string;
  now?: Date;
}

/**
 * `call` signed in its headers (SigV4, payload hash included), ready to
 * fetch. The key must be checked (paths.ts objectKey).
 */
export async function signS3Request(target: StorageTarget, call: S3Call): Promise<Request> {
  // An empty key is the bucket itself (ListMultipartUploads).
  const url = new URL(call.key === '' ? bucketUrl(target) : `${bucketUrl(target)}/${encodeObjectKey(call.key)}`);
  for (const [name, value] of Object.entries(call.query ?? {})) url.searchParams.set(name, value);
  const signer = new AwsV4Signer({
    method: call.method,
    url: url.toString(),
    headers: new Headers(call.headers ?? {}),
    body: call.body,
    accessKeyId: target.accessKeyId,
    secretAccessKey: target.secretAccessKey,
    service: 's3',
    region: target.region,
    datetime: amzDate(call.now ?? new Date()),
    allHeaders: true,
  });
  const signed = await signer.sign();
  return new Request(signed.url.toString(), { method: signed.method, headers: signed.headers, body: signed.body ?? null });
}

/**
 * Signs one GET of one key (what /datastore/file redirects to): the URL
 * allows reading that object, and nothing else, until it expires. The key
 * must be checked (paths.ts objectKey) and belong to a package the caller may
 * see; that decision is the caller's.
 */
export async function presignDownload(
  target: StorageTarget,
  request: Pick<PresignRequest, 'key' | 'expiresIn' | 'now'>,
): Promise<string> {
  return (await presignedUrl(target, 'GET', request)).toString();
}
