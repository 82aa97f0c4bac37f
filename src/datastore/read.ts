/**
 * Reading datastore objects with credentials. An upload_url is on the
 * storage's S3 API endpoint; AWS S3 serves it anonymously when the bucket
 * policy allows public read, but Cloudflare R2 never answers anonymous
 * requests on that endpoint (public access there goes through r2.dev or a
 * custom domain). Whoever fetches datastore files server-side (the loader)
 * should therefore sign the request: it then works on both, whatever the
 * bucket's public settings.
 */
import { AwsClient } from 'aws4fetch';
import { bucketUrl, type StorageTarget } from './presign.ts';

/** True when `url` names an object inside the datastore bucket. */
export function isDatastoreObjectUrl(target: StorageTarget, url: string): boolean {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return false;
  }
  const base = new URL(bucketUrl(target));
  return u.origin === base.origin && u.pathname.startsWith(`${base.pathname}/`) && u.pathname.length > base.pathname.length + 1;
}

/**
 * A SigV4-signed (Authorization header) GET or HEAD of a datastore object,
 * or null when `url` is not inside the bucket (never send credentials
 * elsewhere). Extra headers such as Range pass through unsigned.
 */
export async function signedDatastoreRequest(
  target: StorageTarget,
  url: string,
  init: { method?: 'GET' | 'HEAD'; headers?: Record<string, string> } = {},
): Promise<Request | null> {
  if (!isDatastoreObjectUrl(target, url)) return null;
  const client = new AwsClient({
    accessKeyId: target.accessKeyId,
    secretAccessKey: target.secretAccessKey,
    service: 's3',
    region: target.region,
  });
  return client.sign(url, { method: init.method ?? 'GET', headers: init.headers });
}
