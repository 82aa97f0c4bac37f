import { describe, expect, it } from 'vitest';
import { call } from './helpers/app.ts';

describe('API documentation', () => {
  it('serves an OpenAPI 3.1 document', async () => {
    const res = await call('/openapi.json');
    expect(res.status).toBe(200);
    const doc = (await res.json()) as { openapi: string; info: { title: string }; paths: Record<string, unknown> };
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.info.title).toBe('os-conductor');
    expect(typeof doc.paths).toBe('object');
  });

  it('lists GET /datastore/file in both forms, with its redirect and its 404', async () => {
    const doc = (await (await call('/openapi.json')).json()) as {
      paths: Record<string, { get?: { responses: Record<string, unknown>; parameters?: { name: string }[] } }>;
    };
    const byUrl = doc.paths['/datastore/file']?.get;
    const byPath = doc.paths['/datastore/file/{owner}/{name}/{path}']?.get;
    for (const op of [byUrl, byPath]) {
      expect(Object.keys(op?.responses ?? {})).toEqual(expect.arrayContaining(['302', '400', '404', '503']));
      expect(op?.parameters?.map((p) => p.name)).toContain('jwt');
    }
    expect(byUrl?.parameters?.map((p) => p.name)).toContain('url');
  });

  it('serves a human-readable reference page', async () => {
    const res = await call('/docs');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/html');
    expect(await res.text()).toContain('API reference');
  });
});
