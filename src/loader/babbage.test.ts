import { describe, expect, it } from 'vitest';
import moldova from '../../../shared/fixtures/expected/babbage-model-boost-moldova.json';
import ukCra from '../../../shared/fixtures/expected/babbage-model-uk-cra.json';
import moldovaPackage from '../../../shared/fixtures/fdp/boost-moldova/datapackage.json';
import ukCraPackage from '../../../shared/fixtures/fdp/uk-cra/datapackage.json';
import { buildBabbageModel } from './babbage';
import { parseDescriptor } from './descriptor';
import { columnNames, factTableName } from './naming';

describe('the babbage model equals the original loader output for the fixture packages', () => {
  it.each([
    ['boost-moldova', moldovaPackage, moldova],
    ['uk-cra', ukCraPackage, ukCra],
  ])('%s: table, columns and model key for key', (_name, descriptor, expected) => {
    const pkg = parseDescriptor(descriptor);
    const table = factTableName(pkg.owner, pkg.name);
    const columns = ['_id', ...columnNames(pkg.resource.fields.map((f) => f.name))];
    const model = buildBabbageModel(pkg, table, columns);
    expect(table).toBe(expected.table);
    expect(columns).toEqual(expected.columns);
    expect(model).toStrictEqual(expected.model);
    // Insertion order decides the _2 suffixes, so the name order must match too.
    expect(Object.keys(model.dimensions)).toEqual(Object.keys(expected.model.dimensions));
    expect(Object.keys(model.measures)).toEqual(Object.keys(expected.model.measures));
  });

  it('accepts a raw descriptor and computes the columns itself', () => {
    const model = buildBabbageModel(moldovaPackage, moldova.table);
    expect(model).toStrictEqual(moldova.model);
  });
});

/** A descriptor with a given model over fields f1..fn (titles optional). */
function pkgWith(model: unknown, fields: Array<{ name: string; type?: string; title?: string }>) {
  return parseDescriptor({
    name: 'p',
    owner: 'o',
    author: 'a <a@b.c>',
    resources: [{ name: 'r', path: 'r.csv', schema: { fields: fields.map((f) => ({ type: 'string', ...f })) } }],
    model,
  });
}

describe('babbage model naming rules', () => {
  it('a single-key dimension collides with its hierarchy and becomes <name>_2, carrying every attribute', () => {
    const pkg = pkgWith(
      {
        measures: { 'Total Amount': { source: 'amt', currency: 'USD' } },
        dimensions: { payee: { attributes: { id: { source: 'pid' }, name: { source: 'pname', labelfor: 'id' }, city: { source: 'pcity' } }, primaryKey: 'id' } },
      },
      [{ name: 'amt', type: 'number', title: 'Amount' }, { name: 'pid' }, { name: 'pname' }, { name: 'pcity' }],
    );
    expect(buildBabbageModel(pkg, 't')).toStrictEqual({
      fact_table: 't',
      measures: { Total_Amount: { label: 'Amount', column: 'amt', orig_measure: 'Total Amount', currency: 'USD' } },
      dimensions: {
        payee_2: {
          attributes: {
            id: { column: 'pid', label: 'pid', datatype: 'string', orig_attribute: 'id' },
            name: { column: 'pname', label: 'pname', datatype: 'string', orig_attribute: 'name' },
            city: { column: 'pcity', label: 'pcity', datatype: 'string', orig_attribute: 'city' },
          },
          label: 'pid',
          key_attribute: 'id',
          orig_dimension: 'payee',
          label_attribute: 'name',
        },
      },
      hierarchies: { payee: { levels: ['payee_2'], label: 'Payee' } },
    });
  });

  it('a multi-key dimension gives one dimension per key (labels only), named <dim>_<key>', () => {
    const pkg = pkgWith(
      {
        measures: { amount: { source: 'a' } },
        dimensions: {
          'economic-classification': {
            attributes: { l1: { source: 'c1' }, l1_label: { source: 'n1', labelfor: 'l1' }, l2: { source: 'c2', parent: 'l1' }, note: { source: 'x' } },
            primaryKey: ['l1', 'l2'],
          },
        },
      },
      [{ name: 'a', type: 'number' }, { name: 'c1' }, { name: 'n1' }, { name: 'c2' }, { name: 'x' }],
    );
    const model = buildBabbageModel(pkg, 't');
    expect(Object.keys(model.dimensions)).toEqual(['economic_classification_l1', 'economic_classification_l2']);
    expect(Object.keys(model.dimensions.economic_classification_l1?.attributes ?? {})).toEqual(['l1', 'l1_label']);
    expect(Object.keys(model.dimensions.economic_classification_l2?.attributes ?? {})).toEqual(['l2']);
    expect(model.hierarchies).toEqual({
      economic_classification: { levels: ['economic_classification_l1', 'economic_classification_l2'], label: 'Economic Classification' },
    });
  });

  it('measure and dimension names share one taken set, and empty slugs fall back', () => {
    const pkg = pkgWith(
      { measures: { date: { source: 'a' }, '!!!': { source: 'a' } }, dimensions: { date: { attributes: { y: { source: 'y' } }, primaryKey: 'y' } } },
      [{ name: 'a', type: 'number' }, { name: 'y', type: 'integer' }],
    );
    const model = buildBabbageModel(pkg, 't');
    expect(Object.keys(model.measures)).toEqual(['date', 'measure']);
    expect(Object.keys(model.dimensions)).toEqual(['date_3']);
    expect(model.hierarchies).toEqual({ date_2: { levels: ['date_3'], label: 'Date 2' } });
    expect(model.dimensions.date_3?.attributes.y?.datatype).toBe('integer');
  });

  it('skips measures of another resource and has no hierarchies without dimensions', () => {
    const pkg = pkgWith({ measures: { a: { source: 'a' }, b: { source: 'zzz', resource: 'other' } }, dimensions: {} }, [{ name: 'a', type: 'number' }]);
    expect(buildBabbageModel(pkg, 't')).toStrictEqual({ fact_table: 't', measures: { a: { label: 'a', column: 'a', orig_measure: 'a' } }, dimensions: {} });
  });

  it('refuses a column list that does not match the fields', () => {
    const pkg = pkgWith({ measures: { a: { source: 'a' } }, dimensions: {} }, [{ name: 'a', type: 'number' }]);
    expect(() => buildBabbageModel(pkg, 't', ['x', 'y'])).toThrow('expected 1 column names, got 2');
  });
});
