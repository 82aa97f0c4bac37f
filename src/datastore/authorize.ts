/**
 * POST /datastore/ (and /datastore/authorize): from a raw request body and a
 * permission token to presigned upload URLs, with the original's status codes
 * (400 bad body, 401 auth failure) and a JSON error body instead of its empty
 * one. Never a 500 for bad input.
 *
 * Order of checks, as the original: JSON and metadata.owner/name (400), then
 * the token (401: must be an os.datastore permission token granting
 * datapackage-upload, whose user is metadata.owner), then the file list (400).
 */
import type { SigningKeys } from '../auth/keys.ts';
import { canUpload, signUploadToken, verifyPermissionToken } from '../auth/tokens.ts';
import type { Config } from '../config.ts';
import { PART_URLS_PER_ANSWER, PART_URLS_PER_FILE, planParts, usesMultipart, type PartPlan } from './multipart.ts';
import { objectKey, relativePathProblem } from './paths.ts';
import { presignUpload, type StorageTarget } from './presign.ts';
import { createMultipartUpload, S3CallError } from './s3-multipart.ts';
import { multipartUrls, signPartGrants } from './uploads.ts';
import { AuthorizeRequest, describeIssue, MAX_FILES, MetadataEnvelope, type AuthorizeResponse } from './schema.ts';

export type AuthorizeOutcome =
  | { ok: true; body: AuthorizeResponse }
  | { ok: false; status: 400 | 401 | 502; error: string };

/**
 * Most files of one request that get a multipart plan: each costs a
 * CreateMultipartUpload call (a subrequest) and a token signature.
 */
export const MAX_MULTIPART_FILES = 100;

/**
 * The part plan of each file that is uploaded in parts (by path), or the
 * first problem: per-part digests that do not fit the plan, or more files in
 * parts than one request may start (authorize fewer files at once).
 */
export function multipartPlans(
  request: AuthorizeRequest,
  threshold: number,
): { ok: true; plans: Map<string, PartPlan> } | { ok: false; error: string } {
  const plans = new Map<string, PartPlan>();
  for (const [path, file] of Object.entries(request.filedata)) {
    const where = `filedata[${JSON.stringify(path)}]`;
    if (!usesMultipart(Number(file.length), file.multipart, threshold)) {
      if (file.part_md5 !== undefined) return { ok: false, error: `${where}.part_md5: only for a file uploaded in parts` };
      continue;
    }
    const plan = planParts(Number(file.length));
    if (file.part_md5 !== undefined && file.part_md5.length !== plan.partCount) {
      return {
        ok: false,
        error: `${where}.part_md5: must have ${plan.partCount} digests (parts of ${plan.partSize} bytes)`,
      };
    }
    plans.set(path, plan);
    if (plans.size > MAX_MULTIPART_FILES) {
      return { ok: false, error: `filedata: more than ${MAX_MULTIPART_FILES} files in parts in one request` };
    }
  }
  return { ok: true, plans };
}

/**
 * How many part URLs each planned file gets in the answer: the first
 * PART_URLS_PER_FILE of its parts, in request order, until the answer's
 * PART_URLS_PER_ANSWER are spent (later files then get theirs from resume).
 */
export function partWindows(plans: ReadonlyMap<string, PartPlan>): Map<string, number> {
  const windows = new Map<string, number>();
  let left = PART_URLS_PER_ANSWER;
  for (const [path, plan] of plans) {
    const n = Math.min(plan.partCount, PART_URLS_PER_FILE, left);
    windows.set(path, n);
    left -= n;
  }
  return windows;
}

/** What grantUploads needs to plan multipart files. */
export interface MultipartGrants {
  plans: ReadonlyMap<string, PartPlan>;
  keys: SigningKeys;
  config: Pick<Config, 'OS_BASE_URL' | 'OS_MULTIPART_MAX_AGE'>;
}

/** Checks a permission token for uploads; the user id, or null. */
export async function uploaderOf(keys: SigningKeys, config: Config, token: string | undefined): Promise<string | null> {
  const claims = await verifyPermissionToken(keys, config, token, 'os.datastore');
  return canUpload(claims) ? claims.userid : null;
}

/**
 * Signs one PUT per requested file, and for each file in `multipart.plans`
 * starts an upload, signs its upload token and its first part URLs
 * (partWindows); the request must have passed AuthorizeRequest. Throws
 * S3CallError when the storage refuses to start one.
 */
export async function grantUploads(
  target: StorageTarget,
  request: AuthorizeRequest,
  expiresIn: number,
  multipart?: MultipartGrants,
  now: Date = new Date(),
): Promise<AuthorizeResponse> {
  const { owner, name } = request.metadata;
  const cache = new Map<string, ArrayBuffer>();
  const windows = multipart ? partWindows(multipart.plans) : new Map<string, number>();
  const entries = await Promise.all(
    Object.entries(request.filedata).map(async ([path, file]) => {
      const signed = await presignUpload(target, {
        key: objectKey(owner, name, path),
        contentMd5: file.md5,
        contentType: file.type,
        expiresIn,
        now,
        cache,
      });
      // Echo the client's values as given (gobble reads `type`, vulekamali `md5`).
      const grant = {
        md5: file.md5,
        name: file.name,
        length: file.length,
        ...(file.type !== undefined ? { type: file.type } : {}),
        upload_url: signed.uploadUrl,
        upload_query: signed.uploadQuery,
      };
      const plan = multipart?.plans.get(path);
      if (!multipart || !plan) return [path, grant] as const;
      const key = objectKey(owner, name, path);
      const uploadId = await createMultipartUpload(target, key, file.type, now);
      const uploadToken = await signUploadToken(
        multipart.keys,
        multipart.config,
        { userid: owner, key, uploadId, length: plan.length },
        multipart.config.OS_MULTIPART_MAX_AGE,
      );
      const window = Array.from({ length: windows.get(path) ?? 0 }, (_, i) => i + 1);
      const parts = await signPartGrants(target, { key, uploadId, plan, partMd5: file.part_md5 }, window, expiresIn, now, cache);
      const plans = {
        upload_id: uploadId,
        upload_token: uploadToken,
        part_size: plan.partSize,
        part_count: plan.partCount,
        parts,
        parts_signed: parts.length,
        ...multipartUrls(multipart.config),
      };
      return [path, { ...grant, multipart: plans }] as const;
    }),
  );
  // fromEntries defines own properties, so a file named "__proto__" stays a file.
  return { filedata: Object.fromEntries(entries) };
}

/** The whole endpoint behaviour, minus HTTP plumbing; see the module comment. */
export async function authorizeUpload(args: {
  bodyText: string;
  token: string | undefined;
  keys: SigningKeys;
  config: Config;
  target: StorageTarget;
  now?: Date;
}): Promise<AuthorizeOutcome> {
  let body: unknown;
  try {
    body = JSON.parse(args.bodyText);
  } catch {
    return { ok: false, status: 400, error: 'request body is not valid JSON' };
  }
  const envelope = MetadataEnvelope.safeParse(body);
  if (!envelope.success) return { ok: false, status: 400, error: describeIssue(envelope.error) };

  const userid = await uploaderOf(args.keys, args.config, args.token);
  if (userid === null) {
    return {
      ok: false,
      status: 401,
      error: 'a permission token for os.datastore with datapackage-upload is required',
    };
  }
  if (userid !== envelope.data.metadata.owner) {
    return { ok: false, status: 401, error: 'metadata.owner is not the user of the token' };
  }

  const rawFiles = (body as { filedata?: unknown }).filedata;
  if (typeof rawFiles === 'object' && rawFiles !== null) {
    // Count first: validating tens of thousands of entries would only waste CPU.
    if (Object.keys(rawFiles).length > MAX_FILES) {
      return { ok: false, status: 400, error: `filedata: has more than ${MAX_FILES} files` };
    }
    // zod drops an own "__proto__" key of a record without a word: check the raw keys.
    if (Object.hasOwn(rawFiles, '__proto__')) {
      return { ok: false, status: 400, error: `filedata["__proto__"]: path ${relativePathProblem('__proto__')}` };
    }
  }
  const request = AuthorizeRequest.safeParse(body);
  if (!request.success) return { ok: false, status: 400, error: describeIssue(request.error) };
  const plans = multipartPlans(request.data, args.config.OS_MULTIPART_THRESHOLD);
  if (!plans.ok) return { ok: false, status: 400, error: plans.error };
  try {
    return {
      ok: true,
      body: await grantUploads(
        args.target,
        request.data,
        args.config.OS_UPLOAD_URL_TTL,
        { plans: plans.plans, keys: args.keys, config: args.config },
        args.now,
      ),
    };
  } catch (err) {
    if (err instanceof S3CallError) return { ok: false, status: 502, error: `the storage did not start a multipart upload (${err.message})` };
    throw err;
  }
}
