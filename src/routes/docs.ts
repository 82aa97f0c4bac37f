/**
 * GET /openapi.json — the OpenAPI 3.1 document generated from the route
 * schemas, plus the answers every operation can give at the edge; GET /docs —
 * a self-contained, human-readable reference built from the same document
 * (no external scripts, so it works offline and under CSP).
 */
import type { App } from '../http/types.ts';
import { renderApiReference } from '../http/api-reference.ts';

const INFO = {
  title: 'os-conductor',
  version: '1.0.0',
  description:
    'OpenSpending web services: identity (login, tokens, permissions), datastore upload authorisation, package loading with live status, and package search. Wire-compatible with the original os-conductor.',
};

type Doc = ReturnType<App['getOpenAPI31Document']>;
type Operation = { parameters?: Array<{ name?: string; in?: string }>; requestBody?: unknown; responses?: Record<string, unknown> };

const errorJson = (description: string) => ({
  description,
  content: { 'application/json': { schema: { type: 'object', properties: { error: { type: 'string' } }, required: ['error'] } } },
});

/**
 * Answers that do not come from one route's code, documented once for all:
 * 400 for a malformed or oversized parameter (any operation that takes
 * input), 413 for a body over the route's cap (src/http/request-body.ts),
 * 414 and 431 from the runtime for an over-long URL or headers; and the
 * JSONP form (application/javascript) of the 200 answer of every operation
 * with a `callback` parameter.
 */
export function withEdgeAnswers(doc: Doc): Doc {
  for (const item of Object.values(doc.paths ?? {})) {
    for (const op of Object.values(item as Record<string, Operation>)) {
      if (!op || typeof op !== 'object' || !op.responses) continue;
      const responses = op.responses;
      if ((op.parameters?.length ?? 0) > 0 || op.requestBody) {
        responses['400'] ??= errorJson('A missing, malformed or oversized parameter or body');
      }
      responses['413'] ??= errorJson('The request body is larger than this route accepts');
      responses['414'] ??= { description: 'The URL is too long (answered by the runtime)' };
      responses['431'] ??= { description: 'The request headers are too large (answered by the runtime)' };
      for (const p of (op.parameters ?? []) as Array<{ schema?: Record<string, unknown>; content?: unknown }>) {
        // A JSON-encoded parameter (contentMediaType) is OpenAPI parameter content.
        const schema = p.schema;
        if (schema?.contentMediaType === 'application/json') {
          p.content = { 'application/json': { schema: schema.contentSchema } };
          delete p.schema;
        }
      }
      const ok = responses['200'] as { content?: Record<string, unknown> } | undefined;
      if (op.parameters?.some((p) => p.name === 'callback' && p.in === 'query') && ok?.content?.['application/json']) {
        ok.content['application/javascript'] = { schema: { type: 'string', description: '/**/<callback>(<the JSON answer>);' } };
      }
    }
  }
  return doc;
}

export function registerDocsRoutes(app: App): void {
  const document = (baseUrl: string) =>
    withEdgeAnswers(app.getOpenAPI31Document({ openapi: '3.1.0', info: INFO, servers: [{ url: baseUrl }] }));
  app.get('/openapi.json', (c) => c.json(document(c.get('config').OS_BASE_URL)));
  app.get('/docs', (c) => c.html(renderApiReference(document(c.get('config').OS_BASE_URL))));
}
