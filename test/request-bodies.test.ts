/**
 * Every body the service reads is bounded before it is parsed (one reader,
 * a cap per route, src/http/request-body.ts): a Content-Length over the cap
 * is answered 413 without reading, a chunked body is cut at the cap and
 * refused. No login is needed to send a body, so this is the edge.
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_BODY_LIMIT, ROUTE_BODY_LIMITS } from '../src/http/request-body.ts';
import { BASE, call, newUserId, permissionToken, userToken } from './helpers/app.ts';

/** A body stream of `total` bytes of `fill`, counting what the Worker pulled. */
function counted(total: number, fill = 'a') {
  const chunk = new TextEncoder().encode(fill.repeat(64 * 1024));
  const state = { pulled: 0 };
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (state.pulled >= total) return controller.close();
      state.pulled += chunk.byteLength;
      controller.enqueue(chunk);
    },
  });
  return { stream, state };
}

async function expect413(res: Response): Promise<void> {
  expect(res.status).toBe(413);
  expect(await res.json()).toEqual({ error: expect.stringMatching(/request body is larger than \d+ bytes/) });
}

const FORM = { 'content-type': 'application/x-www-form-urlencoded' };
const NINETY_MIB = 90 * 1024 * 1024;

describe('bodies are bounded before they are parsed', () => {
  it.each(['/package/publish', '/package/delete', '/package/run-hooks', '/package/upload', '/user/update', '/user/authenticate_api_key', '/user/api_keys'])(
    'a 90 MiB form body announced to %s is answered 413 without being read',
    async (path) => {
      const { stream, state } = counted(NINETY_MIB, 'jwt=x&');
      const res = await call(path, {
        method: 'POST',
        headers: { ...FORM, 'content-length': String(NINETY_MIB) },
        body: stream,
        // @ts-expect-error: workerd's RequestInit takes duplex for streamed bodies
        duplex: 'half',
      });
      await expect413(res);
      // The runtime buffers a few chunks ahead of any reader; 90 MiB were never pulled.
      expect(state.pulled).toBeLessThan(1024 * 1024);
    },
  );

  it.each([
    ['/package/publish', FORM],
    ['/user/update', FORM],
    ['/package/publish', { 'content-type': 'multipart/form-data; boundary=XyZ' }],
  ])('a chunked body to %s (%o) is cut at the cap and refused with 413', async (path, headers) => {
    const { stream, state } = counted(NINETY_MIB);
    const res = await call(path, { method: 'POST', headers, body: stream });
    await expect413(res);
    expect(state.pulled).toBeLessThan(1024 * 1024);
  });

  it('a form body under the cap still carries the parameters (a multipart one too)', async () => {
    const owner = newUserId();
    const jwt = await userToken(owner);
    const form = new FormData();
    form.set('jwt', jwt);
    form.set('username', 'x');
    const res = await call('/user/update', { method: 'POST', body: form });
    expect(res.status).toBe(200);
    // The token was read from the multipart body: the user is unknown, not "no token".
    expect(await res.json()).toEqual({ success: false, error: expect.not.stringMatching(/No token/i) });
  });

  it('a form body just over the default cap is refused, just under it is read', async () => {
    const jwt = await permissionToken(newUserId());
    const base = `jwt=${jwt}&id=a:b&publish=true&pad=`;
    const under = base + 'x'.repeat(DEFAULT_BODY_LIMIT - base.length);
    const ok = await call('/package/publish', { method: 'POST', headers: FORM, body: under });
    expect(ok.status).toBe(200);
    const over = await call('/package/publish', { method: 'POST', headers: FORM, body: under + 'x' });
    await expect413(over);
  });

  it('the datastore and update_params have their own caps', async () => {
    expect(ROUTE_BODY_LIMITS['/datastore/']).toBe(2 * 1024 * 1024);
    expect(ROUTE_BODY_LIMITS['/package/update_params']).toBe(64 * 1024);
    const big = new TextEncoder().encode('{"params":"' + 'x'.repeat(64 * 1024) + '"}');
    const res = await call(`/package/update_params?jwt=x&id=a:b`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: big,
    });
    await expect413(res);
  });

  it('answers unknown routes with 413 too when the announced body is over the default cap', async () => {
    const res = await fetchWithLength(`${BASE}/no/such/route`, DEFAULT_BODY_LIMIT + 1);
    await expect413(res);
  });
});

function fetchWithLength(url: string, length: number): Promise<Response> {
  const { stream } = counted(length);
  return call(url.slice(BASE.length), {
    method: 'POST',
    headers: { 'content-length': String(length) },
    body: stream,
  });
}
