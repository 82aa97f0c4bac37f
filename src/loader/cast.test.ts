import { describe, expect, it } from 'vitest';
import { CastError, castsToPlainText, castsToRowText, compileDatePattern, createRowCaster, KNOWN_TYPES, partialCodeChains, valueCaster } from './cast';
import type { Field, FdpModel } from './types';

const f = (type: string, extra: Partial<Field> = {}): Field => ({ name: 'v', type, ...extra });

/** [rule, field, factor, input, output or error pattern] */
const ok: Array<[string, Field, number | undefined, string, string]> = [
  ['strings pass through untouched', f('string'), undefined, ' a "b" ', ' a "b" '],
  ['a euro sign in a string stays', f('string'), undefined, 'Cohesion Fund (€)', 'Cohesion Fund (€)'],
  ['numbers are canonical decimals', f('number'), undefined, '51710223.38', '51710223.38'],
  ['numbers accept exponents', f('number'), undefined, '1.5e3', '1500'],
  ['numbers accept a leading dot and sign', f('number'), undefined, '-.5', '-0.5'],
  ['surrounding whitespace is ignored', f('number'), undefined, ' 12 ', '12'],
  ['groupChar is removed', f('number', { groupChar: ',' }), undefined, '1,234,567.5', '1234567.5'],
  ['decimalChar is honoured', f('number', { decimalChar: ',', groupChar: '.' }), undefined, '1.234,50', '1234.50'],
  ['a dot group separator is not a decimal point', f('number', { decimalChar: ',', groupChar: '.' }), undefined, '1234.5', '12345'],
  ['a comma decimal point', f('number', { decimalChar: ',' }), undefined, '12,5', '12.5'],
  ['bareNumber false strips currency signs', f('number', { bareNumber: false }), undefined, '€1234.5', '1234.5'],
  ['format currency strips signs', f('number', { format: 'currency' }), undefined, '$ 10000', '10000'],
  ['factor multiplies exactly', f('number'), 1000, '49756.1', '49756100.0'],
  ['factor 100 on cents', f('number'), 100, '0.07', '7.00'],
  ['fractional factor', f('number'), 0.001, '1234', '1.234'],
  ['integers beyond 2^31 are kept exactly', f('integer'), undefined, '42710050012014', '42710050012014'],
  ['integers lose leading zeros and plus', f('integer'), undefined, '+007', '7'],
  ['integer factor', f('integer'), 1000, '-12', '-12000'],
  ['the largest BIGINT', f('integer'), undefined, '9223372036854775807', '9223372036854775807'],
  ['booleans by default values', f('boolean'), undefined, 'TRUE', 'true'],
  ['booleans by custom values', f('boolean', { trueValues: ['yes'], falseValues: ['no'] }), undefined, 'no', 'false'],
  ['ISO dates', f('date'), undefined, '2014-12-31', '2014-12-31'],
  ['ISO dates with one-digit parts (strptime)', f('date'), undefined, '2014-1-5', '2014-01-05'],
  ['strftime day-first dates', f('date', { format: '%d/%m/%Y' }), undefined, '01/02/2015', '2015-02-01'],
  ['legacy fmt: prefix', f('date', { format: 'fmt:%Y-%m-%d' }), undefined, '2015-07-14', '2015-07-14'],
  ['month names', f('date', { format: '%d %B %Y' }), undefined, '3 March 2016', '2016-03-03'],
  ['two-digit years', f('date', { format: '%d.%m.%y' }), undefined, '31.12.99', '1999-12-31'],
  ['any format, month first', f('date', { format: 'any' }), undefined, '01/02/2015', '2015-01-02'],
  ['a year-only format', f('date', { format: '%Y' }), undefined, '2007', '2007-01-01'],
  ['leap day', f('date'), undefined, '2016-02-29', '2016-02-29'],
  ['ISO datetimes', f('datetime'), undefined, '2015-01-31T13:45:00Z', '2015-01-31 13:45:00'],
  ['datetime offsets are converted to UTC', f('datetime'), undefined, '2015-01-01T01:30:00+02:00', '2014-12-31 23:30:00'],
  ['datetime patterns with AM/PM', f('datetime', { format: '%m/%d/%Y %I:%M %p' }), undefined, '12/31/2015 12:05 AM', '2015-12-31 00:05:00'],
  ['times', f('time'), undefined, '23:59:01', '23:59:01'],
  ['years', f('year'), undefined, '2014', '2014'],
  ['objects are JSON text', f('object'), undefined, '{ "a": 1 }', '{"a":1}'],
  ['arrays are JSON text', f('array'), undefined, '[1, 2]', '[1,2]'],
  ['geojson', f('geojson'), undefined, '{"type":"Point","coordinates":[1,2]}', '{"type":"Point","coordinates":[1,2]}'],
  ['fallback types are text', f('geopoint'), undefined, '1.5, 2', '1.5, 2'],
];

const bad: Array<[string, Field, number | undefined, string, RegExp]> = [
  ['letters in a number', f('number'), undefined, '12,x', /"12,x" is not a number/],
  ['thousands separators without groupChar', f('number'), undefined, '1,234,567', /set the field's "groupChar"/],
  ['NaN is not a number', f('number'), undefined, 'NaN', /not a number/],
  ['Infinity is not a number', f('number'), undefined, 'Infinity', /not a number/],
  ['a huge exponent', f('number'), undefined, '1e999999', /not a number/],
  ['a decimal in an integer', f('integer'), undefined, '1.5', /not an integer/],
  ['beyond BIGINT', f('integer'), undefined, '9223372036854775808', /too large for a 64-bit integer/],
  ['a factor making an integer fractional', f('integer'), 0.5, '3', /not an integer/],
  ['an unknown boolean', f('boolean'), undefined, 'maybe', /not a boolean/],
  ['day-first date without format', f('date'), undefined, '01/01/2015', /"01\/01\/2015" is not a date \(dates must be YYYY-MM-DD unless the field has a "format"/],
  ['a bare year typed date', f('date'), undefined, '2007', /"2007" is not a date/],
  ['February 30', f('date'), undefined, '2015-02-30', /not a date/],
  ['wrong pattern', f('date', { format: '%d/%m/%Y' }), undefined, '2015-01-01', /not a date in the format "%d\/%m\/%Y"/],
  ['a datetime without time', f('datetime'), undefined, '2015-01-01', /not a datetime/],
  ['hour 24', f('time'), undefined, '24:00:00', /not a time/],
  ['broken JSON', f('object'), undefined, '{a:1}', /not JSON/],
  ['an array where an object is expected', f('object'), undefined, '[1]', /not a JSON object/],
  ['a year with letters', f('year'), undefined, '20x4', /not a year/],
];

describe('createRowCaster casts values by type and format', () => {
  it.each(ok)('%s', (_rule, field, factor, input, output) => {
    const cast = createRowCaster([field], factor ? { factors: { v: factor } } : {});
    expect(cast([input], 1)).toEqual([output]);
  });

  it.each(bad)('rejects %s with row, column and value', (_rule, field, factor, input, message) => {
    const cast = createRowCaster([field], factor ? { factors: { v: factor } } : {});
    let caught: unknown;
    try {
      cast([input], 17);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(CastError);
    const error = caught as CastError;
    expect(error.message).toMatch(/^row 17, column "v": /);
    expect(error.message).toMatch(message);
    expect([error.row, error.column, error.value]).toEqual([17, 'v', input]);
  });
});

describe('missing values, required fields and columns', () => {
  const fields: Field[] = [f('number', { name: 'amount' }), f('string', { name: 'code', constraints: { required: true } })];

  it('turns missing values into NULL (default [""], field override wins)', () => {
    expect(createRowCaster([f('number')])([''], 1)).toEqual([null]);
    expect(createRowCaster([f('number')], { missingValues: ['', 'n/a'] })(['n/a'], 1)).toEqual([null]);
    expect(createRowCaster([f('string', { missingValues: ['-'] })])([''], 1)).toEqual(['']);
  });

  it('refuses a missing value in a required field', () => {
    expect(() => createRowCaster(fields)(['1', ''], 3)).toThrow('row 3, column "code": a value is required');
  });

  it('picks columns by header name and ignores extra CSV columns', () => {
    const cast = createRowCaster(fields, { header: ['code', 'extra', 'amount'] });
    expect(cast(['A', 'zzz', '2.5'], 1)).toEqual(['2.5', 'A']);
  });

  it('reports schema fields missing from the header', () => {
    expect(() => createRowCaster(fields, { header: ['pk', 'budget'] })).toThrow(
      /the CSV has no column "amount", "code" of the schema \(its header is: "pk", "budget"\)/,
    );
  });

  it('refuses rows of the wrong width', () => {
    expect(() => createRowCaster(fields)(['1'], 9)).toThrow('row 9 has 1 values but the schema has 2');
  });

  it('rejects an unsupported date directive when built', () => {
    expect(() => valueCaster(f('date', { format: '%Q' }))).toThrow(/unsupported date format directive "%Q"/);
    expect(compileDatePattern('fmt:%Y').source).toBe('%Y');
  });
});

describe('legacy :code:part codes join the parent chain like the original', () => {
  const fields: Field[] = [
    { name: 'admin1', type: 'string', osType: 'administrative-classification:generic:level1:code:full' },
    { name: 'admin2!', type: 'string', osType: 'administrative-classification:generic:level2:code:part' },
    { name: 'admin3', type: 'string', osType: 'administrative-classification:generic:level3:code:part' },
  ];
  const model: FdpModel = {
    measures: {},
    dimensions: {
      adm: {
        attributes: {
          a1: { source: 'admin1' },
          a2: { source: 'admin2!', parent: 'a1' },
          a3: { source: 'admin3', parent: 'a2' },
        },
        primaryKey: ['a1', 'a2', 'a3'],
      },
    },
  };

  it('computes the chains', () => {
    expect(partialCodeChains(model, fields)).toEqual({ 'admin2!': ['admin1', 'admin2!'], admin3: ['admin1', 'admin2!', 'admin3'] });
  });

  it.each([
    [['Central', '101', '7'], ['Central', 'Central - 101', 'Central - 101 - 7']],
    [['Central', '101', ''], ['Central', 'Central - 101', '']],
  ])('%j -> %j', (input, output) => {
    const cast = createRowCaster(fields, { partialCodes: partialCodeChains(model, fields) });
    expect(cast(input, 1)).toEqual(output);
  });

  it('refuses a part whose parent is not a coded key', () => {
    const broken: FdpModel = { measures: {}, dimensions: { adm: { attributes: { a2: { source: 'admin2!' } }, primaryKey: 'a2' } } };
    expect(() => partialCodeChains(broken, fields)).toThrow(/":code:part" osType, so its "parent" must name an earlier key/);
  });
});

describe('castsToPlainText', () => {
  // COPY skips escaping for these types, so no cast value may hold a tab, line break or backslash.
  const inputs: Record<string, string[]> = {
    integer: ['12', ' 12\t', '\n-7 ', '+3'],
    number: ['1.5', '\t1 000.25\n', ' -0.5 ', '1e3'],
    boolean: ['true', ' false\t', '\n1', '0'],
    date: ['2014-01-31', ' 2014-01-31\t', '\n2014-1-3 '],
    datetime: ['2015-01-31T13:45:00Z', ' 2015-01-31 13:45:00\t'],
    time: ['13:45:00', '\t13:45:00.25 '],
    year: ['2014', ' 2014\n'],
  };
  it.each(Object.entries(inputs))('%s values are plain', (type, values) => {
    expect(castsToPlainText(type)).toBe(true);
    const cast = valueCaster({ name: 'f', type } as Field);
    for (const v of values) {
      let out: string | undefined;
      try {
        out = cast(v);
      } catch {
        continue; // refused values are never written
      }
      expect(out, JSON.stringify(v)).not.toMatch(/[\\\t\n\r]/);
    }
  });

  it.each(['string', 'any', 'object', 'array', 'geojson', 'duration', 'geopoint', 'yearmonth'])('%s values are escaped', (type) => {
    expect(castsToPlainText(type)).toBe(false);
  });
});

describe('castsToRowText', () => {
  // COPY skips escaping these in a row whose CSV text has no special character, so the cast must keep the text as it is.
  it.each(['string', 'any', 'duration', 'geopoint', 'yearmonth'])('%s values are the CSV text as it is', (type) => {
    expect(castsToRowText(type)).toBe(true);
    const cast = valueCaster({ name: 'f', type } as Field);
    for (const v of ['x', ' padded ', 'P1Y2M', '12.5,-3.25', '2014-03', 'Jöhn €']) expect(cast(v)).toBe(v);
  });

  it.each(['object', 'array', 'geojson'])('%s values are re-serialised, so always checked', (type) => {
    expect(castsToRowText(type)).toBe(false);
    expect(castsToPlainText(type)).toBe(false);
  });

  it('every known type is plain, the row text, or checked JSON', () => {
    const json = new Set(['object', 'array', 'geojson']);
    for (const type of KNOWN_TYPES) expect(castsToPlainText(type) || castsToRowText(type) || json.has(type), type).toBe(true);
  });
});
