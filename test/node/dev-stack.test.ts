/**
 * `npm run dev` works with no external services: embedded Postgres, local
 * S3, local OpenID provider, generated development keys, wrangler dev.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, waitFor } from '../../tools/services/util.ts';

const ROOT = resolve(import.meta.dirname, '../..');

describe('npm run dev', () => {
  let child: ChildProcess;
  let base = '';
  let output = '';
  const state = mkdtempSync(join(tmpdir(), 'os-conductor-dev-'));

  beforeAll(async () => {
    const [port, s3Port, oidcPort] = [await freePort(), await freePort(), await freePort()];
    base = `http://localhost:${port}`;
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      PORT: String(port),
      OS_DEV_S3_PORT: String(s3Port),
      OS_DEV_OIDC_PORT: String(oidcPort),
      OS_DEV_STATE_DIR: state,
      OS_CLIENT_API_KEYS: 'dev-stack-test-key:alice',
    };
    // Settings from the test setup must not leak into the dev stack.
    for (const k of Object.keys(env)) if (k.startsWith('OS_') && k.startsWith('OS_TEST')) delete env[k];
    child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'tools/dev.ts')], {
      cwd: ROOT,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
    await waitFor(
      async () => {
        if (child.exitCode !== null) throw new Error(`dev stack exited:\n${output}`);
        try {
          return (await fetch(`${base}/openapi.json`)).ok;
        } catch {
          return false;
        }
      },
      150_000,
      'the dev stack',
    );
  }, 180_000);

  afterAll(async () => {
    if (child?.pid && child.exitCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      process.kill(-child.pid, 'SIGINT');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
      if (child.exitCode === null) process.kill(-child.pid, 'SIGKILL');
    }
    rmSync(state, { recursive: true, force: true });
  });

  it('offers the local OpenID provider as the login provider', async () => {
    const res = await fetch(`${base}/user/check`);
    const body = (await res.json()) as { authenticated: boolean; providers: { google: { url: string } } };
    expect(body.authenticated).toBe(false);
    // providers.google.url is the service's first-party login hop; it redirects to the provider.
    expect(body.providers.google.url.startsWith(`${base}/oauth/google_login?state=`)).toBe(true);
    const hop = await fetch(body.providers.google.url, { redirect: 'manual' });
    expect(hop.status).toBe(302);
    const url = new URL(hop.headers.get('location') ?? '');
    expect(url.hostname).toBe('127.0.0.1');
    expect(url.searchParams.get('redirect_uri')).toBe(`${base}/oauth/google_callback`);
    // The provider really answers there.
    const discovery = await fetch(`${url.origin}/.well-known/openid-configuration`);
    expect(discovery.ok).toBe(true);
  });

  it('honours OS_* settings from the environment and signs with generated development keys', async () => {
    const res = await fetch(`${base}/user/authenticate_api_key`, {
      method: 'POST',
      headers: { 'x-api-key': 'dev-stack-test-key' },
    });
    expect(res.status).toBe(200);
    const { token } = (await res.json()) as { token: string };
    const check = await fetch(`${base}/user/check?jwt=${encodeURIComponent(token)}`);
    const body = (await check.json()) as { authenticated: boolean; profile: { idhash: string } };
    expect(body.authenticated).toBe(true);
    expect(body.profile.idhash).toBe('alice');
  });

  /** A permission token for `alice` through the API key given in the environment. */
  async function permissionToken(): Promise<{ ut: string; pt: string }> {
    const { token: ut } = (await (
      await fetch(`${base}/user/authenticate_api_key`, { method: 'POST', headers: { 'x-api-key': 'dev-stack-test-key' } })
    ).json()) as { token: string };
    const auth = (await (await fetch(`${base}/user/authorize?service=os.datastore&jwt=${ut}`)).json()) as { token: string };
    return { ut, pt: auth.token };
  }

  /** The datastore flow as os-packager does it: authorize one file, PUT it; returns its upload_url. */
  async function putFile(pt: string, dataset: string, path: string, bytes: Uint8Array<ArrayBuffer>): Promise<string> {
    const contentMd5 = createHash('md5').update(bytes).digest('base64');
    const res = await fetch(`${base}/datastore/`, {
      method: 'POST',
      headers: { 'Auth-Token': pt },
      body: JSON.stringify({
        metadata: { owner: 'alice', name: dataset },
        filedata: { [path]: { md5: contentMd5, name: path, length: bytes.length, type: 'application/octet-stream' } },
      }),
    });
    expect(res.status).toBe(200);
    const { filedata } = (await res.json()) as {
      filedata: Record<string, { upload_url: string; upload_query: Record<string, string[]> }>;
    };
    const file = filedata[path]!;
    const query = new URLSearchParams(Object.entries(file.upload_query).map(([k, v]) => [k, v[0]!]));
    const put = await fetch(`${file.upload_url}?${query}`, {
      method: 'PUT',
      headers: { 'Content-MD5': contentMd5, 'Content-Type': 'application/octet-stream' },
      body: bytes,
    });
    expect(put.status).toBe(200);
    return file.upload_url;
  }

  it('authorises uploads to the local S3 server', async () => {
    const { pt } = await permissionToken();
    const url = await putFile(pt, 'dev-stack', 'data.csv', new TextEncoder().encode('a,b\n1,2\n'));
    expect(await (await fetch(url)).text()).toBe('a,b\n1,2\n');
  });

  /** A small budget package whose amounts are `amounts`; uploaded and queued; returns its URL. */
  async function uploadBudget(name: string, amounts: string[]): Promise<string> {
    const { pt } = await permissionToken();
    const descriptor = {
      name,
      title: 'Dev stack budget',
      owner: 'alice',
      author: 'Alice <alice@example.org>',
      resources: [
        {
          name: 'budget',
          path: 'budget.csv',
          format: 'csv',
          schema: {
            fields: [
              { name: 'year', type: 'integer' },
              { name: 'amount', type: 'number' },
              { name: 'admin', type: 'string' },
            ],
          },
        },
      ],
      model: {
        measures: { amount: { source: 'amount', currency: 'EUR' } },
        dimensions: {
          admin: { dimensionType: 'administrative', primaryKey: ['admin'], attributes: { admin: { source: 'admin' } } },
          year: { dimensionType: 'datetime', primaryKey: ['year'], attributes: { year: { source: 'year' } } },
        },
      },
    };
    const enc = new TextEncoder();
    const csv = 'year,amount,admin\n' + amounts.map((a, i) => `${2014 + i},${a},${String.fromCharCode(65 + i)}\n`).join('');
    await putFile(pt, name, 'budget.csv', enc.encode(csv));
    const url = await putFile(pt, name, 'datapackage.json', enc.encode(JSON.stringify(descriptor)));
    const upload = await fetch(`${base}/package/upload?datapackage=${encodeURIComponent(url)}&jwt=${pt}`, { method: 'POST' });
    expect(await upload.json()).toEqual({ progress: 0, status: 'queued' });
    return url;
  }

  /** The live stream of a load's status, read to its end: the statuses of its events in order. */
  async function streamedStatuses(url: string): Promise<Array<{ status: string; error?: string }>> {
    const res = await fetch(`${base}/package/status?datapackage=${encodeURIComponent(url)}`, {
      headers: { Accept: 'text/event-stream' },
      signal: AbortSignal.timeout(60_000),
    });
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const events: Array<{ status: string; error?: string }> = [];
    for (const block of (await res.text()).split('\n\n')) {
      const data = block.split('\n').find((l) => l.startsWith('data: '));
      if (data) events.push(JSON.parse(data.slice(6)) as { status: string; error?: string });
    }
    return events;
  }

  it('loads an uploaded package end to end through the local queue into the embedded Postgres, with its live stream, page and history', async () => {
    const { ut } = await permissionToken();
    const url = await uploadBudget('dev-stack-budget', ['100.5', '200', '7']);
    // The stream, opened as the load starts, ends at done (it closes at the end of the job).
    const events = await streamedStatuses(url);
    expect(events.at(-1)?.status).toBe('done');
    const last = (await (await fetch(`${base}/package/status?datapackage=${encodeURIComponent(url)}`)).json()) as Record<string, unknown>;
    expect(last).toMatchObject({ status: 'done', progress: 3 });
    const found = (await (await fetch(`${base}/search/package?jwt=${ut}&package.owner=${encodeURIComponent('"alice"')}`)).json()) as Array<{ id: string; loaded: boolean }>;
    expect(found.find((p) => p.id === 'alice:dev-stack-budget')?.loaded).toBe(true);

    const page = await fetch(`${base}/package/status/view?datapackage=${encodeURIComponent(url)}`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect(await page.text()).toContain('EventSource');

    const history = (await (await fetch(`${base}/package/history?id=alice:dev-stack-budget&jwt=${ut}`)).json()) as {
      loads: Array<{ status: string; rows: number; latest: boolean; successful: boolean }>;
    };
    expect(history.loads[0]).toMatchObject({ status: 'done', rows: 3, latest: true, successful: true });
  });

  it('reports a failing load with its full validation report', async () => {
    const { ut } = await permissionToken();
    const url = await uploadBudget('dev-stack-bad', ['n/a', '200', 'n/a']);
    const events = await streamedStatuses(url);
    expect(events.at(-1)?.status).toBe('fail');
    expect(events.at(-1)?.error).toContain('"n/a" is not a number');
    const report = (await (await fetch(`${base}/package/report?datapackage=${encodeURIComponent(url)}`)).json()) as {
      valid: boolean;
      errors: Array<{ type: string; rowNumber: number; fieldName: string }>;
    };
    expect(report.valid).toBe(false);
    expect(report.errors.map((e) => [e.type, e.rowNumber, e.fieldName])).toEqual([
      ['type-error', 2, 'amount'],
      ['type-error', 4, 'amount'],
    ]);
    const history = (await (await fetch(`${base}/package/history?id=alice:dev-stack-bad&jwt=${ut}`)).json()) as {
      loads: Array<{ status: string; latest: boolean; successful: boolean }>;
    };
    expect(history.loads[0]).toMatchObject({ status: 'fail', latest: true, successful: false });
  });
});
