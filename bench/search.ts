/**
 * Search benchmark (npm run bench:search -- --packages N): fills a throw-away
 * Postgres registry with N packages built from the real Moldova BOOST
 * registry document (owners, titles, countries, private/loaded varied), then
 * times the Postgres search backend on the queries real clients send:
 * os-viewer/os-explorer's whole catalogue (size=10000), a free-text query,
 * os-admin's "my datasets", a paged sorted page, and /package/stats.
 * Prints the median and worst of several runs per query.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { migrate } from '../src/db/migrations/index.ts';
import { upsertPackage, type RegistryDocument } from '../src/registry/registry.ts';
import { searchPostgres, statsPostgres } from '../src/search/postgres.ts';
import type { SearchQuery } from '../src/search/types.ts';
import { connectNode } from '../tools/lib/db.ts';
import { startPostgres } from '../tools/services/postgres.ts';
import { positiveArg } from './lib/args.ts';

const COUNT = positiveArg('packages', 2000);
const RUNS = positiveArg('runs', 7);
const fixturesDir = process.env.OS_TEST_FIXTURES_DIR ?? fileURLToPath(new URL('../../shared/fixtures', import.meta.url));
const moldova = (JSON.parse(readFileSync(`${fixturesDir}/expected/es-doc-boost-moldova.json`, 'utf8')) as [string, RegistryDocument])[1];
const COUNTRIES = ['MD', 'RO', 'UA', 'ZA', 'MX', 'BR', 'GB', 'DE', 'FR', 'IT'];
const WORDS = ['budget', 'spending', 'revenue', 'health', 'education', 'transport', 'regional', 'municipal'];

function makeDoc(i: number): RegistryDocument {
  const owner = `owner${String(i % 50).padStart(4, '0')}`;
  const name = `package-${i}`;
  return {
    ...moldova,
    id: `${owner}:${name}`,
    package: {
      ...moldova.package,
      name,
      owner,
      title: `${WORDS[i % WORDS.length]} ${WORDS[(i * 7) % WORDS.length]} ${COUNTRIES[i % COUNTRIES.length]} ${2000 + (i % 20)}`,
      countryCode: COUNTRIES[i % COUNTRIES.length],
      private: i % 5 === 0,
      count_of_rows: 1000 + i,
    },
    loaded: i % 11 !== 0,
    last_update: 1_500_000_000 + i,
  };
}

async function time(label: string, fn: () => Promise<number>): Promise<void> {
  const ms: number[] = [];
  let hits = 0;
  for (let r = 0; r < RUNS; r++) {
    const t0 = performance.now();
    hits = await fn();
    ms.push(performance.now() - t0);
  }
  ms.sort((a, b) => a - b);
  const median = ms[Math.floor(ms.length / 2)]!;
  console.log(`${label.padEnd(46)} ${String(hits).padStart(6)} hits   median ${median.toFixed(1).padStart(7)} ms   worst ${ms.at(-1)!.toFixed(1).padStart(7)} ms`);
}

async function main(): Promise<void> {
  const pg = await startPostgres();
  const db = await connectNode(pg.url);
  try {
    await migrate(db.client);
    const t0 = performance.now();
    for (let i = 0; i < COUNT; i++) await upsertPackage(db.client, makeDoc(i));
    const docBytes = JSON.stringify(makeDoc(0)).length;
    console.log(`registry: ${COUNT} packages of ~${(docBytes / 1024).toFixed(1)} KiB, filled in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    await db.client.query('ANALYZE packages');

    const q = (over: Partial<SearchQuery>): SearchQuery => ({ filters: [], size: 100, from: 0, userid: null, ...over });
    await time('catalogue, anonymous, size=10000', async () => (await searchPostgres(db.client, q({ size: 10000 }))).hits.length);
    await time('q="health", anonymous, size=10000', async () => (await searchPostgres(db.client, q({ q: 'health', size: 10000 }))).hits.length);
    await time('my datasets: package.owner + jwt, size=10000', async () =>
      (await searchPostgres(db.client, q({ size: 10000, userid: 'owner0007', filters: [{ path: 'package.owner', value: 'owner0007' }] }))).hits.length);
    await time('id filter (os-viewer), size=10000', async () =>
      (await searchPostgres(db.client, q({ size: 10000, filters: [{ path: 'id', value: 'owner0001:package-1' }] }))).hits.length);
    await time('page 3 of 20, sort=last_update:desc', async () =>
      (await searchPostgres(db.client, q({ size: 20, from: 40, sort: { field: 'last_update', order: 'desc' } }))).hits.length);
    await time('stats', async () => (await statsPostgres(db.client)).num_packages);
  } finally {
    await db.close();
    await pg.stop();
  }
}

main().catch((err: Error) => {
  console.error(err.stack ?? err.message);
  process.exit(1);
});
