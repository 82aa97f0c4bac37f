/**
 * /.well-known/jwks.json: the public keys (current and previous) with their
 * kid, so other services can verify permission tokens and follow rotation.
 */
import { createRoute, z } from '@hono/zod-openapi';
import { getSigningKeys } from '../auth/keys.ts';
import type { App } from '../http/types.ts';

const jwksRoute = createRoute({
  method: 'get',
  path: '/.well-known/jwks.json',
  summary: 'JSON Web Key Set of the token signing keys',
  responses: {
    200: {
      description: 'JWKS',
      content: { 'application/json': { schema: z.object({ keys: z.array(z.record(z.string(), z.unknown())) }) } },
    },
  },
});

export function registerWellKnownRoutes(app: App): void {
  app.openapi(jwksRoute, async (c) => {
    const keys = await getSigningKeys(c.get('config'));
    c.header('Cache-Control', 'public, max-age=300');
    return c.json(keys.jwks as { keys: Array<Record<string, unknown>> }, 200);
  });
}
