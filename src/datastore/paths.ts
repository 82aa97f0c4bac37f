/**
 * Naming policy of the datastore: which owner ids, dataset names and file
 * paths may become part of an object key `<owner>/<name>/<relative path>`.
 *
 * The original signed whatever it was given, so `../`, absolute paths and
 * control characters reached the bucket. Here a key is built only from
 * normalised segments: nothing can climb out of `<owner>/<name>/`, and no
 * client can reach another owner's files or write keys that other tools
 * (shells, S3 consoles, the loader) would read differently. Pure, no I/O.
 */
import { hasLoneSurrogate } from '../http/text.ts';

/** S3 and R2 limit an object key to 1024 bytes of UTF-8. */
export const MAX_KEY_BYTES = 1024;
/** Longest owner id or dataset name accepted (a user id is 32 hex digits). */
export const MAX_SEGMENT_LENGTH = 255;

// `C:foo`, `c:/foo`: absolute on Windows, where clients may build the path.
const DRIVE_LETTER = /^[A-Za-z]:/;

/** C0, DEL and C1 controls: invisible, and some are line breaks in logs and headers. */
function hasControlCharacter(value: string): boolean {
  for (let i = 0; i < value.length; i++) {
    const code = value.charCodeAt(i);
    if (code <= 0x1f || (code >= 0x7f && code <= 0x9f)) return true;
  }
  return false;
}

function characterProblem(value: string): string | null {
  if (hasLoneSurrogate(value)) return 'is not valid Unicode';
  if (hasControlCharacter(value)) return 'contains a control character';
  if (value.includes('\\')) return 'contains a backslash';
  return null;
}

/**
 * Why `path` may not be used as a file path inside a dataset, or null when it
 * may. It must be relative, use `/` as separator, and have no empty, `.` or
 * `..` segment.
 */
export function relativePathProblem(path: string): string | null {
  if (path === '') return 'is empty';
  // JSON objects keyed by path would turn this one into a prototype.
  if (path === '__proto__') return 'is a reserved name';
  const bad = characterProblem(path);
  if (bad) return bad;
  if (path.startsWith('/') || DRIVE_LETTER.test(path)) return 'is an absolute path';
  for (const segment of path.split('/')) {
    if (segment === '') return 'has an empty segment';
    if (segment === '..') return "has a '..' segment";
    if (segment === '.') return "has a '.' segment";
  }
  return null;
}

/**
 * Why `value` may not be used as the owner id or dataset name (one key
 * segment), or null when it may.
 */
export function segmentProblem(value: string): string | null {
  if (value === '') return 'is empty';
  if (value.length > MAX_SEGMENT_LENGTH) return `is longer than ${MAX_SEGMENT_LENGTH} characters`;
  const bad = characterProblem(value);
  if (bad) return bad;
  if (value.includes('/')) return "contains '/'";
  if (value === '.' || value === '..') return `is '${value}'`;
  return null;
}

/**
 * The object key of a file: `<owner>/<name>/<path>`. The parts must have
 * passed `segmentProblem` and `relativePathProblem`; this throws otherwise,
 * so a caller that forgot the checks cannot produce an unsafe key.
 */
export function objectKey(owner: string, name: string, path: string): string {
  const problem = segmentProblem(owner) ?? segmentProblem(name) ?? relativePathProblem(path);
  if (problem) throw new Error(`unsafe object key part: ${problem}`);
  const key = `${owner}/${name}/${path}`;
  if (new TextEncoder().encode(key).length > MAX_KEY_BYTES) {
    throw new Error(`object key longer than ${MAX_KEY_BYTES} bytes`);
  }
  return key;
}

/** Byte length of the key `objectKey` would build, for validation messages. */
export function objectKeyBytes(owner: string, name: string, path: string): number {
  return new TextEncoder().encode(`${owner}/${name}/${path}`).length;
}

/**
 * A key as a URL path: every segment percent-encoded on its own (RFC 3986
 * unreserved characters stay), so `/` keeps separating segments and the URL
 * is the canonical form SigV4 signs.
 */
export function encodeObjectKey(key: string): string {
  return key
    .split('/')
    .map((s) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`))
    .join('/');
}
