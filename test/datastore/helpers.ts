/**
 * Helpers for the datastore tests: fixture bytes over loopback HTTP, MD5s,
 * and PUTs through the upload grants the way the real clients send them.
 */
import { env } from 'cloudflare:workers';
import { call } from '../helpers/app.ts';

/** One upload grant of a /datastore/ response. */
export interface Grant {
  md5: string;
  name: string;
  length: number | string;
  type?: string;
  upload_url: string;
  upload_query: Record<string, string[]>;
}

/** The bytes of a file of the shared fixtures (served by the test setup). */
export async function fixture(path: string): Promise<Uint8Array> {
  const base = env.OS_TEST_FIXTURES_URL;
  if (!base) throw new Error('OS_TEST_FIXTURES_URL is not bound: the fixtures server did not start');
  const res = await fetch(`${base}/${path}`);
  if (res.status !== 200) throw new Error(`fixture ${path}: HTTP ${res.status}`);
  return new Uint8Array(await res.arrayBuffer());
}

/** base64 of the MD5 digest, the Content-MD5 form. */
export async function md5Base64(bytes: Uint8Array | string): Promise<string> {
  const data = typeof bytes === 'string' ? new TextEncoder().encode(bytes) : bytes;
  const digest = new Uint8Array(await crypto.subtle.digest('MD5', data));
  return btoa(String.fromCharCode(...digest));
}

/** upload_url + the first value of each upload_query entry (os-packager's `_.first`). */
export function putUrl(grant: Pick<Grant, 'upload_url' | 'upload_query'>): string {
  const query = new URLSearchParams();
  for (const [k, values] of Object.entries(grant.upload_query)) query.set(k, values[0] ?? '');
  return `${grant.upload_url}?${query.toString()}`;
}

/** PUT bytes to a presigned URL with the given headers. */
export function put(url: string, body: Uint8Array | string, headers: Record<string, string>): Promise<Response> {
  return fetch(url, { method: 'PUT', body, headers });
}

/** GET an object anonymously at its public URL. */
export async function readBack(uploadUrl: string): Promise<{ status: number; bytes: Uint8Array }> {
  const res = await fetch(uploadUrl);
  return { status: res.status, bytes: new Uint8Array(await res.arrayBuffer()) };
}

/** POST /datastore/ with a JSON body given as a string, and optional headers and query. */
export function authorizeCall(
  body: unknown,
  options: { headers?: Record<string, string>; query?: string; path?: string } = {},
): Promise<Response> {
  const path = (options.path ?? '/datastore/') + (options.query ? `?${options.query}` : '');
  return call(path, {
    method: 'POST',
    body: typeof body === 'string' ? body : JSON.stringify(body),
    headers: options.headers,
  });
}

/** A request body for one file. */
export function uploadRequest(
  owner: string,
  name: string,
  files: Record<string, { md5: string; name: string; length: number | string; type?: string }>,
): unknown {
  return { metadata: { owner, name }, filedata: files };
}
