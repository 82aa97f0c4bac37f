/**
 * /oauth/google_callback: the provider sends the browser back here with
 * `code` and `state` (or `error`). Always a 302; see src/identity/login.ts.
 */
import { createRoute, z } from '@hono/zod-openapi';
import { withDb } from '../db/client.ts';
import type { App } from '../http/types.ts';
import { CALLBACK_PATH, finishLogin } from '../identity/login.ts';

const short = z.string().max(2048).optional();

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
