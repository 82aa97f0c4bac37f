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

  it('serves a human-readable reference page', async () => {
    const res = await call('/docs');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/html');
    expect(await res.text()).toContain('API reference');
  });
});
