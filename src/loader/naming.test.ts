import { describe, expect, it } from 'vitest';
import moldova from '../../../shared/fixtures/expected/babbage-model-boost-moldova.json';
import moldovaPackage from '../../../shared/fixtures/fdp/boost-moldova/datapackage.json';
import ukCra from '../../../shared/fixtures/expected/babbage-model-uk-cra.json';
import ukCraPackage from '../../../shared/fixtures/fdp/uk-cra/datapackage.json';
import { md5Hex } from './md5';
import { columnNames, databaseName, factTableName, packageId, pythonTitle, slugify } from './naming';

describe('md5Hex', () => {
  it.each([
    ['', 'd41d8cd98f00b204e9800998ecf8427e'],
    ['abc', '900150983cd24fb0d6963f7d28e17f72'],
    ['The quick brown fox jumps over the lazy dog', '9e107d9d372bb6826bd81d3542a419d6'],
    ['x'.repeat(56), '668a72d5ba17f08e62dabcafad6db14b'],
    ['a'.repeat(1000), 'cabe45dcc9ae5b66ba86600cca6b8ba8'],
  ])('digests %j like RFC 1321', (input, hex) => {
    expect(md5Hex(input)).toBe(hex);
  });
});

describe('slugify keeps case, transliterates and splits on non-alphanumerics', () => {
  it.each<[string, Parameters<typeof slugify>[1], string]>([
    ['Година', {}, 'Godina'],
    ['Dépenses réalisées', {}, 'Depenses_realisees'],
    ['officer@data.gov.uk', {}, 'officer_data_gov_uk'],
    ['economic-classification_Chapitre', { maxLength: 30 }, 'economic_classification'],
    ['admin3 (code)', { maxLength: 30 }, 'admin3_code'],
    ['admin2!', { maxLength: 30 }, 'admin2'],
    ["l'Année", {}, 'lAnnee'],
    ['ШИРОКИЙ', {}, 'SHIROKII'],
    ['Straße Œuvre', {}, 'Strasse_OEuvre'],
    ['__a__b__', {}, 'a_b'],
    ['!!!', {}, ''],
    ['Mixed Case', { toLower: true }, 'mixed_case'],
    ['a-b', { separator: '-' }, 'a-b'],
    // word-skipping: the long middle word is skipped, the short last one still fits
    ['aaaa bbbbbbbbbb cc', { maxLength: 8 }, 'aaaa_cc'],
    // a first word longer than the limit is cut
    ['abcdefghij', { maxLength: 4 }, 'abcd'],
  ])('%j %j -> %j', (input, options, slug) => {
    expect(slugify(input, options)).toBe(slug);
  });
});

describe('databaseName de-duplicates with _2, _3 and falls back when empty', () => {
  it.each<[string, string[], string | undefined, string]>([
    ['admin2*', ['admin2'], undefined, 'admin2_2'],
    ['x', ['x', 'x_2'], undefined, 'x_3'],
    ['???', [], undefined, 'column'],
    ['???', [], 'measure', 'measure'],
    ['date', ['date'], 'dimension', 'date_2'],
  ])('%j taken %j -> %j', (name, taken, fallback, expected) => {
    expect(databaseName(name, new Set(taken), fallback)).toBe(expected);
  });
});

describe('factTableName follows the original fdp__<owner16>__<name22>__<md5-8> rule', () => {
  it.each([
    ['example@example.com', 'boost-moldova', 'fdp__example_example__boost_moldova__2a069cdb'],
    ['officer@data.gov.uk', 'ukgov-finances-cra', 'fdp__officer_data_gov__ukgov_finances_cra__8245df58'],
    ['667df60aa07c34260eae9b55b2778712', 'example', 'fdp__667df60aa07c3426__example__c807214a'],
  ])('%s / %s -> %s', (owner, name, table) => {
    expect(factTableName(owner, name)).toBe(table);
  });

  it('never exceeds the Postgres identifier limit, even for long names', () => {
    const table = factTableName('x'.repeat(200), 'y-'.repeat(200));
    expect(table.length).toBeLessThanOrEqual(55);
    expect(table).toMatch(/^fdp__x{16}__[y_]+__[0-9a-f]{8}$/);
  });

  it('produces only safe identifier characters for hostile input', () => {
    expect(factTableName('a"; DROP TABLE x; --', 'n\u0000ame"')).toMatch(/^fdp__[A-Za-z0-9_]+$/);
  });
});

describe('columnNames matches the original for the fixture packages', () => {
  it.each([
    ['boost-moldova', moldovaPackage.resources[0]?.schema.fields ?? [], moldova.columns],
    ['uk-cra', ukCraPackage.resources[0]?.schema.fields ?? [], ukCra.columns],
  ])('%s', (_label, fields, expected) => {
    expect(['_id', ...columnNames(fields.map((f) => f.name))]).toEqual(expected);
  });

  it('never hands out _id and de-duplicates in field order', () => {
    expect(columnNames(['_id', 'id', 'a b', 'a-b', 'a_b', ''])).toEqual(['id', 'id_2', 'a_b', 'a_b_2', 'a_b_3', 'column']);
  });
});

describe('packageId and pythonTitle', () => {
  it('joins owner and name with a colon, name as given', () => {
    expect(packageId('8c248ff162c3c3b957f487138850eaf2', 'ekondo-titi-trial')).toBe(
      '8c248ff162c3c3b957f487138850eaf2:ekondo-titi-trial',
    );
  });
  it.each([
    ['economic classification', 'Economic Classification'],
    ['date', 'Date'],
    ['cofog1 2', 'Cofog1 2'],
    ['a1b', 'A1B'],
    ['ALL CAPS', 'All Caps'],
  ])('title-cases %j like Python as %j', (input, output) => {
    expect(pythonTitle(input)).toBe(output);
  });
});
