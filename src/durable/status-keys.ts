/**
 * The names of the PackageStatus objects: the canonical key (the upload URL
 * exactly as given) and the alias objects pointing to it (the normalised URL
 * os-admin polls with, the package id `<owner>:<name>`). Pure.
 */
import { parseHttpUrl } from '../http/urls.ts';

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
