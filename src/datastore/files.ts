/**
 * Which datastore files GET /datastore/file may sign, and for whom. Pure.
 *
 * A file is signed only when it is one of a registered package's files (its
 * datapackage.json, the registry's origin_url, or a resource's `path`/`url`
 * resolved as the loader resolves it), the package belongs to the owner of
 * the folder the file lies in (so no one can list another user's file in a
 * package of their own and get it signed), and the caller may see that
 * package (search's rule: published and loaded, or the caller owns it).
 */
import { resolveResourceUrl } from '../loader/descriptor.ts';
import { hasTraversal } from '../queue/url-policy.ts';
import { parseHttpUrl } from '../http/urls.ts';
import { isVisibleTo, type VisibilityFacts } from '../search/query.ts';
import { objectKey } from './paths.ts';
import { bucketUrl, type StorageTarget } from './presign.ts';

type Bucket = Pick<StorageTarget, 'scheme' | 'hostname' | 'port' | 'bucket'>;

/** A checked object key and the owner folder it lies in. */
export interface FileKey {
  key: string;
  owner: string;
}

/**
 * The key of percent-encoded path segments `<owner>/<name>/<path…>`, or null
 * when a segment does not decode or the key would be unsafe (`.`, `..`,
 * backslashes, controls: paths.ts).
 */
export function keyOfSegments(encoded: readonly string[]): FileKey | null {
  let parts: string[];
  try {
    parts = encoded.map((s) => decodeURIComponent(s));
  } catch {
    return null;
  }
  const [owner, name, ...rest] = parts;
  if (owner === undefined || name === undefined || rest.length === 0) return null;
  try {
    return { key: objectKey(owner, name, rest.join('/')), owner };
  } catch {
    return null;
  }
}

/**
 * The file `raw` names inside the datastore bucket, or null: another origin
 * or bucket, a query or fragment, a traversal step, or an unsafe key.
 */
export function fileOfUrl(target: Bucket, raw: string): FileKey | null {
  const url = parseHttpUrl(raw);
  if (!url || url.search !== '' || url.hash !== '' || hasTraversal(raw)) return null;
  const base = new URL(bucketUrl(target));
  const prefix = `${base.pathname}/`;
  if (url.origin !== base.origin || !url.pathname.startsWith(prefix)) return null;
  return keyOfSegments(url.pathname.slice(prefix.length).split('/'));
}

/** The registry fields this policy reads. */
export interface PackageFacts extends VisibilityFacts {
  origin_url: unknown;
  package?: (VisibilityFacts['package'] & { resources?: unknown }) | null;
}

/** The keys of a package's files inside the bucket: its descriptor and each resource. */
export function packageFileKeys(target: Bucket, doc: PackageFacts): Set<string> {
  const keys = new Set<string>();
  const origin = doc.origin_url;
  if (typeof origin !== 'string') return keys;
  const add = (url: string) => {
    const file = fileOfUrl(target, url);
    if (file) keys.add(file.key);
  };
  add(origin);
  const resources = doc.package?.resources;
  for (const resource of Array.isArray(resources) ? resources : []) {
    if (typeof resource !== 'object' || resource === null) continue;
    const { url, path } = resource as { url?: unknown; path?: unknown };
    // A Data Package path may also be a list of chunks.
    const paths = Array.isArray(path) ? path : [path];
    const candidates = typeof url === 'string' ? [{ url }] : paths.filter((p) => typeof p === 'string').map((p) => ({ path: p as string }));
    for (const candidate of candidates) {
      try {
        add(resolveResourceUrl(origin, candidate));
      } catch {
        // Not a loadable location: not a file of this package.
      }
    }
  }
  return keys;
}

/**
 * Whether `userid` (null: anonymous) may read `file`, given the packages
 * registered by the owner of its folder.
 */
export function mayReadFile(target: Bucket, file: FileKey, ownersPackages: readonly PackageFacts[], userid: string | null): boolean {
  return ownersPackages.some((doc) => isVisibleTo(doc, userid) && packageFileKeys(target, doc).has(file.key));
}

