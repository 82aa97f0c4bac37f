/**
 * The package registry: Postgres is the system of record (table `packages`);
 * each row's `doc` is the os-package-registry document that the `packages`
 * search index mirrors.
 */
import type { Client } from '@neondatabase/serverless';

/** The os-package-registry document (loader.md §1.2). */
export interface RegistryDocument {
  id: string;
  model: Record<string, unknown> | null;
  package: Record<string, unknown> & { owner?: string; private?: boolean };
  origin_url: string | null;
  dataset?: string | null;
  author?: string | null;
  loading_status?: string | null;
  loaded: boolean;
  /** epoch seconds */
  last_update: number;
  [extra: string]: unknown;
}

/** Owner part of a package id `<owner>:<name>`. */
export function ownerOf(id: string): string {
  const i = id.indexOf(':');
  return i < 0 ? '' : id.slice(0, i);
}

/** Inserts or replaces a package's registry document. */
export async function upsertPackage(db: Pick<Client, 'query'>, doc: RegistryDocument): Promise<void> {
  await db.query(
    `INSERT INTO packages (id, owner, doc, private, loaded, last_update, updated_at)
     VALUES ($1, $2, $3, $4, $5, $6, now())
     ON CONFLICT (id) DO UPDATE SET owner = EXCLUDED.owner, doc = EXCLUDED.doc, private = EXCLUDED.private,
       loaded = EXCLUDED.loaded, last_update = EXCLUDED.last_update, updated_at = now()`,
    [doc.id, ownerOf(doc.id), JSON.stringify(doc), doc.package?.private === true, doc.loaded !== false, doc.last_update],
  );
}

/** The registry document of a package, or null. */
export async function getPackage(db: Pick<Client, 'query'>, id: string): Promise<RegistryDocument | null> {
  const { rows } = await db.query('SELECT doc FROM packages WHERE id = $1', [id]);
  return rows[0] ? (rows[0].doc as RegistryDocument) : null;
}
