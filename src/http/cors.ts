/**
 * Credentialed CORS as the original (flask-cors, supports_credentials):
 * the request Origin is echoed with Allow-Credentials, preflights echo the
 * requested headers. OS_CORS_ORIGINS alone decides which origins: unset or
 * `*` echoes any, a list echoes only those. `Origin: null` (sandboxed
 * frames, file: pages, cross-origin redirects) is never echoed: any such
 * page would share it.
 */
import type { MiddlewareHandler } from 'hono';
import type { AppEnv } from './types.ts';

const METHODS = 'GET, HEAD, POST, OPTIONS, PUT, PATCH, DELETE';

/** The origin to echo with credentials, or null when it gets no CORS grant. */
export function allowedOrigin(origin: string | undefined, allowed: readonly string[]): string | null {
  if (origin === undefined || origin.toLowerCase() === 'null') return null;
  if (allowed.length === 0 || allowed.includes('*')) return origin;
  const wanted = origin.toLowerCase();
  return allowed.some((a) => a.toLowerCase().replace(/\/+$/, '') === wanted) ? origin : null;
}

export function cors(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const origin = c.req.header('origin');
    const echoed = allowedOrigin(origin, c.get('config').OS_CORS_ORIGINS);

    if (c.req.method === 'OPTIONS' && c.req.header('access-control-request-method')) {
      const headers = new Headers({ Vary: 'Origin', 'Access-Control-Max-Age': '600' });
      if (echoed) {
        headers.set('Access-Control-Allow-Origin', echoed);
        headers.set('Access-Control-Allow-Credentials', 'true');
        headers.set('Access-Control-Allow-Methods', METHODS);
        const requested = c.req.header('access-control-request-headers');
        if (requested) headers.set('Access-Control-Allow-Headers', requested);
      }
      return new Response(null, { status: 204, headers });
    }

    await next();
    const res = c.res;
    res.headers.append('Vary', 'Origin');
    if (origin === undefined) {
      res.headers.set('Access-Control-Allow-Origin', '*');
    } else if (echoed) {
      res.headers.set('Access-Control-Allow-Origin', echoed);
      res.headers.set('Access-Control-Allow-Credentials', 'true');
      res.headers.set('Access-Control-Expose-Headers', 'X-Request-Id, X-Total-Count');
    }
  };
}
