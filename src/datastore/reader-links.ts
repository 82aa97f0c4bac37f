/**
 * What readers are told a package's files are at, when the bucket is not
 * publicly readable (OS_DATASTORE_PRIVATE): the registry keeps the bucket
 * URLs (origin_url is a status key, the hooks' payload and the loader's
 * identity of a package), but what it shows readers (/search/package, the
 * search index os-api serves `__origin_url` from) names the
 * `<base>/datastore/file/<key>` read link instead. os-viewer resolves
 * `resources[].path` against `__origin_url` (url.resolve), so relative paths
 * then land on read links too; absolute `resources[].url`s in the bucket are
 * rewritten the same way. Public mode changes nothing. Pure.
 */
import type { Config } from '../config.ts';
import { fileOfUrl } from './files.ts';
import { encodeObjectKey } from './paths.ts';
import { bucketUrl, type StorageTarget } from './presign.ts';

/** Where read links point, and at which bucket URLs they stand in for. */
export interface ReaderLinks {
  baseUrl: string;
  bucket: Pick<StorageTarget, 'scheme' | 'hostname' | 'port' | 'bucket'>;
}

/** The rewrite in private mode with a configured bucket; null (nothing rewritten) otherwise. */
export function readerLinksOf(
  config: Pick<
    Config,
    'OS_DATASTORE_PRIVATE' | 'OS_BASE_URL' | 'OS_S3_SCHEME' | 'OS_S3_HOSTNAME' | 'OS_S3_PORT' | 'OS_STORAGE_BUCKET_NAME'
  >,
): ReaderLinks | null {
  if (!config.OS_DATASTORE_PRIVATE || !config.OS_S3_HOSTNAME || !config.OS_STORAGE_BUCKET_NAME) return null;
  return {
    baseUrl: config.OS_BASE_URL,
    bucket: {
      scheme: config.OS_S3_SCHEME,
      hostname: config.OS_S3_HOSTNAME.toLowerCase(),
      port: config.OS_S3_PORT,
      bucket: config.OS_STORAGE_BUCKET_NAME,
    },
  };
}

/** The read link of a file URL inside the bucket; any other URL unchanged. */
export function readLink(links: ReaderLinks, url: string): string {
  const file = fileOfUrl(links.bucket, url);
  return file ? `${links.baseUrl}/datastore/file/${encodeObjectKey(file.key)}` : url;
}

/**
 * The bucket URL a read link stands for, or null for any other URL. Readers
 * poll /package/status with the origin_url they were shown (os-admin), and
 * statuses are kept under the bucket URL the upload named.
 */
export function bucketUrlOf(links: ReaderLinks, url: string): string | null {
  const prefix = `${links.baseUrl}/datastore/file/`;
  if (!url.startsWith(prefix)) return null;
  const candidate = `${bucketUrl(links.bucket)}/${url.slice(prefix.length)}`;
  return fileOfUrl(links.bucket, candidate) ? candidate : null;
}

interface Shown {
  origin_url?: unknown;
  package?: unknown;
}

/** `doc` as readers see it: the same object when `links` is null, else a copy with read links. */
export function readerView<T extends Shown>(doc: T, links: ReaderLinks | null): T {
  if (links === null) return doc;
  const view: T = { ...doc };
  if (typeof doc.origin_url === 'string') view.origin_url = readLink(links, doc.origin_url);
  const pkg = doc.package;
  if (typeof pkg === 'object' && pkg !== null && Array.isArray((pkg as { resources?: unknown }).resources)) {
    const resources = (pkg as { resources: unknown[] }).resources.map((r) => {
      if (typeof r !== 'object' || r === null) return r;
      const url = (r as { url?: unknown }).url;
      return typeof url === 'string' ? { ...r, url: readLink(links, url) } : r;
    });
    view.package = { ...pkg, resources };
  }
  return view;
}
