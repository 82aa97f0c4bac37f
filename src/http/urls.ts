/**
 * The one gate for URLs that come from outside and are then fetched, posted
 * to or redirected to: absolute http(s), no embedded credentials.
 */

/** `raw` as a URL when it is absolute http(s) without user:password@, else null. */
export function parseHttpUrl(raw: string): URL | null {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return null;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return null;
  if (url.username || url.password) return null;
  return url;
}
