/**
 * `npm run dev` works with no external services: embedded Postgres, local
 * S3, local OpenID provider, generated development keys, wrangler dev.
 */
import { spawn, type ChildProcess } from 'node:child_process';
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

  it('authorises uploads to the local S3 server', async () => {
    const { token: ut } = (await (
      await fetch(`${base}/user/authenticate_api_key`, { method: 'POST', headers: { 'x-api-key': 'dev-stack-test-key' } })
    ).json()) as { token: string };
    const auth = (await (await fetch(`${base}/user/authorize?service=os.datastore&jwt=${ut}`)).json()) as { token: string };
    const bytes = new TextEncoder().encode('a,b\n1,2\n');
    const { createHash } = await import('node:crypto');
    const contentMd5 = createHash('md5').update(bytes).digest('base64');
    const res = await fetch(`${base}/datastore/`, {
      method: 'POST',
      headers: { 'Auth-Token': auth.token },
      body: JSON.stringify({
        metadata: { owner: 'alice', name: 'dev-stack' },
        filedata: { 'data.csv': { md5: contentMd5, name: 'data.csv', length: bytes.length, type: 'text/csv' } },
      }),
    });
    expect(res.status).toBe(200);
    const { filedata } = (await res.json()) as {
      filedata: Record<string, { upload_url: string; upload_query: Record<string, string[]> }>;
    };
    const file = filedata['data.csv']!;
    const query = new URLSearchParams(Object.entries(file.upload_query).map(([k, v]) => [k, v[0]!]));
    const put = await fetch(`${file.upload_url}?${query}`, {
      method: 'PUT',
      headers: { 'Content-MD5': contentMd5, 'Content-Type': 'text/csv' },
      body: bytes,
    });
    expect(put.status).toBe(200);
    const get = await fetch(file.upload_url);
    expect(await get.text()).toBe('a,b\n1,2\n');
  });
});
