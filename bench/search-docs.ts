/**
 * Registry documents for the search benchmark: N packages shaped like the
 * real Moldova BOOST document (shared fixtures), varied the way a real
 * catalogue is: owners (md5 user ids) holding from one to many packages,
 * titles and descriptions from a vocabulary of budget terms and places,
 * countries, regions and cities, models of 2 to 14 dimensions and 1 to 3
 * measures (so documents range from a few KiB to the full ≈ 26 KiB),
 * private and unloaded packages, last updates over ten years. Deterministic
 * (fixed seed), so runs compare.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { RegistryDocument } from '../src/registry/registry.ts';
import { prng } from './generate.ts';

const fixturesDir = process.env.OS_TEST_FIXTURES_DIR ?? fileURLToPath(new URL('../../shared/fixtures', import.meta.url));

const PLACES: Array<[country: string, region: string | null, city: string | null, place: string]> = [
  ['MD', null, null, 'Moldova'],
  ['RO', 'RO-CJ', 'Cluj-Napoca', 'Cluj-Napoca'],
  ['UA', null, null, 'Ukraine'],
  ['ZA', 'ZA-WC', null, 'Western Cape'],
  ['ZA', 'ZA-GT', 'Johannesburg', 'City of Johannesburg'],
  ['MX', null, null, 'México'],
  ['MX', 'MX-JAL', 'Guadalajara', 'Guadalajara'],
  ['BR', 'BR-SP', 'São Paulo', 'São Paulo'],
  ['BR', null, null, 'Brasil'],
  ['GB', null, null, 'United Kingdom'],
  ['GB', 'GB-ENG', 'Camden', 'London Borough of Camden'],
  ['DE', 'DE-BE', 'Berlin', 'Berlin'],
  ['DE', null, null, 'Deutschland'],
  ['FR', null, 'Paris', 'Ville de Paris'],
  ['IT', null, null, 'Italia'],
  ['KE', null, null, 'Kenya'],
  ['NG', 'NG-LA', null, 'Lagos State'],
  ['IN', 'IN-MH', 'Mumbai', 'Maharashtra'],
  ['PH', null, null, 'Philippines'],
  ['CO', null, 'Bogotá', 'Bogotá'],
  ['US', 'US-CA', 'Oakland', 'City of Oakland'],
  ['CA', null, null, 'Canada'],
  ['ES', null, 'Madrid', 'Ayuntamiento de Madrid'],
  ['PT', null, null, 'Portugal'],
  ['BG', null, null, 'Bulgaria'],
];
const KINDS = [
  'Budget',
  'Spending',
  'Expenditure',
  'Revenue',
  'Approved budget',
  'Executed budget',
  'BOOST',
  'Procurement',
  'Municipal budget',
  'Health spending',
  'Education budget',
  'Transport expenditure',
  'Social protection',
  'Capital investment',
  'Grants',
];
const SENTENCES = [
  'Government expenditure by administrative, economic and functional classification.',
  'Data published by the Ministry of Finance and cleaned for comparison across years.',
  'Approved, adjusted and executed amounts in local currency.',
  'Includes transfers to local governments and the health and education sectors.',
  'Figures are nominal; no adjustment for inflation has been made.',
  'Source: the open budget portal, downloaded and converted to a fiscal data package.',
  'Revenue by source, including taxes, grants and borrowing.',
  'Line-item spending of the city council, by department and programme.',
  'Quarterly execution reports, consolidated into one table.',
  'Part of a series maintained by the budget transparency group.',
];
const FIRST = ['Ana', 'Ion', 'Maria', 'Thabo', 'Lucía', 'João', 'Emma', 'Lukas', 'Chloé', 'Giulia', 'Wanjiru', 'Chidi', 'Priya', 'José', 'Sam'];
const LAST = ['Popescu', 'Rusu', 'Nkosi', 'García', 'Silva', 'Smith', 'Müller', 'Dubois', 'Rossi', 'Otieno', 'Okafor', 'Patel', 'Reyes', 'Lee'];

function pick<T>(rnd: () => number, list: readonly T[]): T {
  return list[Math.floor(rnd() * list.length)] as T;
}

/** The first `n` keys of an object, in a shuffled order. */
function subset(rnd: () => number, obj: Record<string, unknown>, n: number): Record<string, unknown> {
  const keys = Object.keys(obj).sort(() => rnd() - 0.5).slice(0, Math.max(1, n));
  return Object.fromEntries(keys.map((k) => [k, obj[k]]));
}

export interface Catalogue {
  docs: RegistryDocument[];
  /** The owner with the most packages (os-admin's "my datasets" for them). */
  biggestOwner: string;
}

/** `count` registry documents, deterministic for a given count. */
export function catalogue(count: number): Catalogue {
  const moldova = (JSON.parse(readFileSync(`${fixturesDir}/expected/es-doc-boost-moldova.json`, 'utf8')) as [string, RegistryDocument])[1];
  const model = moldova.model as { dimensions: Record<string, unknown>; measures: Record<string, unknown> } & Record<string, unknown>;
  const pkgModel = moldova.package.model as { dimensions: Record<string, unknown>; measures: Record<string, unknown> };
  const rnd = prng(20261202);
  // A few owners hold many packages, most hold one or two (Zipf-like weights).
  const owners = Array.from({ length: Math.max(1, Math.ceil(count / 8)) }, (_, i) =>
    createHash('md5').update(`owner${i}@example.org`).digest('hex'),
  );
  const weights = owners.map((_, i) => 1 / (i + 1));
  const totalWeight = weights.reduce((a, b) => a + b, 0);
  const ownerOf = (): string => {
    let x = rnd() * totalWeight;
    for (let i = 0; i < owners.length; i++) if ((x -= weights[i]!) <= 0) return owners[i]!;
    return owners.at(-1)!;
  };
  const held = new Map<string, number>();
  const docs: RegistryDocument[] = [];
  for (let i = 0; i < count; i++) {
    const owner = ownerOf();
    held.set(owner, (held.get(owner) ?? 0) + 1);
    const [countryCode, regionCode, cityCode, place] = pick(rnd, PLACES);
    const kind = pick(rnd, KINDS);
    const year = 2008 + Math.floor(rnd() * 18);
    const name = `${kind}-${place}-${year}-${i}`.toLowerCase().normalize('NFD').replace(/[^a-z0-9]+/g, '-');
    const dims = 2 + Math.floor(rnd() * 13);
    const measures = 1 + Math.floor(rnd() * 3);
    const author = `${pick(rnd, FIRST)} ${pick(rnd, LAST)} <${owner.slice(0, 8)}@example.org>`;
    const description = Array.from({ length: Math.floor(rnd() * 4) }, () => pick(rnd, SENTENCES)).join(' ');
    const resource = (moldova.package.resources as Array<Record<string, unknown>>)[0]!;
    const lastUpdate = 1_450_000_000 + Math.floor(rnd() * 330_000_000);
    docs.push({
      ...moldova,
      id: `${owner}:${name}`,
      author: author.replace(/ <.*$/, ''),
      dataset: name,
      origin_url: `https://datastore.example.org/${owner}/${name}/final/datapackage.json`,
      model: {
        ...model,
        fact_table: `fdp__${owner.slice(0, 8)}__${name.replace(/-/g, '_')}`.slice(0, 63),
        dimensions: subset(rnd, model.dimensions, Math.min(dims, 14)),
        measures: subset(rnd, model.measures, measures),
      },
      package: {
        ...moldova.package,
        name,
        owner,
        author,
        title: `${kind} ${place} ${year}`,
        description,
        countryCode,
        ...(regionCode ? { regionCode } : {}),
        ...(cityCode ? { cityCode } : {}),
        fiscalPeriod: { start: `${year}-01-01`, end: `${year}-12-31` },
        model: {
          ...pkgModel,
          dimensions: subset(rnd, pkgModel.dimensions, Math.ceil(dims / 3)),
          measures: subset(rnd, pkgModel.measures, measures),
        },
        resources: [{ ...resource, name, path: `data/${name}.csv`, bytes: Math.floor(rnd() * 1e8) }],
        private: rnd() < 0.15,
        count_of_rows: Math.floor(10 ** (2 + rnd() * 5)),
      },
      loaded: rnd() > 0.08,
      last_update: lastUpdate,
    });
  }
  const biggestOwner = [...held].sort((a, b) => b[1] - a[1])[0]![0];
  return { docs, biggestOwner };
}
