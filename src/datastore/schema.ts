/**
 * The wire format of POST /datastore/ (and /datastore/authorize) as zod
 * schemas: the request body the real clients send and the response they
 * read (api.md §1.3 row 8, §3 quirks 4–7). Also used for the OpenAPI document.
 */
import { z } from '@hono/zod-openapi';
import { MAX_MULTIPART_OBJECT_BYTES, MAX_PARTS, PART_URLS_PER_ANSWER, PART_URLS_PER_FILE } from './multipart.ts';
import { MAX_KEY_BYTES, MAX_SEGMENT_LENGTH, objectKeyBytes, relativePathProblem, segmentProblem } from './paths.ts';

/** Most files one authorize call may ask for (gobble sends a whole package at once). */
export const MAX_FILES = 1000;
/** Largest request body read, in bytes: 1000 files with long paths fit easily. */
export const MAX_BODY_BYTES = 2 * 1024 * 1024;
/** Largest object a single PUT may upload on S3 and R2 (5 GiB). */
export const MAX_OBJECT_BYTES = 5 * 1024 ** 3;
/** Longest `name` or `type` echoed back. */
export const MAX_TEXT_LENGTH = 1024;

/** True for the base64 encoding of exactly 16 bytes, the form Content-MD5 takes. */
export function isBase64Md5(value: string): boolean {
  return /^[A-Za-z0-9+/]{21}[AQgw]==$/.test(value);
}

/**
 * A byte count as clients send it: a whole number, or a string of digits
 * (os-cli sends strings); echoed back unchanged. Up to S3's 5 TiB object:
 * a file above one PUT's 5 GiB is always above OS_MULTIPART_THRESHOLD, so it
 * always gets a multipart plan.
 */
export function isValidLength(value: unknown): boolean {
  if (typeof value === 'number') return Number.isSafeInteger(value) && value >= 0 && value <= MAX_MULTIPART_OBJECT_BYTES;
  if (typeof value === 'string') return /^\d{1,13}$/.test(value) && Number(value) <= MAX_MULTIPART_OBJECT_BYTES;
  return false;
}

/**
 * A Content-Type value that survives signing unchanged: printable ASCII,
 * single spaces between words (SigV4 collapses runs of spaces, and
 * servers differ in whether they do the same before comparing).
 */
export const CONTENT_TYPE = /^[\x21-\x7e]+( [\x21-\x7e]+)*$/;

/** zod error text for a wrong type: "is missing" when absent, else what was expected. */
const expected = (what: string) => ({
  error: (issue: { input?: unknown }) => (issue.input === undefined ? 'is missing' : `must be ${what}`),
});

// segmentProblem's rules as the document shows them: no control character,
// backslash or '/', not '.' or '..'.
const SEGMENT_CHAR = '[^\\u0000-\\u001f\\u007f-\\u009f\\\\/]';
const SEGMENT_FIRST = '[^\\u0000-\\u001f\\u007f-\\u009f\\\\/.]';
const Segment = z
  .string(expected('a string'))
  .superRefine((v, ctx) => {
    const problem = segmentProblem(v);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  })
  .openapi({
    minLength: 1,
    maxLength: MAX_SEGMENT_LENGTH,
    pattern: `^(${SEGMENT_FIRST}${SEGMENT_CHAR}*|\\.${SEGMENT_FIRST}${SEGMENT_CHAR}*|\\.\\.${SEGMENT_CHAR}+)$`,
  });

/** `metadata` of the request: the owner id (must equal the token's user) and the dataset name. */
export const UploadMetadata = z
  .object({ owner: Segment, name: Segment }, expected('an object'))
  .openapi('UploadMetadata', {
    description: 'Who uploads which dataset. Other keys (e.g. author) are accepted and ignored.',
  });

/** One file the client wants to upload. */
export const UploadFile = z
  .object(
    {
      md5: z
        .string(expected('a string'))
        .refine(isBase64Md5, 'must be the base64 encoding of a 16-byte MD5 digest')
        .openapi({ description: 'base64 of the MD5 digest (the Content-MD5 the PUT must send).' }),
      name: z.string(expected('a string')).max(MAX_TEXT_LENGTH, `is longer than ${MAX_TEXT_LENGTH} characters`),
      length: z
        .union([z.number(), z.string()], expected('a number or a string of digits'))
        .refine(isValidLength, `must be a whole number of bytes from 0 to ${MAX_MULTIPART_OBJECT_BYTES}`)
        .openapi({
          description: `Size in bytes (a number, or digits as a string); echoed as given. Above ${MAX_OBJECT_BYTES} (one PUT) only in parts.`,
        }),
      type: z
        .string(expected('a string'))
        .max(MAX_TEXT_LENGTH, `is longer than ${MAX_TEXT_LENGTH} characters`)
        .regex(CONTENT_TYPE, 'must be printable ASCII with single spaces')
        .optional()
        .openapi({ description: 'Content-Type the PUT must carry (signed).' }),
      multipart: z
        .boolean(expected('true or false'))
        .optional()
        .openapi({ description: 'true: also give a multipart plan, whatever the size (larger files get one anyway).' }),
      part_md5: z
        .array(z.string(expected('a string')).refine(isBase64Md5, 'must be the base64 encoding of a 16-byte MD5 digest'), expected('an array'))
        .max(MAX_PARTS, `has more than ${MAX_PARTS} digests`)
        .optional()
        .openapi({
          description:
            'Multipart files only: base64 MD5 of each part, in order, cut as the plan cuts them (parts of the smallest whole number of MiB, at least 5 MiB, that fits the file in 10,000 parts); each part URL then signs its Content-MD5.',
        }),
    },
    expected('an object'),
  )
  .openapi('UploadFile');

/** The whole request body. */
export const AuthorizeRequest = z
  .object(
    {
      metadata: UploadMetadata,
      filedata: z
        .record(z.string(), UploadFile, expected('an object of files'))
        .openapi({ description: 'Relative path inside the dataset -> file description.' }),
    },
    expected('a JSON object'),
  )
  .superRefine((body, ctx) => {
    const paths = Object.keys(body.filedata);
    if (paths.length > MAX_FILES) {
      ctx.addIssue({ code: 'custom', path: ['filedata'], message: `has more than ${MAX_FILES} files` });
      return;
    }
    for (const path of paths) {
      const problem = relativePathProblem(path);
      if (problem) {
        ctx.addIssue({ code: 'custom', path: ['filedata', path], message: `path ${problem}` });
        return;
      }
      if (objectKeyBytes(body.metadata.owner, body.metadata.name, path) > MAX_KEY_BYTES) {
        ctx.addIssue({
          code: 'custom',
          path: ['filedata', path],
          message: `object key <owner>/<name>/<path> is longer than ${MAX_KEY_BYTES} bytes`,
        });
        return;
      }
    }
  })
  .openapi('DatastoreAuthorizeRequest');

export type AuthorizeRequest = z.infer<typeof AuthorizeRequest>;

/** Only the part checked before authentication, as the original did. */
export const MetadataEnvelope = z.object({ metadata: UploadMetadata }, expected('a JSON object'));

/** One part of a multipart plan: bytes [start, end) of the file, PUT to its own URL. */
export const PartGrant = z
  .object({
    part_number: z.number().int(),
    start: z.number().int(),
    end: z.number().int().openapi({ description: 'Exclusive, as Blob.slice takes it.' }),
    upload_url: z.string(),
    upload_query: z.record(z.string(), z.array(z.string()).length(1)),
  })
  .openapi('PartGrant');

export type PartGrant = z.infer<typeof PartGrant>;

/** The multipart plan of a file above OS_MULTIPART_THRESHOLD or that asked for one. */
export const MultipartPlan = z
  .object({
    upload_id: z.string(),
    upload_token: z.string().openapi({
      description: 'Signed by the service: names this upload (key, id, owner, length). Send it to complete, abort and resume.',
    }),
    part_size: z.number().int(),
    part_count: z.number().int(),
    parts: z.array(PartGrant).openapi({
      description: `URLs of the first parts only (at most ${PART_URLS_PER_FILE} per file, ${PART_URLS_PER_ANSWER} per answer); the rest come from resume_url.`,
    }),
    parts_signed: z.number().int().openapi({ description: 'How many part URLs `parts` has (parts 1 to parts_signed).' }),
    complete_url: z.string(),
    abort_url: z.string(),
    resume_url: z.string(),
  })
  .openapi('MultipartPlan', {
    description:
      'An alternative to the single PUT: send each part to its URL (with its Content-MD5 when part_md5 was given), ' +
      'get URLs for parts not in `parts` (and after an interruption) from resume_url, then POST complete_url.',
  });

/** base64 of an MD5 digest, as the OpenAPI document shows isBase64Md5. */
const Md5Digest = z
  .string(expected('a string'))
  .refine(isBase64Md5, 'must be the base64 encoding of a 16-byte MD5 digest')
  .openapi({ pattern: '^[A-Za-z0-9+/]{21}[AQgw]==$' });

const UploadToken = z
  .string(expected('a string'))
  .max(8192, 'is longer than 8192 characters')
  .openapi({ description: 'The upload_token of the plan /datastore/authorize answered.' });

/** Body of POST /datastore/multipart/complete and abort. */
export const MultipartRequest = z
  .object({ upload_token: UploadToken }, expected('a JSON object'))
  .openapi('MultipartRequest');

/** Body of POST /datastore/multipart/resume. */
export const ResumeRequest = z
  .object(
    {
      upload_token: UploadToken,
      part_md5: z
        .array(Md5Digest, expected('an array'))
        .max(MAX_PARTS, `has more than ${MAX_PARTS} digests`)
        .optional()
        .openapi({ description: 'The per-part digests again (all parts, in order), so the fresh part URLs sign them.' }),
    },
    expected('a JSON object'),
  )
  .openapi('MultipartResumeRequest');

/** A refusal of complete that names the part. */
export const PartProblemBody = z
  .object({ error: z.string(), part_number: z.number().int() })
  .openapi('MultipartPartProblem', { description: 'A part is missing, has another size than planned, or is not in the plan.' });

export const CompleteResponse = z
  .object({
    upload_url: z.string().openapi({ description: 'The object’s URL (the same as the single PUT’s upload_url).' }),
    length: z.number().int(),
    part_count: z.number().int(),
  })
  .openapi('MultipartComplete');

export const AbortResponse = z.object({ aborted: z.literal(true), upload_id: z.string() }).openapi('MultipartAbort');

export const ResumeResponse = z
  .object({
    upload_id: z.string(),
    part_size: z.number().int(),
    part_count: z.number().int(),
    stored: z
      .array(z.object({ part_number: z.number().int(), size: z.number().int() }))
      .openapi({ description: 'Parts already stored with their planned size: do not send them again.' }),
    parts: z.array(PartGrant).openapi({ description: `Fresh URLs for the parts still to send (at most ${PART_URLS_PER_ANSWER}).` }),
    parts_remaining: z.number().int().openapi({ description: 'Parts still to send beyond `parts`: call resume again after sending these.' }),
  })
  .openapi('MultipartResume');

/** One presigned upload in the response. */
export const UploadGrant = z
  .object({
    md5: z.string(),
    name: z.string(),
    length: z.union([z.number(), z.string()]),
    type: z.string().optional(),
    upload_url: z.string().openapi({
      description: 'Public URL of the object, without query: also the URL to give /package/upload.',
    }),
    upload_query: z.record(z.string(), z.array(z.string()).length(1)).openapi({
      description: 'Query parameters to append to upload_url for the PUT, each as a one-element array.',
    }),
    multipart: MultipartPlan.optional(),
  })
  .openapi('UploadGrant');

/** The whole response: one grant per requested path. */
export const AuthorizeResponse = z
  .object({ filedata: z.record(z.string(), UploadGrant) })
  .openapi('DatastoreAuthorizeResponse');

export type AuthorizeResponse = z.infer<typeof AuthorizeResponse>;

/** GET /datastore/info. */
export const InfoResponse = z
  .object({ prefixes: z.array(z.string()) })
  .openapi('DatastoreInfo', { description: 'URL prefixes under which this user’s uploaded files appear.' });

/** Body of every 400/401 answer (the original sent an empty body). */
export const ErrorBody = z.object({ error: z.string() }).openapi('DatastoreError');

/**
 * The first problem zod found, as one message naming where it is, e.g.
 * `filedata["../x"]: path has a '..' segment` or `metadata.owner: is missing`.
 */
export function describeIssue(error: z.ZodError): string {
  const issue = error.issues[0];
  if (!issue) return 'invalid request body';
  const where = issue.path
    .map((p, i) => (i === 0 ? String(p) : i === 1 && issue.path[0] === 'filedata' ? `[${JSON.stringify(p)}]` : `.${String(p)}`))
    .join('');
  return `${where || 'body'}: ${issue.message}`;
}
