/** Seeding the registry for endpoint tests. */
import { withDb } from '../../src/db/client.ts';
import { getPackage, upsertPackage, type RegistryDocument } from '../../src/registry/registry.ts';
import { config } from '../helpers/app.ts';

/** A registry document of `owner`, public and loaded unless told otherwise. */
export function registryDoc(
  owner: string,
  name: string,
  pkg: Record<string, unknown> = {},
  extra: Partial<RegistryDocument> = {},
): RegistryDocument {
  return {
    id: `${owner}:${name}`,
    model: { fact_table: `fdp__${name}` },
    package: { name, owner, title: `Budget ${name}`, private: false, count_of_rows: 3, ...pkg },
    origin_url: `http://datastore.test/${owner}/${name}/final/datapackage.json`,
    dataset: name,
    author: 'Test',
    loading_status: 'done',
    loaded: true,
    last_update: 1_650_000_000,
    ...extra,
  };
}

export function seed(...docs: RegistryDocument[]): Promise<void> {
  return withDb(config(), async (db) => {
    for (const doc of docs) await upsertPackage(db, doc);
  });
}

export function registryRow(id: string): Promise<RegistryDocument | null> {
  return withDb(config(), (db) => getPackage(db, id));
}
