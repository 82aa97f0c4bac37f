import { describe, expect, it } from 'vitest';
import { withDb } from '../../src/db/client.ts';
import { upsertPackage, type RegistryDocument } from '../../src/registry/registry.ts';
import { createPostgresBackend, searchPostgres, statsPostgres } from '../../src/search/postgres.ts';
import { config, newUserId } from '../helpers/app.ts';
import { runSearchContract } from './contract.ts';

runSearchContract(
  'postgres',
  () => createPostgresBackend(config()),
  (docs) =>
    withDb(config(), async (db) => {
      for (const doc of docs) await upsertPackage(db, doc);
    }),
);

function doc(owner: string, name: string, extra: Partial<RegistryDocument['package']>, loaded = true): RegistryDocument {
  return {
    id: `${owner}:${name}`,
    model: null,
    package: { name, owner, ...extra },
    origin_url: null,
    loaded,
    last_update: 1_700_000_000,
  };
}

describe('Postgres stats', () => {
  it('count only published, loaded packages: rows summed, distinct countries across lists', async () => {
    await withDb(config(), async (db) => {
      // A snapshot transaction: other suites' concurrent writes stay invisible.
      await db.query('BEGIN ISOLATION LEVEL REPEATABLE READ');
      try {
        const before = await statsPostgres(db);
        const owner = newUserId();
        const c1 = `Q${owner.slice(0, 6)}`;
        const c2 = `R${owner.slice(0, 6)}`;
        await upsertPackage(db, doc(owner, 'a', { private: false, count_of_rows: 7, countryCode: c1 }));
        await upsertPackage(db, doc(owner, 'b', { count_of_rows: 5, countryCode: [c1, c2] }));
        await upsertPackage(db, doc(owner, 'c', { private: true, count_of_rows: 1000, countryCode: `P${owner.slice(0, 6)}` }));
        await upsertPackage(db, doc(owner, 'd', { private: false, count_of_rows: 2000, countryCode: `U${owner.slice(0, 6)}` }, false));
        await upsertPackage(db, doc(owner, 'e', { private: false, count_of_rows: 'many' as unknown as number }));
        const after = await statsPostgres(db);
        expect(after.num_packages - before.num_packages).toBe(3);
        expect(after.num_records - before.num_records).toBe(12);
        expect(after.num_countries - before.num_countries).toBe(2);
      } finally {
        await db.query('ROLLBACK');
      }
    });
  });
});

describe('Postgres filters with awkward values', () => {
  it.each([
    ['a "quoted" title'],
    ['back\\slash \\" ) || true'],
    ['$v @ == "x" ? ('],
    ["it's; DROP TABLE packages; --"],
    ['ünïcødé 北京 \u2028 line'],
  ])('match %j exactly, as data', async (title) => {
    const owner = newUserId();
    await withDb(config(), async (db) => {
      await upsertPackage(db, doc(owner, 'awkward', { title, private: false }));
      const hit = await searchPostgres(db, {
        filters: [{ path: 'package.owner', value: owner }, { path: 'package.title', value: title }],
        size: 10, from: 0, userid: null,
      });
      expect(hit.hits.map((h) => h.package.title)).toEqual([title]);
      const miss = await searchPostgres(db, {
        filters: [{ path: 'package.owner', value: owner }, { path: 'id', value: `${owner}:awkward"` }],
        size: 10, from: 0, userid: null,
      });
      expect(miss.total).toBe(0);
    });
  });

  it('reports the total when the page is past the end', async () => {
    const owner = newUserId();
    await withDb(config(), async (db) => {
      await upsertPackage(db, doc(owner, 'one', { private: false }));
      const r = await searchPostgres(db, { filters: [{ path: 'package.owner', value: owner }], size: 10, from: 5, userid: null });
      expect(r).toEqual({ hits: [], total: 1 });
    });
  });
});
