/**
 * /user/*: the original's identity endpoints (api.md §1.3 rows 1, 3–7), and
 * the named API keys (/user/api_keys, issue #12) with /user/update's token rules.
 * Thin: inputs are parsed here, the logic lives in src/identity and src/auth.
 */
import { createRoute, z } from '@hono/zod-openapi';
import { getSigningKeys } from '../auth/keys.ts';
import { signPermissionToken, signUserToken, verifyUserToken } from '../auth/tokens.ts';
import { withDb } from '../db/client.ts';
import { CallbackParam, MAX_PARAM_LENGTH, param } from '../http/params.ts';
import { jsonp } from '../http/respond.ts';
import type { App, AppEnv } from '../http/types.ts';
import type { Context } from 'hono';
import { matchApiKey, parseApiKeys } from '../identity/api-keys.ts';
import { startLogin } from '../identity/login.ts';
import {
  API_KEY_ERRORS,
  createUserApiKey,
  expiryFrom,
  isUserApiKey,
  isValidKeyName,
  listUserApiKeys,
  MAX_EXPIRY_DAYS,
  revokeUserApiKey,
  useUserApiKey,
} from '../identity/user-api-keys.ts';
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
  summary: 'User token for an API key (header x-api-key): a configured one or a named key from /user/api_keys',
  request: { headers: z.object({ 'x-api-key': z.string().optional() }) },
  responses: {
    200: { description: 'User token', content: { 'application/json': { schema: z.object({ token: z.string() }) } } },
    401: { description: 'Missing, unknown, revoked or expired key', content: { 'application/json': { schema: z.object({ error: z.string() }) } } },
  },
});

const ApiKeySchema = z
  .object({
    id: z.string(),
    name: z.string(),
    created: z.string(),
    last_used: z.string().nullable(),
    expires: z.string().nullable(),
  })
  .openapi('ApiKey');
const Failure = z.object({ success: z.literal(false), error: z.string() });
const failureNote =
  'Business errors are HTTP 200 with success false, as on /user/update: a missing, bad or wrong-kind token (`No token`, `Not authenticated`), a user without a profile (`Unknown User`)';

const createApiKeyRoute = createRoute({
  method: 'post',
  path: '/user/api_keys',
  summary: 'Create a named API key (shown once)',
  description:
    'The answer holds the key itself (`osk_…`), the only time it is shown; only its SHA-256 is stored. Use it at `/user/authenticate_api_key` (header `x-api-key`).',
  request: {
    query: z.object({
      jwt: jwtParam,
      name: z.string().max(MAX_PARAM_LENGTH).optional().openapi({
        description: "1-64 letters, digits, space, '.', '_', '-' (no leading or trailing space), unique among your keys; query or form body",
      }),
      expires_in_days: z.string().max(MAX_PARAM_LENGTH).optional().openapi({
        description: `Lifetime in whole days, 1-${MAX_EXPIRY_DAYS}; absent: until revoked`,
      }),
      callback: callbackParam,
    }),
  },
  responses: {
    200: {
      description: `The key and its record; or ${failureNote}, an invalid name or expiry, a name already used, too many keys (OS_USER_API_KEYS_MAX)`,
      content: {
        'application/json': {
          schema: z.union([z.object({ success: z.literal(true), key: z.string(), api_key: ApiKeySchema }), Failure]),
        },
      },
    },
    400: raw,
  },
});

const listApiKeysRoute = createRoute({
  method: 'get',
  path: '/user/api_keys',
  summary: 'The named API keys of the user (never the keys themselves)',
  request: { query: z.object({ jwt: jwtParam, callback: callbackParam }) },
  responses: {
    200: {
      description: `The keys, oldest first, expired ones included; or ${failureNote}`,
      content: {
        'application/json': {
          schema: z.union([z.object({ success: z.literal(true), api_keys: z.array(ApiKeySchema) }), Failure]),
        },
      },
    },
    400: raw,
  },
});

const revokeRequest = {
  params: z.object({ id: z.string().max(MAX_PARAM_LENGTH).openapi({ description: 'The key id from the list' }) }),
  query: z.object({ jwt: jwtParam, callback: callbackParam }),
};
const revokeResponses = {
  200: {
    description: `Revoked: the key stops working at once; or ${failureNote}, \`${API_KEY_ERRORS.unknownKey}\` for an id that is not one of your keys`,
    content: { 'application/json': { schema: z.union([z.object({ success: z.literal(true) }), Failure]) } },
  },
  400: raw,
};

const revokeApiKeyRoute = createRoute({
  method: 'delete',
  path: '/user/api_keys/{id}',
  summary: 'Revoke a named API key',
  request: revokeRequest,
  responses: revokeResponses,
});

const revokeApiKeyPostRoute = createRoute({
  method: 'post',
  path: '/user/api_keys/{id}/revoke',
  summary: 'Revoke a named API key (for clients that cannot send DELETE)',
  request: revokeRequest,
  responses: revokeResponses,
});

/** The user of the `jwt` parameter, or /user/update's error for a missing or bad token. */
async function tokenUser(c: Context<AppEnv>): Promise<{ userid: string } | { error: string }> {
  const config = c.get('config');
  const jwt = await param(c, 'jwt');
  if (!jwt) return { error: UPDATE_ERRORS.noToken };
  const claims = await verifyUserToken(await getSigningKeys(config), config, jwt);
  return claims ? { userid: claims.userid } : { error: UPDATE_ERRORS.notAuthenticated };
}

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
    const username = await param(c, 'username');
    const fail = (error: string) => jsonp(c, { success: false, error });
    const user = await tokenUser(c);
    if ('error' in user) return fail(user.error);
    const outcome = await withDb(config, async (db) => {
      const profile = await getProfile(db, user.userid);
      if (!profile) return 'unknown-user' as const;
      // Other profile fields are ignored silently, as in the original.
      if (username === undefined) return 'ok' as const;
      if (profile.username !== null) return 'already-set' as const;
      if (!isValidUsername(username)) return 'invalid' as const;
      return setUsername(db, user.userid, username);
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

  app.openapi(createApiKeyRoute, async (c) => {
    const config = c.get('config');
    c.header('Cache-Control', 'no-store');
    const fail = (error: string) => jsonp(c, { success: false, error });
    // Parameters first, as /user/update: an oversized one is a 400 whatever the token.
    const name = (await param(c, 'name')) ?? '';
    const expires = expiryFrom(await param(c, 'expires_in_days'), new Date());
    const user = await tokenUser(c);
    if ('error' in user) return fail(user.error);
    if (!isValidKeyName(name)) return fail(API_KEY_ERRORS.invalidName);
    if (expires === 'invalid') return fail(API_KEY_ERRORS.invalidExpiry);
    const created = await withDb(config, (db) =>
      createUserApiKey(db, user.userid, name, expires, config.OS_USER_API_KEYS_MAX),
    );
    switch (created) {
      case 'unknown-user':
        return fail(UPDATE_ERRORS.unknownUser);
      case 'too-many':
        return fail(API_KEY_ERRORS.tooMany);
      case 'name-taken':
        return fail(API_KEY_ERRORS.nameTaken);
      default:
        return jsonp(c, { success: true, key: created.key, api_key: created.info });
    }
  });

  app.openapi(listApiKeysRoute, async (c) => {
    c.header('Cache-Control', 'no-store');
    const user = await tokenUser(c);
    if ('error' in user) return jsonp(c, { success: false, error: user.error });
    const keys = await withDb(c.get('config'), (db) => listUserApiKeys(db, user.userid));
    if (keys === 'unknown-user') return jsonp(c, { success: false, error: UPDATE_ERRORS.unknownUser });
    return jsonp(c, { success: true, api_keys: keys });
  });

  const revoke = async (c: Context<AppEnv>) => {
    c.header('Cache-Control', 'no-store');
    const user = await tokenUser(c);
    if ('error' in user) return jsonp(c, { success: false, error: user.error });
    const outcome = await withDb(c.get('config'), (db) => revokeUserApiKey(db, user.userid, c.req.param('id') ?? ''));
    if (outcome === 'ok') return jsonp(c, { success: true });
    return jsonp(c, { success: false, error: outcome === 'unknown-user' ? UPDATE_ERRORS.unknownUser : API_KEY_ERRORS.unknownKey });
  };
  app.openapi(revokeApiKeyRoute, revoke);
  app.openapi(revokeApiKeyPostRoute, revoke);

  app.openapi(apiKeyRoute, async (c) => {
    const config = c.get('config');
    const presented = c.req.header('x-api-key');
    // Configured keys first (as before); a named key costs a query only when it has the shape of one.
    const configured = await matchApiKey(parseApiKeys(config.OS_CLIENT_API_KEYS), presented);
    const userid =
      configured ?? (isUserApiKey(presented) ? await withDb(config, (db) => useUserApiKey(db, presented)) : null);
    if (!userid) return c.json({ error: 'Unauthorized' }, 401);
    if (configured) await withDb(config, (db) => ensureUser(db, configured));
    const token = await signUserToken(await getSigningKeys(config), config, userid, config.OS_API_KEY_TOKEN_TTL);
    c.header('Cache-Control', 'no-store');
    return c.json({ token }, 200);
  });
}
