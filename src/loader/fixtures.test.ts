/**
 * Every real package in the shared fixtures, end to end through the pure
 * loader core: descriptor -> CSV bytes -> cast rows (-> babbage model), with
 * the outcome the fixtures README requires (load, or fail with a clear error).
 */
import { describe, expect, it } from 'vitest';
import moldovaPackage from '../../../shared/fixtures/fdp/boost-moldova/datapackage.json';
import moldovaCsv from '../../../shared/fixtures/fdp/boost-moldova/data/boost-moldova-2014.csv?raw';
import ukPackage from '../../../shared/fixtures/fdp/uk-cra/datapackage.json';
import ukCsv from '../../../shared/fixtures/fdp/uk-cra/dataset.csv?raw';
import packagerPackage from '../../../shared/fixtures/fdp/packager-example/datapackage.json';
import packagerCsv from '../../../shared/fixtures/fdp/packager-example/example-resource.csv?raw';
import alPackage from '../../../shared/fixtures/fdp/demos/al-treasury-spending/datapackage.json';
import alCsv from '../../../shared/fixtures/fdp/demos/al-treasury-spending/data/treasury.csv?raw';
import euAllocPackage from '../../../shared/fixtures/fdp/demos/eu-allocations-per-ms-2014-2020/datapackage.json';
import euAllocCsv from '../../../shared/fixtures/fdp/demos/eu-allocations-per-ms-2014-2020/data/Total_EU_Allocations_per_MS_for_2014-2020.csv?raw';
import euAbsPackage from '../../../shared/fixtures/fdp/demos/eu-funds-absorption-rate-2007-2013/datapackage.json';
import euAbsCsv from '../../../shared/fixtures/fdp/demos/eu-funds-absorption-rate-2007-2013/data/2007-2013_Funds_Absoption_Rate.csv?raw';
import minimalPackage from '../../../shared/fixtures/fdp/spec-examples/minimal/datapackage.json';
import minimalCsv from '../../../shared/fixtures/fdp/spec-examples/minimal/budget.csv?raw';
import labelsPackage from '../../../shared/fixtures/fdp/spec-examples/labels-and-hierarchies/datapackage.json';
import labelsCsv from '../../../shared/fixtures/fdp/spec-examples/labels-and-hierarchies/budget.csv?raw';
import transformPackage from '../../../shared/fixtures/fdp/spec-examples/transform-needed/datapackage.json';
import transformCsv from '../../../shared/fixtures/fdp/spec-examples/transform-needed/budget.csv?raw';
import denormPackage from '../../../shared/fixtures/fdp/spec-examples/entities-denormalized/datapackage.json';
import denormCsv from '../../../shared/fixtures/fdp/spec-examples/entities-denormalized/budget.csv?raw';
import normPackage from '../../../shared/fixtures/fdp/spec-examples/entities-normalized/datapackage.json';
import supersimpleSpec from '../../../shared/fixtures/source-specs/supersimple/fiscal.source-spec.yaml?raw';
import supersimpleCsv from '../../../shared/fixtures/source-specs/supersimple/budget.csv?raw';
import esDoc from '../../../shared/fixtures/expected/es-doc-boost-moldova.json';
import { buildBabbageModel } from './babbage';
import { castOptionsFor, createRowCaster, CastError } from './cast';
import { CsvParser } from './csv';
import { DescriptorError, parseDescriptor } from './descriptor';
import { factTableName, packageId } from './naming';
import type { FiscalPackage } from './types';

const OWNER = '667df60aa07c34260eae9b55b2778712';

/** The descriptor with owner/author added when it has none (os-packager adds them; the demos predate that). */
function withOwner(descriptor: object): Record<string, unknown> {
  return { owner: OWNER, author: 'Fixture Loader <fixtures@example.org>', ...structuredClone(descriptor) };
}

/** Loads a package the way the queue consumer will: CSV bytes in chunks, header mapping, casting. */
function load(descriptor: unknown, csv: string): { pkg: FiscalPackage; rows: Array<Array<string | null>> } {
  const pkg = parseDescriptor(descriptor);
  const parser = new CsvParser(pkg.resource.dialect, pkg.resource.encoding);
  const bytes = new TextEncoder().encode(csv);
  const parsed = [];
  for (let i = 0; i < bytes.length; i += 65536) parsed.push(...parser.push(bytes.subarray(i, i + 65536)));
  parsed.push(...parser.end());
  const cast = createRowCaster(pkg.resource.fields, castOptionsFor(pkg, parser.header));
  return { pkg, rows: parsed.map((r) => cast(r.fields, r.row)) };
}

function failure(fn: () => unknown): Error {
  try {
    fn();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a failure');
}

/** The supersimple source spec's `header` / `columnType` pairs, read from the YAML text. */
function supersimpleDescriptor(): Record<string, unknown> {
  const fields = [...supersimpleSpec.matchAll(/- header: (\S+)\s+options: \{\}\s+columnType: (\S+)/g)].map((m) => ({ name: m[1], columnType: m[2] }));
  const name = /dataset-name: (\S+)/.exec(supersimpleSpec)?.[1];
  const owner = /owner-id: (\S+)/.exec(supersimpleSpec)?.[1];
  return { name, owner, author: 'Fixture Loader', resources: [{ name: 'ssimple', path: 'budget.csv', schema: { fields } }] };
}

describe('fixture packages that must load', () => {
  it('boost-moldova: 2000 rows, factors applied to the data, legacy partial codes joined', () => {
    const { rows, pkg } = load(moldovaPackage, moldovaCsv);
    expect(rows).toHaveLength(2000);
    const col = (name: string) => pkg.resource.fields.findIndex((f) => f.name === name);
    const first = rows[0] as Array<string | null>;
    expect(first[col('year')]).toBe('2014');
    expect(first[col('approved')]).toBe('49756100000'); // 49756100 x factor 1000
    expect(first[col('adjusted')]).toBe('51906100'); // no factor
    expect(first[col('executed')]).toBe('5171022338.00'); // 51710223.38 x factor 100
    expect(first[col('admin2!')]).toBe('Central - 101'); // :code:part joined with its parent
    expect(first[col('admin3 (code)')]).toBe('0101'); // :code:full kept
    expect(first[col('admin4 (code)')]).toBe(''); // empty own part stays empty
    expect(first[col('func2 (code)')]).toBe('01 - 01.01');
  });

  it('uk-cra: 2000 rows with booleans and amounts', () => {
    const { rows, pkg } = load(ukPackage, ukCsv);
    expect(rows).toHaveLength(2000);
    const dept = pkg.resource.fields.findIndex((f) => f.name === 'from_gov_department');
    expect(new Set(rows.map((r) => r[dept]))).toEqual(new Set(['true']));
    const amount = pkg.resource.fields.findIndex((f) => f.name === 'amount');
    expect(rows.every((r) => /^-?\d+(\.\d+)?$/.test(r[amount] ?? ''))).toBe(true);
  });

  it('packager-example: fmt: dates, extra CSV columns ignored', () => {
    const { rows, pkg } = load(withOwner(packagerPackage), packagerCsv);
    expect(rows).toHaveLength(9);
    expect(rows[0]).toEqual(['2015-07-14', '159.67']);
    expect(pkg.resource.url).toMatch(/^https:\/\//);
  });

  it('al-treasury-spending (mapping): integers beyond 2^31 kept exactly', () => {
    const { rows, pkg } = load(withOwner(alPackage), alCsv);
    expect(rows).toHaveLength(40);
    expect(pkg.descriptor.model).toBeDefined();
    expect(pkg.descriptor.mapping).toBeUndefined();
    const receipt = pkg.resource.fields.findIndex((f) => f.name === 'Receipt No');
    expect(rows[0]?.[receipt]).toBe('42710050012014');
    expect(Math.max(...rows.map((r) => Number(r[receipt])))).toBeGreaterThan(2 ** 31);
  });

  it('eu-allocations (mapping): amounts up to 2.3e10 and € inside string values', () => {
    const { rows, pkg } = load(withOwner(euAllocPackage), euAllocCsv);
    expect(rows).toHaveLength(252);
    const amount = pkg.resource.fields.findIndex((f) => f.name === 'Amount');
    expect(rows.map((r) => BigInt(r[amount] ?? '0')).reduce((a, b) => (a > b ? a : b))).toBeGreaterThan(2n ** 31n);
    expect(rows[0]?.[1]).toBe('Cohesion Fund (€)');
  });

  it('supersimple (columnType only): os-types model, types filled in, babbage model built', () => {
    const { rows, pkg } = load(supersimpleDescriptor(), supersimpleCsv);
    expect(rows).toHaveLength(8);
    expect(pkg.resource.fields.map((f) => [f.name, f.type])).toEqual([
      ['year', 'integer'], ['econ_cls', 'string'], ['admin_cls', 'string'], ['amount', 'number'],
    ]);
    expect(rows[0]).toEqual(['2014', 'salaries', 'education', '1000']);
    expect(pkg.resource.fields[3]).toMatchObject({ groupChar: ',', decimalChar: '.' });
    const model = buildBabbageModel(pkg, factTableName(pkg.owner, pkg.name));
    expect(model.fact_table).toBe('fdp__667df60aa07c3426__super_simple__' + model.fact_table.slice(-8));
    expect(Object.keys(model.measures)).toEqual(['amount']);
    expect(Object.keys(model.dimensions)).toEqual(['date_2', 'economic_classification_2', 'administrative_classification_2']);
  });
});

describe('the original registry document for boost-moldova', () => {
  const [id, doc] = esDoc as [string, { author: string; dataset: string; package: { author: string }; model: Record<string, unknown> }];

  it('has the same id, author rewrite and model (apart from the older fact_table rule)', () => {
    const pkg = parseDescriptor(moldovaPackage);
    expect(packageId(pkg.owner, pkg.name)).toBe(id);
    expect(pkg.author).toBe(doc.author);
    expect(pkg.descriptor.author).toBe(doc.package.author);
    expect(pkg.name).toBe(doc.dataset);
    const { fact_table: ours, ...model } = buildBabbageModel(pkg, factTableName(pkg.owner, pkg.name));
    const { fact_table: theirs, ...expected } = doc.model;
    expect(model).toStrictEqual(expected);
    expect([ours, theirs]).toEqual(['fdp__example_example__boost_moldova__2a069cdb', 'fdp__example_example_com__boost_moldova']);
  });
});

describe('fixture packages that must fail with a clear error', () => {
  it('eu-funds-absorption-rate: Year typed date with values like 2007', () => {
    const error = failure(() => load(withOwner(euAbsPackage), euAbsCsv));
    expect(error).toBeInstanceOf(CastError);
    expect(error.message).toBe('row 1, column "Year": "2007" is not a date (dates must be YYYY-MM-DD unless the field has a "format" (e.g. "%d/%m/%Y"))');
  });

  it('labels-and-hierarchies: 01/01/2015 typed date without a format', () => {
    const error = failure(() => load(withOwner(labelsPackage), labelsCsv));
    expect(error).toBeInstanceOf(CastError);
    expect(error.message).toMatch(/^row 1, column "budget_date": "01\/01\/2015" is not a date/);
  });

  it('minimal: the CSV columns are not the schema fields (and its dates have no format)', () => {
    const error = failure(() => load(withOwner(minimalPackage), minimalCsv));
    expect(error).toBeInstanceOf(CastError);
    expect(error.message).toBe('the CSV has no column "expenditure", "year" of the schema (its header is: "pk", "budget", "budget_date")');
    // Even with the columns renamed, the day-first dates fail to cast.
    const renamed = minimalCsv.replace('pk,budget,budget_date', 'pk,expenditure,year');
    expect(failure(() => load(withOwner(minimalPackage), renamed)).message).toMatch(/column "year": "01\/01\/2015" is not a date/);
  });

  it('transform-needed: a bare year typed date', () => {
    expect(failure(() => load(withOwner(transformPackage), transformCsv)).message).toMatch(/^row 1, column "year": "2014" is not a date/);
  });

  it('entities-denormalized: header does not have the schema fields', () => {
    expect(failure(() => load(withOwner(denormPackage), denormCsv)).message).toMatch(/the CSV has no column "expenditure", "year"/);
  });

  it('entities-normalized: the model refers to fields resources[0] does not have', () => {
    const error = failure(() => parseDescriptor(withOwner(normPackage)));
    expect(error).toBeInstanceOf(DescriptorError);
    expect((error as DescriptorError).problems).toEqual([
      'measure "amount": source "budget" is not a field of resources[0]',
      'dimension "date", attribute "year": source "year" is not a field of resources[0]',
      'dimension "payee", attribute "title": source "title" is not a field of resources[0]',
      'dimension "payee", attribute "description": source "description" is not a field of resources[0]',
    ]);
  });

  it.each([
    ['demos without owner', euAllocPackage, /"owner" is required/],
    ['packager output without author', packagerPackage, /"author" is required/],
  ])('%s are refused until the uploader is known', (_name, descriptor, message) => {
    expect(() => parseDescriptor(descriptor)).toThrow(message);
  });
});
