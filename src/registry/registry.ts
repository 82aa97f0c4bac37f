/**
 * The package registry: Postgres is the system of record (table `packages`);
 * each row's `doc` is the os-package-registry document that the `packages`
 * search index mirrors.
 *
 * Every write here also queues the package id in `registry_index_outbox`, in
 * the same statement, so the change can never be lost on its way to the
 * search index: `syncIndex` (index-sync.ts) mirrors queued ids and removes
 * them from the outbox only once the index holds the row's current state.
 */
import type { Client } from '@neondatabase/serverless';
import type { Statement, StatementResult } from '../db/script.ts';

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

type Queryable = Pick<Client, 'query'>;

/** Owner part of a package id `<owner>:<name>`. */
export function ownerOf(id: string): string {
  const i = id.indexOf(':');
  return i < 0 ? '' : id.slice(0, i);
}

// Appended to every registry write: queue the changed id for the index.
// Re-queuing resets the retry state, since the row to mirror changed.
const ENQUEUE = `queued AS (
  INSERT INTO registry_index_outbox (package_id)
  SELECT id FROM changed
  ON CONFLICT (package_id) DO UPDATE SET queued_at = clock_timestamp(), attempts = 0,
    next_attempt_at = clock_timestamp(), last_error = NULL
)`;

// Epoch seconds, as the original's time.time(); now() is fixed within the
// statement, so the column and the document get the same value.
const NOW_EPOCH = 'extract(epoch FROM now())::double precision';

/** The statement that inserts or replaces a package's registry document (and queues it for the index). */
export function upsertPackageStatement(doc: RegistryDocument): Statement {
  return {
    text: `WITH changed AS (
       INSERT INTO packages (id, owner, doc, private, loaded, last_update, updated_at)
       VALUES ($1, $2, $3, $4, $5, $6, now())
       ON CONFLICT (id) DO UPDATE SET owner = EXCLUDED.owner, doc = EXCLUDED.doc, private = EXCLUDED.private,
         loaded = EXCLUDED.loaded, last_update = EXCLUDED.last_update, updated_at = now()
       RETURNING id
     ), ${ENQUEUE}
     SELECT id FROM changed`,
    values: [doc.id, ownerOf(doc.id), JSON.stringify(doc), doc.package?.private === true, doc.loaded !== false, doc.last_update],
  };
}

/** Inserts or replaces a package's registry document (and queues it for the index). */
export async function upsertPackage(db: Queryable, doc: RegistryDocument): Promise<void> {
  const { text, values } = upsertPackageStatement(doc);
  await db.query(text, values as unknown[]);
}

/** The statement that reads a package's registry document; packageFrom reads its answer. */
export function getPackageStatement(id: string): Statement {
  return { text: 'SELECT doc FROM packages WHERE id = $1', values: [id] };
}

/** The document getPackageStatement answered, or null. */
export function packageFrom(result: StatementResult | undefined): RegistryDocument | null {
  const row = result?.rows[0];
  return row ? (row.doc as RegistryDocument) : null;
}

/** The registry document of a package, or null. */
export async function getPackage(db: Queryable, id: string): Promise<RegistryDocument | null> {
  const { text, values } = getPackageStatement(id);
  const { rows } = await db.query(text, values as unknown[]);
  return packageFrom({ rows, rowCount: rows.length });
}

/**
 * What decides who may read the files of `owner`'s packages: origin_url,
 * loaded, and package.{owner,private,resources} of each (not whole documents:
 * models can be large).
 */
export async function fileFactsOf(
  db: Queryable,
  owner: string,
): Promise<Pick<RegistryDocument, 'origin_url' | 'loaded' | 'package'>[]> {
  const { rows } = await db.query(
    `SELECT jsonb_build_object(
       'origin_url', doc -> 'origin_url', 'loaded', doc -> 'loaded',
       'package', jsonb_build_object('owner', doc #> '{package,owner}', 'private', doc #> '{package,private}',
                                     'resources', doc #> '{package,resources}')
     ) AS facts
     FROM packages WHERE owner = $1`,
    [owner],
  );
  return rows.map((r) => r.facts as Pick<RegistryDocument, 'origin_url' | 'loaded' | 'package'>);
}

/** `true`/`false` publish or hide; `toggle` flips the current state. */
export type PublishMode = 'true' | 'false' | 'toggle';

/**
 * Sets `package.private` (published = not private) and refreshes
 * `last_update`. Returns the new published state, or null when the package
 * does not exist.
 */
export async function setPublished(db: Queryable, id: string, mode: PublishMode): Promise<boolean | null> {
  const { rows } = await db.query(
    `WITH target AS (
       SELECT id, CASE $2::text
         WHEN 'true' THEN false
         WHEN 'false' THEN true
         ELSE NOT coalesce(doc #> '{package,private}' = 'true'::jsonb, false)
       END AS new_private
       FROM packages WHERE id = $1
     ), changed AS (
       UPDATE packages p SET
         private = t.new_private,
         last_update = ${NOW_EPOCH},
         doc = jsonb_set(jsonb_set(p.doc, '{package,private}', to_jsonb(t.new_private)),
                         '{last_update}', to_jsonb(${NOW_EPOCH})),
         updated_at = now()
       FROM target t WHERE p.id = t.id
       RETURNING p.id, p.private
     ), ${ENQUEUE}
     SELECT private FROM changed`,
    [id, mode],
  );
  return rows[0] ? !rows[0].private : null;
}

/** Removes a package's registry row (fact table and files stay). True when it existed. */
export async function deletePackage(db: Queryable, id: string): Promise<boolean> {
  const { rows } = await db.query(
    `WITH changed AS (DELETE FROM packages WHERE id = $1 RETURNING id), ${ENQUEUE}
     SELECT id FROM changed`,
    [id],
  );
  return rows.length > 0;
}

/**
 * Stores `params` (the whole update_params body, e.g. `{"params":"<JSON>"}`)
 * as `package.defaultParams`. False when the package does not exist.
 */
export async function setDefaultParams(db: Queryable, id: string, params: Record<string, unknown>): Promise<boolean> {
  const { rows } = await db.query(
    `WITH changed AS (
       UPDATE packages SET
         last_update = ${NOW_EPOCH},
         doc = jsonb_set(jsonb_set(doc, '{package,defaultParams}', $2::jsonb), '{last_update}', to_jsonb(${NOW_EPOCH})),
         updated_at = now()
       WHERE id = $1 AND jsonb_typeof(doc -> 'package') = 'object'
       RETURNING id
     ), ${ENQUEUE}
     SELECT id FROM changed`,
    [id, JSON.stringify(params)],
  );
  return rows.length > 0;
}
