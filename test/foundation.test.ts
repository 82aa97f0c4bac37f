import { env, exports } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { getConfig } from '../src/config.ts';
import { withDb } from '../src/db/client.ts';

describe('foundation', () => {
  it('answers unknown paths with a JSON 404', async () => {
    const res = await exports.default.fetch('http://conductor.test/no/such/path');
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ error: 'not found' });
    expect(res.headers.get('x-request-id')).toBeTruthy();
  });

  it('reaches the real Postgres through the Neon driver and the WebSocket proxy', async () => {
    const config = getConfig(env);
    const rows = await withDb(config, async (db) => (await db.query('SELECT id FROM schema_migrations ORDER BY id')).rows);
    expect(rows.map((r) => r.id)).toContain('0001_identity');
  });
});
