/**
 * GET /datastore/info: the URL prefixes under which a user's uploaded files
 * can appear. os-packager skips re-uploading resources whose URL starts with
 * one of them, and /package/upload may use them to allow-list datapackage
 * URLs. Pure.
 */
import { bucketUrl, type StorageTarget } from './presign.ts';

/**
 * The original's eight forms, in its order (for http, then https: host with
 * the scheme's default port, host, bucket-as-host with port, bucket-as-host),
 * then the real base of our upload URLs when it is none of those (e.g. a
 * local server on another port, or an R2 endpoint). Extra entries are
 * harmless: clients only prefix-match.
 */
export function datastorePrefixes(
  target: Pick<StorageTarget, 'scheme' | 'hostname' | 'port' | 'bucket'>,
  userid: string,
): string[] {
  const prefixes: string[] = [];
  for (const [scheme, port] of [
    ['http', 80],
    ['https', 443],
  ] as const) {
    prefixes.push(
      `${scheme}://${target.hostname}:${port}/${target.bucket}/${userid}`,
      `${scheme}://${target.hostname}/${target.bucket}/${userid}`,
      `${scheme}://${target.bucket}:${port}/${userid}`,
      `${scheme}://${target.bucket}/${userid}`,
    );
  }
  const ours = `${bucketUrl(target)}/${userid}`;
  if (!prefixes.includes(ours)) prefixes.push(ours);
  return prefixes;
}
