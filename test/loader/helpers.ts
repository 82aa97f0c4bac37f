/**
 * Helpers for the loader tests: publish a fixture package the way a client
 * does (authorize -> PUT to the real S3 server -> /package/upload), poll the
 * status, and read back what the loader wrote.
 */
import { env } from 'cloudflare:workers';
import { createExecutionContext, createMessageBatch, getQueueResult, type QueueResult } from 'cloudflare:test';
import { expect } from 'vitest';
import { getConfig } from '../../src/config.ts';
import { withDb } from '../../src/db/client.ts';
import type { Env } from '../../src/env.ts';
import { acceptUpload } from '../../src/jobs/accept.ts';
import { handleLoaderBatch } from '../../src/queue/consumer.ts';
import type { LoaderMessage } from '../../src/queue/messages.ts';
import { call, config, newUserId, permissionToken } from '../helpers/app.ts';
import { fixture, md5Base64, putUrl, type Grant } from '../datastore/helpers.ts';

/** The parsed JSON of a fixture file. */
export async function fixtureJson(path: string): Promise<Record<string, unknown>> {
  return JSON.parse(new TextDecoder().decode(await fixture(path))) as Record<string, unknown>;
}

export interface Published {
  userid: string;
  token: string;
  /** The upload_url of datapackage.json: the status key. */
  url: string;
  descriptor: Record<string, unknown>;
  name: string;
  /** upload_url of every file, by relative path. */
  urls: Record<string, string>;
}

/** Uploads files to the datastore through /datastore/ and the presigned PUTs. */
export async function putFiles(
  userid: string,
  token: string,
  name: string,
  files: Record<string, Uint8Array>,
  /** Extra headers of a file's PUT (e.g. a Content-Encoding the body does not have), by relative path. */
  extraHeaders: Record<string, Record<string, string>> = {},
  /** How the request reaches the Worker (another env, e.g. the soak's). */
  send: (path: string, init: RequestInit) => Promise<Response> = call,
): Promise<Record<string, string>> {
  const filedata: Record<string, { md5: string; name: string; length: number }> = {};
  for (const [path, bytes] of Object.entries(files)) {
    filedata[path] = { md5: await md5Base64(bytes), name: path.split('/').pop() ?? path, length: bytes.byteLength };
  }
  const res = await send('/datastore/', {
    method: 'POST',
    headers: { 'Auth-Token': token, 'Content-Type': 'text/plain' },
    body: JSON.stringify({ metadata: { owner: userid, name }, filedata }),
  });
  if (res.status !== 200) throw new Error(`authorize: HTTP ${res.status} ${await res.text()}`);
  const grants = ((await res.json()) as { filedata: Record<string, Grant> }).filedata;
  const urls: Record<string, string> = {};
  for (const [path, bytes] of Object.entries(files)) {
    const grant = grants[path];
    if (!grant) throw new Error(`no grant for ${path}`);
    const put = await fetch(putUrl(grant), {
      method: 'PUT',
      body: bytes,
      headers: { 'Content-MD5': grant.md5, 'Content-Type': 'application/octet-stream', ...extraHeaders[path] },
    });
    if (put.status !== 200) throw new Error(`PUT ${path}: HTTP ${put.status} ${await put.text()}`);
    urls[path] = grant.upload_url;
  }
  return urls;
}

export interface PublishOptions {
  userid?: string;
  /** Changes to the descriptor before it is uploaded (owner/author are set first). */
  edit?: (descriptor: Record<string, unknown>) => void;
  /** Replaces the data file's bytes. */
  data?: Uint8Array;
  /** Do not call /package/upload. */
  noUpload?: boolean;
  /** Extra headers of the data file's PUT. */
  dataHeaders?: Record<string, string>;
}

/**
 * Publishes a fixture package as its owner: the descriptor's owner (and a
 * missing author) set to a fresh user, its files PUT to S3, then
 * /package/upload with the upload_url of datapackage.json.
 */
export async function publishFixture(dir: string, options: PublishOptions = {}): Promise<Published> {
  const userid = options.userid ?? newUserId();
  const token = await permissionToken(userid);
  const descriptor = await fixtureJson(`${dir}/datapackage.json`);
  descriptor.owner = userid;
  if (typeof descriptor.author !== 'string') descriptor.author = 'Test Author <test.author@example.com>';
  const resource = (descriptor.resources as Array<Record<string, unknown>>)[0] as Record<string, unknown>;
  let dataPath = resource.path as string | undefined;
  if (!dataPath) {
    // packager-example points at a public host: serve its local CSV instead.
    dataPath = String(resource.url).split('/').pop() as string;
    delete resource.url;
    resource.path = dataPath;
  }
  options.edit?.(descriptor);
  const data = options.data ?? (await fixture(`${dir}/${dataPath}`));
  const name = String(descriptor.name);
  const files: Record<string, Uint8Array> = {
    [dataPath]: data,
    'datapackage.json': new TextEncoder().encode(JSON.stringify(descriptor)),
  };
  const urls = await putFiles(userid, token, name, files, options.dataHeaders ? { [dataPath]: options.dataHeaders } : {});
  const url = urls['datapackage.json'] as string;
  if (!options.noUpload) {
    const body = await upload(url, token);
    if (body.status !== 'queued') throw new Error(`upload refused: ${JSON.stringify(body)}`);
  }
  return { userid, token, url, descriptor, name, urls };
}

/** Publishes a fixture without uploading it, then accepts its upload with `e` (whose queue the test drives). */
export async function startLoad(e: Env, dir: string, options: PublishOptions = {}): Promise<Published> {
  const pub = await publishFixture(dir, { ...options, noUpload: true });
  expect(await acceptUpload(e, getConfig(e), pub.url, pub.token)).toEqual({ progress: 0, status: 'queued' });
  return pub;
}

/** POST /package/upload; the JSON answer. */
export async function upload(url: string, token: string): Promise<Record<string, unknown>> {
  const res = await call(`/package/upload?datapackage=${encodeURIComponent(url)}&jwt=${encodeURIComponent(token)}`, {
    method: 'POST',
  });
  if (res.status !== 200) throw new Error(`upload: HTTP ${res.status}`);
  return (await res.json()) as Record<string, unknown>;
}

export interface StatusBody {
  status: string;
  progress: number;
  records?: number;
  error?: string;
  total?: number;
  fraction?: number;
  steps?: Record<string, number>;
}

/** GET /package/status (with a user token `jwt` when given); null on 404. */
export async function status(key: string, jwt?: string): Promise<StatusBody | null> {
  const auth = jwt ? `&jwt=${encodeURIComponent(jwt)}` : '';
  const res = await call(`/package/status?datapackage=${encodeURIComponent(key)}${auth}`);
  if (res.status === 404) return null;
  if (res.status !== 200) throw new Error(`status: HTTP ${res.status}`);
  return (await res.json()) as StatusBody;
}

/** Polls the status until done or fail; every status seen is recorded. */
export async function waitForEnd(key: string, seen: StatusBody[] = [], timeoutMs = 60_000): Promise<StatusBody> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const s = await status(key);
    if (s) seen.push(s);
    if (s && (s.status === 'done' || s.status === 'fail')) return s;
    if (Date.now() > until) throw new Error(`load did not end: ${JSON.stringify(s)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Runs a query on the test database. */
export function query<T = Record<string, unknown>>(sql: string, params: unknown[] = []): Promise<T[]> {
  return withDb(config(), async (db) => (await db.query(sql, params)).rows as T[]);
}

/** The load_jobs rows of a status key, newest first. */
export function jobsOf(key: string): Promise<Array<Record<string, unknown>>> {
  return query('SELECT * FROM load_jobs WHERE status_key = $1 ORDER BY created_at DESC', [key]);
}

/** Tables whose name starts with `prefix`. */
export async function tablesLike(prefix: string): Promise<string[]> {
  const rows = await query<{ tablename: string }>(
    `SELECT tablename FROM pg_tables WHERE schemaname = current_schema() AND starts_with(tablename, $1)`,
    [prefix],
  );
  return rows.map((r) => r.tablename).sort();
}

/** A minimal RFC 4180 parser for the tests' expected values (independent of the loader's parser). */
export function parseCsvText(text: string, delimiter = ','): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  for (; i < text.length; i++) {
    const ch = text[i] as string;
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === delimiter) {
      row.push(field);
      field = '';
    } else if (ch === '\n' || ch === '\r') {
      if (ch === '\r' && text[i + 1] === '\n') i++;
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
    } else field += ch;
  }
  if (field !== '' || row.length > 0) {
    row.push(field);
    rows.push(row);
  }
  return rows;
}

/** The Worker's env with small chunks and a queue producer that records instead of sending. */
export function drivenEnv(sent: LoaderMessage[], overrides: Record<string, unknown> = {}): Env {
  const queue = {
    send: async (body: LoaderMessage) => {
      sent.push(body);
    },
    sendBatch: async () => undefined,
  } as unknown as Queue<unknown>;
  return {
    ...env,
    OS_LOADER_CHUNK_ROWS: '500',
    OS_LOADER_BATCH_ROWS: '100',
    LOADER_QUEUE: queue,
    ...overrides,
  } as Env;
}

export async function deliver(e: Env, body: LoaderMessage, attempts = 1): Promise<QueueResult> {
  const batch = createMessageBatch<LoaderMessage>('os-conductor-loader', [
    { id: crypto.randomUUID(), timestamp: Date.now(), attempts, body },
  ]);
  const ctx = createExecutionContext();
  await handleLoaderBatch(batch, e, ctx);
  return getQueueResult(batch, ctx);
}

/** Delivers recorded messages until none is left; returns how many were delivered. */
export async function drain(e: Env, sent: LoaderMessage[]): Promise<number> {
  let n = 0;
  for (let m = sent.shift(); m; m = sent.shift()) {
    const result = await deliver(e, m);
    expect(result.retryMessages, JSON.stringify(result)).toEqual([]);
    n++;
    if (n > 100) throw new Error('too many messages');
  }
  return n;
}

