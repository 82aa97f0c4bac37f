/**
 * A client of the running service, as automation uses it: tokens from an
 * API key, the datastore upload (authorize -> presigned PUTs), the load
 * request. Node only (the bench scripts and the node tests).
 */
import { createHash } from 'node:crypto';

/** A user token and an os.datastore permission token for the user of `apiKey`. */
export async function apiTokens(base: string, apiKey: string): Promise<{ userToken: string; permissionToken: string }> {
  const auth = await fetch(`${base}/user/authenticate_api_key`, { method: 'POST', headers: { 'x-api-key': apiKey } });
  const userToken = ((await auth.json()) as { token?: string }).token;
  if (!userToken) throw new Error(`authenticate_api_key: HTTP ${auth.status}`);
  const authz = await fetch(`${base}/user/authorize?service=os.datastore&jwt=${encodeURIComponent(userToken)}`);
  const permissionToken = ((await authz.json()) as { token?: string }).token;
  if (!permissionToken) throw new Error(`authorize: HTTP ${authz.status}`);
  return { userToken, permissionToken };
}

/** Authorizes and PUTs `files` (relative path -> bytes) for `owner`/`name`; returns each file's upload_url. */
export async function putPackageFiles(
  base: string,
  token: string,
  owner: string,
  name: string,
  files: Record<string, Uint8Array>,
): Promise<Record<string, string>> {
  const filedata: Record<string, { md5: string; name: string; length: number }> = {};
  for (const [p, b] of Object.entries(files)) {
    filedata[p] = { md5: createHash('md5').update(b).digest('base64'), name: p, length: b.length };
  }
  const auth = await fetch(`${base}/datastore/`, {
    method: 'POST',
    headers: { 'Auth-Token': token },
    body: JSON.stringify({ metadata: { owner, name }, filedata }),
  });
  if (auth.status !== 200) throw new Error(`authorize: HTTP ${auth.status} ${await auth.text()}`);
  const grants = ((await auth.json()) as { filedata: Record<string, { upload_url: string; upload_query: Record<string, string[]>; md5: string }> })
    .filedata;
  const urls: Record<string, string> = {};
  for (const [p, b] of Object.entries(files)) {
    const g = grants[p];
    if (!g) throw new Error(`no grant for ${p}`);
    const q = new URLSearchParams(Object.entries(g.upload_query).map(([k, v]) => [k, v[0] ?? '']));
    const put = await fetch(`${g.upload_url}?${q}`, { method: 'PUT', body: new Uint8Array(b), headers: { 'Content-MD5': g.md5 } });
    if (put.status !== 200) throw new Error(`PUT ${p}: HTTP ${put.status}`);
    urls[p] = g.upload_url;
  }
  return urls;
}

/** POST /package/upload; throws unless queued. */
export async function requestLoad(base: string, datapackage: string, token: string): Promise<void> {
  const up = await fetch(`${base}/package/upload?datapackage=${encodeURIComponent(datapackage)}&jwt=${encodeURIComponent(token)}`, {
    method: 'POST',
  });
  const body = (await up.json()) as { status: string };
  if (body.status !== 'queued') throw new Error(`upload: ${JSON.stringify(body)}`);
}
