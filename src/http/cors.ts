/**
 * Credentialed CORS as the original (flask-cors, supports_credentials):
 * the request Origin is echoed with Allow-Credentials, preflights echo the
 * requested headers. With OS_CORS_ORIGINS set, only those origins are echoed.
 */
import type { MiddlewareHandler } from 'hono';
import type { AppEnv } from './types.ts';

const METHODS = 'GET, HEAD, POST, OPTIONS, PUT, PATCH, DELETE';

export function cors(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const config = c.get('config');
    const origin = c.req.header('origin');
    const allowed = config.OS_CORS_ORIGINS;
    const originOk =
      origin !== undefined && (allowed.length === 0 || allowed.includes('*') || allowed.includes(origin));

    if (c.req.method === 'OPTIONS' && c.req.header('access-control-request-method')) {
      const headers = new Headers({ Vary: 'Origin', 'Access-Control-Max-Age': '600' });
      if (originOk) {
        headers.set('Access-Control-Allow-Origin', origin);
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
    } else if (originOk) {
      res.headers.set('Access-Control-Allow-Origin', origin);
      res.headers.set('Access-Control-Allow-Credentials', 'true');
      res.headers.set('Access-Control-Expose-Headers', 'X-Request-Id, X-Total-Count');
    }
  };
}
