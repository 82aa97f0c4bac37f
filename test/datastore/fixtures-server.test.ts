/**
 * The loopback server that hands the shared fixture packages to tests inside
 * workerd (tools/services/static.ts): files only, nothing outside its folder.
 */
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';

const base = () => env.OS_TEST_FIXTURES_URL ?? '';

describe('fixtures server', () => {
  it('serves a fixture file with its length and a JSON content type', async () => {
    const res = await fetch(`${base()}/fdp/boost-moldova/datapackage.json`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/json');
    const text = await res.text();
    expect(Number(res.headers.get('content-length'))).toBe(new TextEncoder().encode(text).length);
    expect((JSON.parse(text) as { name?: string }).name).toBeTruthy();
  });

  it.each([
    ['an encoded parent step', '/fdp%2f..%2f..%2fspec%2fREADME.md'],
    ['an encoded parent step at the start', '/..%2f..%2fetc%2fpasswd'],
    ['a directory', '/fdp/boost-moldova'],
    ['a missing file', '/fdp/none.csv'],
    ['a NUL byte', '/fdp/boost-moldova/datapackage.json%00.csv'],
  ])('answers 404 for %s', async (_what, path) => {
    const res = await fetch(`${base()}${path}`);
    expect(res.status).toBe(404);
  });

  it('refuses writes', async () => {
    const res = await fetch(`${base()}/fdp/x.csv`, { method: 'PUT', body: 'x' });
    expect(res.status).toBe(405);
  });
});
