/**
 * Pure rules of /package/run-hooks: which pipeline URLs may be called, and
 * the JSON-LD payload the original posted (api.md row 15).
 */
import { parseHttpUrl } from '../http/urls.ts';

/** A URL in canonical form (WHATWG serialisation), or null when it is not plain http(s) without credentials. */
export function normalisePipelineUrl(raw: string): string | null {
  const url = parseHttpUrl(raw.trim());
  if (!url) return null;
  url.hash = '';
  return url.href;
}

/**
 * True only when `pipeline` is, after normalisation, exactly one of the
 * configured pipeline URLs: no prefix matching, so no path or query of the
 * attacker's choosing reaches the allowed host.
 */
export function isAllowedPipeline(pipeline: string, allowList: readonly string[]): boolean {
  const wanted = normalisePipelineUrl(pipeline);
  if (!wanted) return false;
  return allowList.some((allowed) => normalisePipelineUrl(allowed) === wanted);
}

/** The JSON-LD document posted as multipart field `input` (file `package-url.jsonld`). */
export interface HookPayload {
  '@context': { '@vocab': string; url: { '@type': string } };
  url: string | null;
}

/**
 * The original's payload: the package's origin_url with `/final/` dropped
 * and the legacy datastore host rewritten to its S3 path-style address.
 */
export function hookPayload(originUrl: string | null): HookPayload {
  const url =
    originUrl === null
      ? null
      : originUrl
          .replaceAll('/final/', '/')
          .replaceAll('datastore.openspending.org', 's3.amazonaws.com/datastore.openspending.org');
  return { '@context': { '@vocab': 'http://schema.org/', url: { '@type': '@id' } }, url };
}

/** Longest piece of the pipeline's answer we pass back (the original reflected all of it). */
export const MAX_RESPONSE_SUMMARY = 200;

/** A short, single-line summary of the pipeline's answer. */
export function summariseHookResponse(status: number, body: string): string {
  // eslint-disable-next-line no-control-regex
  const text = body.replace(/[\u0000-\u001f\u007f]+/g, ' ').trim();
  const cut = text.length > MAX_RESPONSE_SUMMARY ? text.slice(0, MAX_RESPONSE_SUMMARY) + '…' : text;
  return cut ? `HTTP ${status}: ${cut}` : `HTTP ${status}`;
}
