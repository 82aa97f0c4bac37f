/**
 * GET /openapi.json — the OpenAPI 3.1 document generated from the route
 * schemas; GET /docs — a self-contained, human-readable reference built from
 * the same document (no external scripts, so it works offline and under CSP).
 */
import type { App } from '../http/types.ts';
import { renderApiReference } from '../http/api-reference.ts';

const INFO = {
  title: 'os-conductor',
  version: '1.0.0',
  description:
    'OpenSpending web services: identity (login, tokens, permissions), datastore upload authorisation, package loading with live status, and package search. Wire-compatible with the original os-conductor.',
};

export function registerDocsRoutes(app: App): void {
  app.doc31('/openapi.json', (c) => ({
    openapi: '3.1.0',
    info: INFO,
    servers: [{ url: c.get('config').OS_BASE_URL }],
  }));
  app.get('/docs', (c) => {
    const doc = app.getOpenAPI31Document({
      openapi: '3.1.0',
      info: INFO,
      servers: [{ url: c.get('config').OS_BASE_URL }],
    });
    return c.html(renderApiReference(doc));
  });
}
