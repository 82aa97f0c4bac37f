/**
 * The multipart calls the service makes to the bucket itself, signed in
 * their headers (presign.ts signS3Request). Clients never get these
 * requests, only part URLs (presign.ts presignUploadPart).
 */
import { signS3Request, type S3Call, type StorageTarget } from './presign.ts';

/** Every call to the bucket gives up after this long. */
const S3_TIMEOUT_MS = 10_000;
/** Parts per ListParts page (S3's most). */
const PARTS_PER_PAGE = 1000;

/** The bucket answered with an error (or something that is not S3's answer). */
export class S3CallError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
  ) {
    super(`S3 answered ${status} ${code}`);
    this.name = 'S3CallError';
  }
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

/** XML character data to text (the five entities and numeric references). */
function unescapeXml(s: string): string {
  return s.replace(/&(#x[0-9a-fA-F]+|#\d+|amp|lt|gt|quot|apos);/g, (_m, e: string) =>
    e.startsWith('#x') ? String.fromCodePoint(parseInt(e.slice(2), 16)) : e.startsWith('#') ? String.fromCodePoint(Number(e.slice(1))) : (ENTITIES[e] ?? ''),
  );
}

function escapeXml(s: string): string {
  return s.replace(/[<>&'"]/g, (c) => `&#${c.charCodeAt(0)};`);
}

function xmlText(xml: string, tag: string): string | null {
  const match = new RegExp(`<${tag}>([^<]*)</${tag}>`).exec(xml);
  return match?.[1] === undefined ? null : unescapeXml(match[1]);
}

function xmlBlocks(xml: string, tag: string): string[] {
  return [...xml.matchAll(new RegExp(`<${tag}>([\\s\\S]*?)</${tag}>`, 'g'))].map((m) => m[1] ?? '');
}

/** Sends one signed call and answers its body text; S3CallError for an error answer, no answer or the timeout. */
async function send(target: StorageTarget, call: S3Call): Promise<string> {
  const request = await signS3Request(target, call);
  let res: Response;
  let text: string;
  try {
    res = await fetch(request, { signal: AbortSignal.timeout(S3_TIMEOUT_MS) });
    text = await res.text();
  } catch {
    throw new S3CallError(0, 'no answer'); // unreachable, or the timeout
  }
  // CompleteMultipartUpload may answer 200 and still fail (an <Error> body).
  if (!res.ok || /^(<\?xml[^>]*\?>)?\s*<Error>/.test(text)) {
    throw new S3CallError(res.ok ? 500 : res.status, xmlText(text, 'Code') ?? 'unknown');
  }
  return text;
}

/**
 * Starts a multipart upload of `key` (checked, paths.ts objectKey) and
 * answers its upload id. The Content-Type given here is the one the
 * completed object gets (parts carry none).
 */
export async function createMultipartUpload(
  target: StorageTarget,
  key: string,
  contentType?: string,
  now?: Date,
): Promise<string> {
  const text = await send(target, {
    method: 'POST',
    key,
    query: { uploads: '' },
    headers: contentType !== undefined ? { 'Content-Type': contentType } : {},
    now,
  });
  const uploadId = xmlText(text, 'UploadId');
  if (!uploadId) throw new S3CallError(200, 'no UploadId in the answer');
  return uploadId;
}

/** One part the bucket holds. */
export interface StoredPart {
  partNumber: number;
  size: number;
  /** As the bucket gives it, quotes included. */
  etag: string;
}

/**
 * Every part stored so far, in part-number order (ListParts, page by page;
 * at most ceil(maxParts / 1000) calls). 404 NoSuchUpload when the upload was
 * completed, aborted or never existed.
 */
export async function listParts(target: StorageTarget, key: string, uploadId: string, maxParts = 10_000): Promise<StoredPart[]> {
  const parts: StoredPart[] = [];
  let marker = '0';
  for (let page = 0; page < Math.ceil(maxParts / PARTS_PER_PAGE) + 1; page++) {
    const query: Record<string, string> = { uploadId, 'max-parts': String(PARTS_PER_PAGE) };
    if (marker !== '0') query['part-number-marker'] = marker;
    const text = await send(target, { method: 'GET', key, query });
    for (const block of xmlBlocks(text, 'Part')) {
      parts.push({
        partNumber: Number(xmlText(block, 'PartNumber')),
        size: Number(xmlText(block, 'Size')),
        etag: xmlText(block, 'ETag') ?? '',
      });
    }
    const next = xmlText(text, 'NextPartNumberMarker');
    if (xmlText(text, 'IsTruncated') !== 'true' || !next || next === marker) break;
    marker = next;
  }
  return parts.sort((a, b) => a.partNumber - b.partNumber);
}

/** Completes the upload from `parts` (in order); the object then exists at `key`. */
export async function completeMultipartUpload(
  target: StorageTarget,
  key: string,
  uploadId: string,
  parts: readonly StoredPart[],
): Promise<void> {
  const body =
    '<CompleteMultipartUpload>' +
    parts.map((p) => `<Part><PartNumber>${p.partNumber}</PartNumber><ETag>${escapeXml(p.etag)}</ETag></Part>`).join('') +
    '</CompleteMultipartUpload>';
  await send(target, { method: 'POST', key, query: { uploadId }, headers: { 'Content-Type': 'application/xml' }, body });
}

/** Aborts the upload: its parts are dropped and its part URLs stop working. */
export async function abortMultipartUpload(target: StorageTarget, key: string, uploadId: string): Promise<void> {
  await send(target, { method: 'DELETE', key, query: { uploadId } });
}

/** One unfinished upload in the bucket. */
export interface PendingUpload {
  key: string;
  uploadId: string;
  initiated: Date;
}

/** Where a ListMultipartUploads page starts. */
export interface UploadsMarker {
  keyMarker: string;
  uploadIdMarker: string;
}

/** One page of ListMultipartUploads; `next` is where the following page starts, null after the last. */
export async function listMultipartUploads(
  target: StorageTarget,
  options: { prefix?: string; keyMarker?: string; uploadIdMarker?: string; maxUploads?: number } = {},
): Promise<{ uploads: PendingUpload[]; next: UploadsMarker | null }> {
  const query: Record<string, string> = { uploads: '', 'max-uploads': String(options.maxUploads ?? 1000) };
  if (options.prefix) query.prefix = options.prefix;
  if (options.keyMarker) query['key-marker'] = options.keyMarker;
  if (options.uploadIdMarker) query['upload-id-marker'] = options.uploadIdMarker;
  const text = await send(target, { method: 'GET', key: '', query });
  const uploads = xmlBlocks(text, 'Upload').map((block) => ({
    key: xmlText(block, 'Key') ?? '',
    uploadId: xmlText(block, 'UploadId') ?? '',
    initiated: new Date(xmlText(block, 'Initiated') ?? ''),
  }));
  const keyMarker = xmlText(text, 'NextKeyMarker') ?? '';
  const truncated = xmlText(text, 'IsTruncated') === 'true' && keyMarker !== '';
  return { uploads, next: truncated ? { keyMarker, uploadIdMarker: xmlText(text, 'NextUploadIdMarker') ?? '' } : null };
}
