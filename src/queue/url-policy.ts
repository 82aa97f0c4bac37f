/**
 * Which URLs the loader may fetch (README decision 8, security.md SSRF), and
 * which status keys an uploader owns. Pure.
 */
import { parseHttpUrl } from '../http/urls.ts';
import type { Config } from '../config.ts';

/** Where uploads may come from. */
export interface UrlPolicy {
  /** The datastore's public base, e.g. https://bucket-host:443/bucket (no trailing slash). */
  datastore: { origin: string; bucket: string } | null;
  /** Extra origins (scheme://host[:port]) any datapackage may be fetched from. */
  allowedOrigins: string[];
}

export type UrlCheck = { ok: true; url: URL } | { ok: false; error: string };

/** The policy the configuration describes. */
export function policyFromConfig(
  config: Pick<
    Config,
    'OS_S3_HOSTNAME' | 'OS_S3_PORT' | 'OS_S3_SCHEME' | 'OS_STORAGE_BUCKET_NAME' | 'OS_UPLOAD_ALLOWED_ORIGINS'
  >,
): UrlPolicy {
  let datastore: UrlPolicy['datastore'] = null;
  if (config.OS_S3_HOSTNAME && config.OS_STORAGE_BUCKET_NAME) {
    const port = config.OS_S3_PORT ? `:${config.OS_S3_PORT}` : '';
    datastore = {
      origin: new URL(`${config.OS_S3_SCHEME}://${config.OS_S3_HOSTNAME}${port}`).origin,
      bucket: config.OS_STORAGE_BUCKET_NAME,
    };
  }
  const allowedOrigins = config.OS_UPLOAD_ALLOWED_ORIGINS.flatMap((o) => {
    try {
      return [new URL(o).origin];
    } catch {
      return [];
    }
  });
  return { datastore, allowedOrigins };
}

/** True when the raw path hides a parent-directory step or a backslash. */
export function hasTraversal(raw: string): boolean {
  const path = raw.replace(/^[a-z]+:\/\/[^/]*/i, '').split(/[?#]/)[0] ?? '';
  let decoded = path;
  try {
    decoded = decodeURIComponent(path);
  } catch {
    return true;
  }
  return decoded.split('/').some((s) => s === '..' || s === '.') || decoded.includes('\\');
}

/**
 * Checks a URL the loader is asked to fetch on behalf of `userid`: inside the
 * datastore under the user's own prefix (`<origin>/<bucket>/<userid>/…`), or
 * on an allow-listed origin. Used for the datapackage URL and for every
 * resource URL it leads to.
 */
export function checkFetchUrl(raw: string, userid: string, policy: UrlPolicy): UrlCheck {
  const url = parseHttpUrl(raw);
  if (!url) return { ok: false, error: 'datapackage URL must be an absolute http(s) URL' };
  if (hasTraversal(raw)) return { ok: false, error: 'URL must not contain "." or ".." path segments' };
  if (policy.allowedOrigins.includes(url.origin)) return { ok: true, url };
  const ds = policy.datastore;
  if (ds && url.origin === ds.origin) {
    const prefix = `/${ds.bucket}/${encodeURIComponent(userid)}/`;
    if (url.pathname.startsWith(prefix) && url.pathname.length > prefix.length) return { ok: true, url };
    return { ok: false, error: `URL is outside your datastore folder (${ds.origin}${prefix})` };
  }
  return { ok: false, error: `URL ${url.origin} is not an allowed datapackage location` };
}

/**
 * Whether `userid` owns the status key `raw`: a URL inside their own
 * datastore folder. Only such keys get a status for a refused upload, so no
 * one can plant a status under another user's URL or package id.
 */
export function ownsStatusKey(raw: string, userid: string, policy: UrlPolicy): boolean {
  const url = parseHttpUrl(raw);
  const ds = policy.datastore;
  if (!url || !ds || url.origin !== ds.origin) return false;
  const prefix = `/${ds.bucket}/${encodeURIComponent(userid)}/`;
  return url.pathname.startsWith(prefix) && url.pathname.length > prefix.length;
}
