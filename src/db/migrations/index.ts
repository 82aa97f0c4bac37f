/**
 * Versioned schema migrations, applied in order by `migrate()` (from
 * `npm run migrate`, the dev stack and the test setup). Never edit a
 * migration that has shipped: add a new one.
 */
import identity from './0001_identity.ts';
import registry from './0002_registry.ts';
import loader from './0003_loader.ts';
import registrySearch from './0005_registry_search.ts';
import loginHop from './0006_login_hop.ts';
import loadDialect from './0007_load_dialect.ts';
import loadLifecycle from './0008_load_lifecycle.ts';
import userApiKeys from './0009_user_api_keys.ts';
import loadHistory from './0010_load_history.ts';

export interface Migration {
  id: string;
  sql: string;
}

export const MIGRATIONS: Migration[] = [identity, registry, loader, registrySearch, loginHop, loadDialect, loadLifecycle, userApiKeys, loadHistory];

interface Queryable {
  query(text: string, params?: unknown[]): Promise<{ rows: Record<string, unknown>[] }>;
}

/** Applies every migration not yet recorded in schema_migrations; returns the ids applied. */
export async function migrate(db: Queryable): Promise<string[]> {
  // One migrator at a time across processes.
  await db.query('SELECT pg_advisory_lock(7461023)');
  try {
    await db.query(
      'CREATE TABLE IF NOT EXISTS schema_migrations (id text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())',
    );
    const { rows } = await db.query('SELECT id FROM schema_migrations');
    const done = new Set(rows.map((r) => String(r.id)));
    const applied: string[] = [];
    for (const m of MIGRATIONS) {
      if (done.has(m.id)) continue;
      await db.query('BEGIN');
      try {
        await db.query(m.sql);
        await db.query('INSERT INTO schema_migrations (id) VALUES ($1)', [m.id]);
        await db.query('COMMIT');
      } catch (err) {
        await db.query('ROLLBACK');
        throw new Error(`migration ${m.id} failed: ${(err as Error).message}`);
      }
      applied.push(m.id);
    }
    return applied;
  } finally {
    await db.query('SELECT pg_advisory_unlock(7461023)');
  }
}
