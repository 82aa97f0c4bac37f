/**
 * Cross-cutting HTTP behaviour every client relies on: credentialed CORS,
 * JSONP, leading `//` in paths, JSON errors.
 */
import { describe, expect, it } from 'vitest';
import { call } from './helpers/app.ts';

describe('CORS with credentials (as flask-cors with supports_credentials)', () => {
  it('echoes the request origin and allows credentials', async () => {
    const res = await call('/user/check', { headers: { Origin: 'https://packager.example' } });
    expect(res.headers.get('access-control-allow-origin')).toBe('https://packager.example');
    expect(res.headers.get('access-control-allow-credentials')).toBe('true');
    expect(res.headers.get('vary')).toContain('Origin');
  });

  it('answers a preflight by echoing the requested headers', async () => {
    const res = await call('/datastore/', {
      method: 'OPTIONS',
      headers: {
        Origin: 'https://packager.example',
        'Access-Control-Request-Method': 'POST',
        'Access-Control-Request-Headers': 'auth-token,content-type',
      },
    });
    expect(res.status).toBe(204);
    expect(res.headers.get('access-control-allow-origin')).toBe('https://packager.example');
    expect(res.headers.get('access-control-allow-headers')).toBe('auth-token,content-type');
    expect(res.headers.get('access-control-allow-methods')).toContain('POST');
  });

  it('never grants credentialed CORS to Origin: null (requests and preflights)', async () => {
    const res = await call('/user/check', { headers: { Origin: 'null' } });
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
    expect(res.headers.get('access-control-allow-credentials')).toBeNull();
    const pre = await call('/datastore/', {
      method: 'OPTIONS',
      headers: { Origin: 'null', 'Access-Control-Request-Method': 'POST' },
    });
    expect(pre.headers.get('access-control-allow-origin')).toBeNull();
    expect(pre.headers.get('access-control-allow-credentials')).toBeNull();
  });

  it('sends * when the request has no Origin', async () => {
    const res = await call('/user/check');
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
    expect(res.headers.get('access-control-allow-credentials')).toBeNull();
  });
});

describe('JSONP', () => {
  it('wraps JSON in the callback and serves it as JavaScript', async () => {
    const res = await call('/user/check?callback=cb_1');
    expect(res.headers.get('content-type')).toContain('application/javascript');
    const body = await res.text();
    expect(body).toMatch(/^\/\*\*\/cb_1\(\{.*\}\);$/s);
    const json = JSON.parse(body.slice('/**/cb_1('.length, -2)) as { authenticated: boolean };
    expect(json.authenticated).toBe(false);
  });

  it('refuses a callback that is not a plain function name', async () => {
    const res = await call(`/user/check?callback=${encodeURIComponent('alert(1);x')}`);
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ error: 'invalid callback name' });
  });
});

describe('paths', () => {
  it('routes a leading // like / (os-viewer calls //package/update_params)', async () => {
    const plain = await call('/user/check');
    const doubled = await call('//user/check');
    expect(doubled.status).toBe(plain.status);
    expect(((await doubled.json()) as { authenticated: boolean }).authenticated).toBe(false);
  });

  it.each([
    ['TRACE', '/user/check', 'GET, HEAD, OPTIONS'],
    ['DELETE', '/datastore/', 'POST, OPTIONS'],
    ['GET', '/package/publish', 'POST, OPTIONS'],
    ['PUT', '/search/package', 'GET, HEAD, OPTIONS'],
    ['POST', '/openapi.json', 'GET, HEAD, OPTIONS'],
  ])('answers %s on %s (a known path) with 405 and Allow: %s', async (method, path, allow) => {
    const res = await call(path, { method });
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe(allow);
    expect(await res.json()).toEqual({ error: 'method not allowed' });
  });

  it('answers unknown routes with a JSON 404', async () => {
    const res = await call('/user/nope');
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ error: 'not found' });
  });
});

describe('oversized parameters', () => {
  it('are refused with a JSON 400', async () => {
    const res = await call(`/user/check?jwt=${'a'.repeat(9000)}`);
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: string }).error).toMatch(/jwt/);
  });
});
