/**
 * /user/*: the original's identity endpoints (api.md §1.3 rows 1, 3–7).
 * Thin: inputs are parsed here, the logic lives in src/identity and src/auth.
 */
import { createRoute, z } from '@hono/zod-openapi';
import { getSigningKeys } from '../auth/keys.ts';
import { signPermissionToken, signUserToken, verifyUserToken } from '../auth/tokens.ts';
import { withDb } from '../db/client.ts';
import { CallbackParam, MAX_PARAM_LENGTH, param } from '../http/params.ts';
import { jsonp } from '../http/respond.ts';
import type { App } from '../http/types.ts';
import { matchApiKey, parseApiKeys } from '../identity/api-keys.ts';
import { startLogin } from '../identity/login.ts';
import { getPermissions, SERVICE_PATTERN } from '../identity/permissions.ts';
import { isValidUsername, UPDATE_ERRORS } from '../identity/username.ts';
import { ensureUser, getProfile, setUsername } from '../identity/users.ts';
import { MAX_NEXT_LENGTH } from '../auth/redirect.ts';
import { renderAuthLib } from '../user-lib/lib.ts';

const jwtParam = z.string().max(MAX_PARAM_LENGTH).optional().openapi({ description: 'User token (query or form body)' });
const callbackParam = CallbackParam;
const raw = { description: 'Also served as JSONP (`callback`)' };

const ProfileSchema = z
  .object({
    avatar_url: z.string().nullable(),
    email: z.string().nullable(),
    id: z.string(),
    idhash: z.string(),
    join_date: z.string(),
    name: z.string().nullable(),
    username: z.string().nullable(),
  })
  .openapi('Profile');

const checkRoute = createRoute({
  method: 'get',
  path: '/user/check',
  summary: 'Who is logged in; otherwise where to log in',
  description:
    'Without a valid user token, starts an OpenID Connect login (state, PKCE, nonce) and returns its URL: the first-party hop `/oauth/google_login?state=…`, which binds the login to the browser and redirects to the provider. Sets no cookie (this is usually a cross-site XHR).',
  request: {
    query: z.object({ jwt: jwtParam, next: z.string().max(MAX_NEXT_LENGTH).optional(), callback: callbackParam }),
  },
  responses: {
    200: {
      description: 'Authenticated profile, or the login providers',
      content: {
        'application/json': {
          schema: z.union([
            z.object({ authenticated: z.literal(true), profile: ProfileSchema }),
            z.object({
              authenticated: z.literal(false),
              providers: z.object({ google: z.object({ url: z.string() }) }),
            }),
          ]),
        },
      },
    },
    400: raw,
  },
});

const authorizeRoute = createRoute({
  method: 'get',
  path: '/user/authorize',
  summary: 'Permission token for a service',
  request: {
    query: z.object({ jwt: jwtParam, service: z.string().max(MAX_PARAM_LENGTH).optional(), callback: callbackParam }),
  },
  responses: {
    200: {
      description:
        'Permissions (booleans) and token, or `{"permissions":{}}` for a missing/invalid token or service, or a deleted or unknown user',
      content: {
        'application/json': {
          schema: z.object({
            permissions: z.record(z.string(), z.unknown()),
            service: z.string().optional(),
            token: z.string().optional(),
            userid: z.string().optional(),
          }),
        },
      },
    },
    400: raw,
  },
});

const updateRoute = createRoute({
  method: 'post',
  path: '/user/update',
  summary: 'Set the username (once)',
  request: {
    query: z.object({
      jwt: jwtParam,
      username: z.string().max(MAX_PARAM_LENGTH).optional(),
      callback: callbackParam,
    }),
  },
  responses: {
    200: {
      description: 'Business errors are HTTP 200 with success false',
      content: {
        'application/json': { schema: z.object({ success: z.boolean(), error: z.string().optional() }) },
      },
    },
    400: raw,
  },
});

const publicKeyRoute = createRoute({
  method: 'get',
  path: '/user/public-key',
  summary: 'PEM of the key permission tokens are signed with',
  responses: { 200: { description: 'PEM text', content: { 'text/plain': { schema: z.string() } } }, 503: raw },
});

const libRoute = createRoute({
  method: 'get',
  path: '/user/lib',
  summary: 'Angular 1.x auth client library (authClient modules), base URL baked in',
  responses: { 200: { description: 'Classic script', content: { 'text/javascript': { schema: z.string() } } }, 304: raw },
});

const apiKeyRoute = createRoute({
  method: 'post',
  path: '/user/authenticate_api_key',
  summary: 'User token for an API key (header x-api-key)',
  request: { headers: z.object({ 'x-api-key': z.string().optional() }) },
  responses: {
    200: { description: 'User token', content: { 'application/json': { schema: z.object({ token: z.string() }) } } },
    401: { description: 'Missing or unknown key', content: { 'application/json': { schema: z.object({ error: z.string() }) } } },
  },
});

export function registerUserRoutes(app: App): void {
  app.openapi(checkRoute, async (c) => {
    const config = c.get('config');
    const keys = await getSigningKeys(config);
    const claims = await verifyUserToken(keys, config, await param(c, 'jwt'));
    const result = await withDb(config, async (db) => {
      const profile = claims ? await getProfile(db, claims.userid) : null;
      if (profile) return { profile };
      return { login: await startLogin(db, config, c.req.query('next')) };
    });
    c.header('Cache-Control', 'no-store');
    if ('profile' in result) return jsonp(c, { authenticated: true, profile: result.profile });
    return jsonp(c, { authenticated: false, providers: { google: { url: result.login.url } } });
  });

  app.openapi(authorizeRoute, async (c) => {
    const config = c.get('config');
    const keys = await getSigningKeys(config);
    const service = await param(c, 'service');
    const claims = await verifyUserToken(keys, config, await param(c, 'jwt'));
    if (!claims || !service || !SERVICE_PATTERN.test(service)) return jsonp(c, { permissions: {} });
    // A deleted or unknown user gets nothing, as /user/check treats its token as anonymous.
    const permissions = await withDb(config, async (db) =>
      (await getProfile(db, claims.userid))
        ? getPermissions(db, claims.userid, service, config.OS_DEFAULT_PERMISSIONS)
        : null,
    );
    if (!permissions) return jsonp(c, { permissions: {} });
    const token = await signPermissionToken(
      keys,
      config,
      { userid: claims.userid, service, permissions },
      config.OS_PERMISSION_TOKEN_TTL,
    );
    c.header('Cache-Control', 'no-store');
    return jsonp(c, { permissions, service, token, userid: claims.userid });
  });

  app.openapi(updateRoute, async (c) => {
    const config = c.get('config');
    const jwt = await param(c, 'jwt');
    const username = await param(c, 'username');
    const fail = (error: string) => jsonp(c, { success: false, error });
    if (!jwt) return fail(UPDATE_ERRORS.noToken);
    const claims = await verifyUserToken(await getSigningKeys(config), config, jwt);
    if (!claims) return fail(UPDATE_ERRORS.notAuthenticated);
    const outcome = await withDb(config, async (db) => {
      const profile = await getProfile(db, claims.userid);
      if (!profile) return 'unknown-user' as const;
      // Other profile fields are ignored silently, as in the original.
      if (username === undefined) return 'ok' as const;
      if (profile.username !== null) return 'already-set' as const;
      if (!isValidUsername(username)) return 'invalid' as const;
      return setUsername(db, claims.userid, username);
    });
    switch (outcome) {
      case 'ok':
        return jsonp(c, { success: true });
      case 'unknown-user':
        return fail(UPDATE_ERRORS.unknownUser);
      case 'already-set':
        return fail(UPDATE_ERRORS.alreadySet);
      case 'invalid':
        return fail(UPDATE_ERRORS.invalid);
      case 'taken':
        return fail(UPDATE_ERRORS.taken);
    }
  });

  app.openapi(publicKeyRoute, async (c) => {
    const keys = await getSigningKeys(c.get('config'));
    return c.body(keys.publicPem, 200, {
      'Content-Type': 'text/plain; charset=utf-8',
      'Cache-Control': 'public, max-age=300',
    });
  });

  app.openapi(libRoute, (c) => {
    return c.body(renderAuthLib(c.get('config').OS_BASE_URL), 200, {
      'Content-Type': 'text/javascript; charset=utf-8',
      'Cache-Control': 'public, max-age=300',
      'X-Content-Type-Options': 'nosniff',
    });
  });

  app.openapi(apiKeyRoute, async (c) => {
    const config = c.get('config');
    const userid = await matchApiKey(parseApiKeys(config.OS_CLIENT_API_KEYS), c.req.header('x-api-key'));
    if (!userid) return c.json({ error: 'Unauthorized' }, 401);
    await withDb(config, (db) => ensureUser(db, userid));
    const token = await signUserToken(await getSigningKeys(config), config, userid, config.OS_API_KEY_TOKEN_TTL);
    c.header('Cache-Control', 'no-store');
    return c.json({ token }, 200);
  });
}
