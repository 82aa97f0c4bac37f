/**
 * The multipart calls the service makes to the bucket itself, signed in
 * their headers (presign.ts signS3Request). Clients never get these
 * requests, only part URLs (presign.ts presignUploadPart).
 */
import { signS3Request, type StorageTarget } from './presign.ts';

/** Every call to the bucket gives up after this long. */
const S3_TIMEOUT_MS = 10_000;

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

function xmlText(xml: string, tag: string): string | null {
  const match = new RegExp(`<${tag}>([^<]*)</${tag}>`).exec(xml);
  return match?.[1] ?? null;
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
  const request = await signS3Request(target, {
    method: 'POST',
    key,
    query: { uploads: '' },
    headers: contentType !== undefined ? { 'Content-Type': contentType } : {},
    now,
  });
  let res: Response;
  try {
    res = await fetch(request, { signal: AbortSignal.timeout(S3_TIMEOUT_MS) });
  } catch {
    throw new S3CallError(0, 'no answer'); // unreachable, or the timeout
  }
  const text = await res.text();
  if (!res.ok) throw new S3CallError(res.status, xmlText(text, 'Code') ?? 'unknown');
  const uploadId = xmlText(text, 'UploadId');
  if (!uploadId) throw new S3CallError(res.status, 'no UploadId in the answer');
  return uploadId;
}
