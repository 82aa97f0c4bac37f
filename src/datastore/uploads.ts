/**
 * The multipart upload endpoints (POST /datastore/multipart/complete, abort
 * and resume) and the cron's cleanup of unfinished uploads, minus HTTP
 * plumbing.
 *
 * Trust: the permission token must grant os.datastore datapackage-upload
 * (as /datastore/authorize), and the upload token (signed by the service in
 * the authorize answer) names the upload's key, id, owner and length. The
 * owner must be the permission token's user. The part plan the parts are
 * checked against is derived from the signed length (multipart.ts planParts),
 * never read from the client.
 */
import type { SigningKeys } from '../auth/keys.ts';
import { verifyUploadToken, type UploadTokenClaims } from '../auth/tokens.ts';
import type { Config } from '../config.ts';
import { PART_URLS_PER_ANSWER, partRange, partsToSend, planParts, storedPartsProblem, type PartPlan } from './multipart.ts';
import { uploaderOf } from './authorize.ts';
import { bucketUrl, presignUploadPart, type StorageTarget } from './presign.ts';
import { encodeObjectKey } from './paths.ts';
import {
  abortMultipartUpload,
  completeMultipartUpload,
  listMultipartUploads,
  listParts,
  S3CallError,
  type PendingUpload,
  type UploadsMarker,
} from './s3-multipart.ts';
import { describeIssue, MultipartRequest, ResumeRequest, type PartGrant } from './schema.ts';

export type MultipartAction = 'complete' | 'abort' | 'resume';

/** Paths of the endpoints, as the authorize plan links them. */
export const MULTIPART_PATHS: Record<MultipartAction, string> = {
  complete: '/datastore/multipart/complete',
  abort: '/datastore/multipart/abort',
  resume: '/datastore/multipart/resume',
};

export type UploadOutcome =
  | { ok: true; body: Record<string, unknown> }
  | { ok: false; status: 400 | 401 | 404 | 409 | 502; error: string; partNumber?: number };

/**
 * Signs the part URLs of `partNumbers` (at most PART_URLS_PER_ANSWER, the
 * caller's window) of one upload; `partMd5` (one digest per part of the plan)
 * makes each URL sign its part's Content-MD5.
 */
export async function signPartGrants(
  target: StorageTarget,
  upload: { key: string; uploadId: string; plan: PartPlan; partMd5?: readonly string[] },
  partNumbers: readonly number[],
  expiresIn: number,
  now: Date,
  cache: Map<string, ArrayBuffer>,
): Promise<PartGrant[]> {
  return Promise.all(
    partNumbers.map(async (partNumber) => {
      const range = partRange(upload.plan, partNumber);
      const part = await presignUploadPart(target, {
        key: upload.key,
        uploadId: upload.uploadId,
        partNumber,
        contentMd5: upload.partMd5?.[partNumber - 1],
        expiresIn,
        now,
        cache,
      });
      return { part_number: partNumber, start: range.start, end: range.end, upload_url: part.uploadUrl, upload_query: part.uploadQuery };
    }),
  );
}

/** The endpoint URLs a plan links, under the service's base URL. */
export function multipartUrls(config: Pick<Config, 'OS_BASE_URL'>): { complete_url: string; abort_url: string; resume_url: string } {
  const base = config.OS_BASE_URL.replace(/\/+$/, '');
  return {
    complete_url: base + MULTIPART_PATHS.complete,
    abort_url: base + MULTIPART_PATHS.abort,
    resume_url: base + MULTIPART_PATHS.resume,
  };
}

/** The bucket's 404 NoSuchUpload, and any other storage failure, as the endpoints answer them. */
function storageFailure(err: unknown, doing: string): UploadOutcome {
  if (err instanceof S3CallError && err.status === 404) {
    return { ok: false, status: 404, error: 'no such upload: it was completed, aborted or has expired' };
  }
  if (err instanceof S3CallError) return { ok: false, status: 502, error: `the storage did not ${doing} (${err.message})` };
  throw err;
}

/** The whole behaviour of one endpoint; see the module comment for the checks. */
export async function multipartUpload(
  action: MultipartAction,
  args: { bodyText: string; token: string | undefined; keys: SigningKeys; config: Config; target: StorageTarget; now?: Date },
): Promise<UploadOutcome> {
  let body: unknown;
  try {
    body = JSON.parse(args.bodyText);
  } catch {
    return { ok: false, status: 400, error: 'request body is not valid JSON' };
  }
  // complete and abort take the token only; extra fields (part_md5 included) are ignored there.
  const request = action === 'resume' ? ResumeRequest.safeParse(body) : MultipartRequest.safeParse(body);
  if (!request.success) return { ok: false, status: 400, error: describeIssue(request.error) };
  const fields: { upload_token: string; part_md5?: string[] } = request.data;

  const userid = await uploaderOf(args.keys, args.config, args.token);
  if (userid === null) {
    return { ok: false, status: 401, error: 'a permission token for os.datastore with datapackage-upload is required' };
  }
  const upload = await verifyUploadToken(args.keys, args.config, fields.upload_token);
  if (upload === null) return { ok: false, status: 401, error: 'upload_token is not a valid, unexpired upload token of this service' };
  // The key starts with the owner's folder (paths.ts objectKey); check both, as authorize checks metadata.owner.
  if (upload.userid !== userid || !upload.key.startsWith(`${userid}/`)) {
    return { ok: false, status: 401, error: 'the upload is not the token user’s' };
  }
  const plan = planParts(upload.length);
  const partMd5 = fields.part_md5;
  if (partMd5 !== undefined && partMd5.length !== plan.partCount) {
    return { ok: false, status: 400, error: `part_md5: must have ${plan.partCount} digests (parts of ${plan.partSize} bytes)` };
  }
  switch (action) {
    case 'complete':
      return complete(args.target, upload, plan);
    case 'abort':
      return abort(args.target, upload);
    case 'resume':
      return resume(args.target, upload, plan, partMd5, args.config.OS_UPLOAD_URL_TTL, args.now ?? new Date());
  }
}

async function complete(target: StorageTarget, upload: UploadTokenClaims, plan: PartPlan): Promise<UploadOutcome> {
  let stored;
  try {
    stored = await listParts(target, upload.key, upload.uploadId, plan.partCount);
  } catch (err) {
    return storageFailure(err, 'list the parts');
  }
  const problem = storedPartsProblem(plan, stored);
  if (problem) return { ok: false, status: 409, error: problem.error, partNumber: problem.partNumber };
  try {
    await completeMultipartUpload(target, upload.key, upload.uploadId, stored);
  } catch (err) {
    return storageFailure(err, 'complete the upload');
  }
  return {
    ok: true,
    body: { upload_url: `${bucketUrl(target)}/${encodeObjectKey(upload.key)}`, length: upload.length, part_count: plan.partCount },
  };
}

async function abort(target: StorageTarget, upload: UploadTokenClaims): Promise<UploadOutcome> {
  try {
    await abortMultipartUpload(target, upload.key, upload.uploadId);
  } catch (err) {
    return storageFailure(err, 'abort the upload');
  }
  return { ok: true, body: { aborted: true, upload_id: upload.uploadId } };
}

async function resume(
  target: StorageTarget,
  upload: UploadTokenClaims,
  plan: PartPlan,
  partMd5: readonly string[] | undefined,
  expiresIn: number,
  now: Date,
): Promise<UploadOutcome> {
  let stored;
  try {
    stored = await listParts(target, upload.key, upload.uploadId, plan.partCount);
  } catch (err) {
    return storageFailure(err, 'list the parts');
  }
  const toSend = partsToSend(plan, stored);
  const window = toSend.slice(0, PART_URLS_PER_ANSWER);
  const parts = await signPartGrants(target, { key: upload.key, uploadId: upload.uploadId, plan, partMd5 }, window, expiresIn, now, new Map());
  const wanted = new Set(toSend);
  return {
    ok: true,
    body: {
      upload_id: upload.uploadId,
      part_size: plan.partSize,
      part_count: plan.partCount,
      // Parts stored with the planned size; a stored part of another size is sent again (a PUT replaces it).
      stored: stored.filter((p) => !wanted.has(p.partNumber) && p.partNumber <= plan.partCount).map((p) => ({ part_number: p.partNumber, size: p.size })),
      parts,
      parts_remaining: toSend.length - window.length,
    },
  };
}

/** What one cleanup run did. */
export interface CleanupReport {
  /** Unfinished uploads looked at. */
  seen: number;
  aborted: number;
  failed: number;
  /** True when the run stopped at its bounds with more uploads possibly left for the next run. */
  more: boolean;
}

/**
 * Aborts unfinished multipart uploads under `prefix` begun more than
 * `maxAgeSeconds` before `now`. Bounded per run: at most `maxPages` listing
 * pages and `maxAborts` aborts (each call has the storage timeout); the rest
 * wait for the next run. A failed abort is counted and left for the next run.
 */
export async function abortStaleUploads(
  target: StorageTarget,
  options: { maxAgeSeconds: number; now?: Date; prefix?: string; maxPages?: number; maxAborts?: number },
): Promise<CleanupReport> {
  const cutoff = (options.now ?? new Date()).getTime() - options.maxAgeSeconds * 1000;
  const maxPages = options.maxPages ?? 5;
  const maxAborts = options.maxAborts ?? 100;
  const report: CleanupReport = { seen: 0, aborted: 0, failed: 0, more: false };
  let marker: UploadsMarker | null = null;
  for (let page = 0; page < maxPages; page++) {
    const listed: { uploads: PendingUpload[]; next: UploadsMarker | null } = await listMultipartUploads(target, {
      prefix: options.prefix,
      ...(marker ?? {}),
    });
    report.seen += listed.uploads.length;
    const stale = listed.uploads.filter((u) => u.initiated.getTime() < cutoff);
    const room = maxAborts - report.aborted - report.failed;
    const todo = stale.slice(0, room);
    // Ten at a time: bounded concurrency towards the storage.
    for (let i = 0; i < todo.length; i += 10) {
      const results = await Promise.allSettled(todo.slice(i, i + 10).map((u) => abortMultipartUpload(target, u.key, u.uploadId)));
      for (const r of results) {
        // NoSuchUpload: completed or aborted meanwhile, which is what we wanted.
        if (r.status === 'fulfilled' || (r.reason instanceof S3CallError && r.reason.status === 404)) report.aborted++;
        else report.failed++;
      }
    }
    if (stale.length > room) {
      report.more = true;
      return report;
    }
    marker = listed.next;
    if (!marker) return report;
  }
  report.more = true;
  return report;
}
