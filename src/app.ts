/**
 * The Hono application: cross-cutting middleware, then each area's routes.
 * Routes stay thin; the logic lives in the modules they call.
 */
import { OpenAPIHono } from '@hono/zod-openapi';
import { ConfigError, getConfig } from './config.ts';
import { cors } from './http/cors.ts';
import { allowedMethodsOf } from './http/methods.ts';
import { createLogger, redactUrl } from './http/log.ts';
import { ParamTooLongError } from './http/params.ts';
import { BodyTooLargeError, bodyCap } from './http/request-body.ts';
import type { App, AppEnv } from './http/types.ts';
import { registerDatastoreRoutes } from './routes/datastore.ts';
import { registerDocsRoutes } from './routes/docs.ts';
import { registerOAuthRoutes } from './routes/oauth.ts';
import { registerPackageAdminRoutes } from './routes/package-admin.ts';
import { registerPackageLoadRoutes } from './routes/package-load.ts';
import { registerPackageReportRoutes } from './routes/package-report.ts';
import { registerSearchRoutes } from './routes/search.ts';
import { registerUserRoutes } from './routes/user.ts';
import { registerWellKnownRoutes } from './routes/well-known.ts';

export function createApp(): App {
  const app = new OpenAPIHono<AppEnv>({
    // Schema validation failures: 400 with a JSON error naming the field.
    defaultHook: (result, c) => {
      if (!result.success) {
        const issue = result.error.issues[0];
        const where = issue?.path.join('.') || 'request';
        return c.json({ error: `invalid ${where}: ${issue?.message ?? 'bad input'}` }, 400);
      }
    },
  });

  app.use('*', async (c, next) => {
    const requestId = c.req.header('cf-ray') ?? crypto.randomUUID();
    const log = createLogger(requestId);
    c.set('requestId', requestId);
    c.set('log', log);
    c.set('config', getConfig(c.env));
    const started = Date.now();
    await next();
    c.res.headers.set('X-Request-Id', requestId);
    log('info', 'request', {
      method: c.req.method,
      url: redactUrl(c.req.url),
      status: c.res.status,
      ms: Date.now() - started,
    });
  });
  app.use('*', cors());
  app.use('*', bodyCap());

  registerUserRoutes(app);
  registerOAuthRoutes(app);
  registerWellKnownRoutes(app);
  registerDatastoreRoutes(app);
  registerPackageLoadRoutes(app);
  registerPackageReportRoutes(app);
  registerPackageAdminRoutes(app);
  registerSearchRoutes(app);
  registerDocsRoutes(app);

  let allowedMethods: ((path: string) => string[]) | undefined;
  app.notFound((c) => {
    // A known path asked with another method: 405 with Allow, not 404.
    allowedMethods ??= allowedMethodsOf(app.routes);
    const allow = allowedMethods(c.req.path);
    if (allow.length > 0) return c.json({ error: 'method not allowed' }, 405, { Allow: allow.join(', ') });
    return c.json({ error: 'not found' }, 404);
  });
  app.onError((err, c) => {
    const requestId = c.get('requestId') ?? 'unknown';
    if (err instanceof ParamTooLongError) {
      return c.json({ error: err.message }, 400);
    }
    if (err instanceof BodyTooLargeError) {
      return c.json({ error: err.message }, 413);
    }
    if (err instanceof ConfigError) {
      console.error(JSON.stringify({ level: 'error', msg: err.message, requestId }));
      return c.json({ error: 'service misconfigured', requestId }, 503);
    }
    const log = c.get('log') ?? createLogger(requestId);
    log('error', 'unhandled error', { error: err.message, stack: err.stack });
    return c.json({ error: 'internal error', requestId }, 500);
  });
  return app;
}
