/**
 * Which URLs the loader may fetch (README decision 8, security.md SSRF) and
 * the alias forms under which /package/status answers. Pure.
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
function hasTraversal(raw: string): boolean {
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
 * The normalised form os-admin polls with: https, default ports dropped
 * (http and https treated alike), `/final/` removed, no query or fragment.
 * Null when `raw` is not an http(s) URL.
 */
export function normaliseStatusUrl(raw: string): string | null {
  const url = parseHttpUrl(raw);
  if (!url) return null;
  const port = url.port === '80' || url.port === '443' || url.port === '' ? '' : `:${url.port}`;
  const path = url.pathname.replace(/\/final\//g, '/');
  return `https://${url.hostname}${port}${path}`;
}

/** Name of the alias object for a normalised URL. */
export function urlAliasKey(raw: string): string | null {
  const n = normaliseStatusUrl(raw);
  return n ? `alias:url:${n}` : null;
}

/** Name of the alias object for a package id `<owner>:<name>`. */
export function packageAliasKey(id: string): string {
  return `alias:package:${id}`;
}
