/**
 * /oauth/google_login: the first-party hop from `providers.google.url` to the
 * provider. /oauth/google_callback: the provider sends the browser back here
 * with `code` and `state` (or `error`). Both always 302; see
 * src/identity/login.ts.
 */
import { createRoute, z } from '@hono/zod-openapi';
import { withDb } from '../db/client.ts';
import type { App } from '../http/types.ts';
import { CALLBACK_PATH, claimLogin, finishLogin, LOGIN_PATH } from '../identity/login.ts';

const short = z.string().max(2048).optional();

const loginRoute = createRoute({
  method: 'get',
  path: LOGIN_PATH,
  summary: 'Login hop: binds a started login to this browser, then on to the provider',
  description:
    'The URL `/user/check` returns as `providers.google.url`; open it as a top-level navigation (window, tab or `_self`). A pending login that no browser has claimed yet: sets the HttpOnly SameSite=Lax login cookie (reusing a well-formed one) and 302 to the provider. Unknown, malformed, expired or already claimed state (each login can be claimed once, by the first browser that opens it): 302 to the base URL, no cookie.',
  request: { query: z.object({ state: short }) },
  responses: { 302: { description: 'Redirect' } },
});

const callbackRoute = createRoute({
  method: 'get',
  path: CALLBACK_PATH,
  summary: 'OpenID Connect redirect target',
  description:
    'Valid state (bound to the login cookie): 302 to `next` with `jwt` in the query. Provider error or failed verification: 302 to `next` without `jwt`. Missing, replayed, expired or foreign state, or a `next` outside the allow-list: 302 to the base URL without `jwt`.',
  request: {
    query: z.object({
      state: short,
      code: short,
      error: short,
      error_description: z.string().max(4096).optional(),
      iss: short,
      scope: short,
      authuser: short,
      prompt: short,
      hd: short,
    }),
  },
  responses: { 302: { description: 'Redirect' } },
});

export function registerOAuthRoutes(app: App): void {
  app.openapi(loginRoute, async (c) => {
    const config = c.get('config');
    const { state } = c.req.valid('query');
    const result = await withDb(config, (db) => claimLogin(db, config, state, c.req.header('cookie')));
    if (result.outcome !== 'claimed') c.get('log')('warn', 'login-hop', { outcome: result.outcome });
    c.header('Cache-Control', 'no-store');
    // The state is in this URL: never leak it to the provider in a Referer.
    c.header('Referrer-Policy', 'no-referrer');
    if (result.setCookie) c.header('Set-Cookie', result.setCookie);
    return c.redirect(result.location, 302);
  });

  app.openapi(callbackRoute, async (c) => {
    const config = c.get('config');
    const q = c.req.valid('query');
    const result = await withDb(config, (db) =>
      finishLogin(db, config, {
        state: q.state,
        code: q.code,
        error: q.error,
        iss: q.iss,
        cookieHeader: c.req.header('cookie'),
      }),
    );
    c.get('log')(result.outcome === 'logged-in' ? 'info' : 'warn', 'login', {
      outcome: result.outcome,
      ...(result.detail ? { detail: result.detail } : {}),
    });
    c.header('Cache-Control', 'no-store');
    c.header('Referrer-Policy', 'no-referrer');
    return c.redirect(result.location, 302);
  });
}
