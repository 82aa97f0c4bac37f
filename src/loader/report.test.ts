import { describe, expect, it } from 'vitest';
import { createRowChecker } from './cast';
import { addErrors, buildReport, cellErrors, emptyValidation, missingLabel, suggestFixes, summarySentence, type StoredError } from './report';
import type { Field } from './types';

const fields: Field[] = [
  { name: 'id', type: 'integer', constraints: { required: true } },
  { name: 'amount', type: 'number' },
  { name: 'when', type: 'date' },
];
const header = ['id', 'amount', 'when'];
const check = createRowChecker(fields, { header });

describe('createRowChecker', () => {
  /** [rule, values, [type, field, position, value] of each problem] */
  const cases: Array<[string, string[], Array<[string, string, number, string]>]> = [
    ['a good row has no problem', ['1', '2.5', '2015-01-01'], []],
    ['every bad cell of a row, in column order', ['x', 'n/a', '01/02/2015'], [['type', 'id', 1, 'x'], ['type', 'amount', 2, 'n/a'], ['type', 'when', 3, '01/02/2015']]],
    ['an empty required value', ['', '1', '2015-01-01'], [['required', 'id', 1, '']]],
    ['an empty optional value is fine', ['1', '', ''], []],
    ['a short row: a missing cell per absent field, the rest still checked', ['1', 'n/a'], [['type', 'amount', 2, 'n/a'], ['missing', 'when', 3, '']]],
    ['a long row: an extra cell per value beyond the header', ['1', '2', '2015-01-01', 'x', 'y'], [['extra', '', 4, 'x'], ['extra', '', 5, 'y']]],
  ];
  it.each(cases)('%s', (_rule, values, expected) => {
    expect(check(values, 7).map((p) => [p.kind, p.field, p.position, p.value])).toEqual(expected);
  });

  it('says type errors as the caster does, with frictionless notes', () => {
    const [p] = check(['1', 'n/a', '2015-01-01'], 12);
    expect(p).toMatchObject({ message: 'row 12, column "amount": "n/a" is not a number', note: 'type is "number/default"' });
    expect(check(['', '1', '2015-01-01'], 3)[0]?.note).toBe('constraint "required" is "True"');
  });
});

const typeError = (row: number, fieldName: string, cell: string, fieldNumber = 2): StoredError => ({
  type: 'type-error',
  dataRow: row,
  fieldName,
  fieldNumber,
  cell,
  message: `row ${row}, column "${fieldName}": ${JSON.stringify(cell)} is not a number`,
  note: 'type is "number/default"',
});

describe('addErrors and the cap', () => {
  it('keeps errors up to the cap and says when it is reached', () => {
    const state = emptyValidation();
    expect(addErrors(state, [typeError(1, 'a', 'x'), typeError(2, 'a', 'x')], 3)).toBe(true);
    expect(addErrors(state, [typeError(3, 'a', 'x'), typeError(4, 'a', 'x')], 3)).toBe(false);
    expect(state.errors.map((e) => e.dataRow)).toEqual([1, 2, 3]);
    expect(state.capped).toBe(true);
  });

  it('truncates values to 100 characters', () => {
    const [e] = cellErrors([{ kind: 'type', field: 'a', position: 1, value: 'v'.repeat(5000), message: 'm', note: 'n' }], 1);
    expect(e?.cell).toBe(`${'v'.repeat(100)}…`);
  });
});

describe('summarySentence', () => {
  const state = (errors: StoredError[], capped = false) => ({ rows: 10, errors, capped });
  const cases: Array<[string, ReturnType<typeof state>, string]> = [
    ['one error: its message', state([typeError(12, 'amount', 'n/a')]), 'row 12, column "amount": "n/a" is not a number'],
    [
      'more errors: counted, with the columns',
      state([typeError(12, 'amount', 'n/a'), typeError(13, 'amount', 'x'), typeError(13, 'total', 'x'), typeError(20, 'tax', '-')]),
      'row 12, column "amount": "n/a" is not a number (and 3 more errors in 3 columns)',
    ],
    [
      'one more error in one column',
      state([typeError(1, 'a', 'x'), typeError(2, 'a', 'y')]),
      'row 1, column "a": "x" is not a number (and 1 more error in 1 column)',
    ],
    [
      'at the cap: at least, and where the report stops',
      state(Array.from({ length: 1000 }, (_, i) => typeError(i + 1, 'a', 'x')), true),
      'row 1, column "a": "x" is not a number (and at least 999 more errors in 1 column; the report stops at 1,000 errors)',
    ],
  ];
  it.each(cases)('%s', (_rule, s, sentence) => {
    expect(summarySentence(s)).toBe(sentence);
  });
});

describe('suggestFixes', () => {
  const schema: Field[] = [
    { name: 'amount', type: 'number' },
    { name: 'count', type: 'integer' },
    { name: 'when', type: 'date' },
    { name: 'label', type: 'string' },
  ];
  const te = (field: string, cell: string, row = 1): StoredError => ({ ...typeError(row, field, cell), fieldName: field });
  /** [rule, errors, expected changes ([target, field, change])] */
  const cases: Array<[string, StoredError[], Array<[string, string | undefined, Record<string, unknown>]>]> = [
    ['the same token in numeric columns: missingValues', [te('amount', 'n/a'), te('count', 'n/a', 2)], [['schema', undefined, { missingValues: ['', 'n/a'] }]]],
    ['a token seen once is no pattern', [te('amount', 'n/a')], []],
    ['thousands separators: groupChar', [te('amount', '1,000'), te('amount', '12,345.5', 2)], [['field', 'amount', { groupChar: ',' }]]],
    ['dots between thousands and a decimal comma', [te('amount', '1.234,5'), te('amount', '10.000', 2)], [['field', 'amount', { groupChar: '.', decimalChar: ',' }]]],
    ['a decimal comma alone', [te('amount', '12,5'), te('amount', '0,25', 2)], [['field', 'amount', { decimalChar: ',' }]]],
    ['spaces between thousands and a decimal comma', [te('amount', '1 234,5')], [['field', 'amount', { groupChar: ' ', decimalChar: ',' }]]],
    ['separators that do not group by three are no pattern', [te('amount', '12,34,5')], []],
    ['an integer column with separators becomes a number', [te('count', '1,000')], [['field', 'count', { type: 'number', groupChar: ',' }]]],
    ['dates day first: the only format that fits', [te('when', '13/01/2015'), te('when', '01/02/2015', 2)], [['field', 'when', { format: '%d/%m/%Y' }]]],
    ['dates month first', [te('when', '01/13/2015')], [['field', 'when', { format: '%m/%d/%Y' }]]],
    ['dates with month names', [te('when', '3 Jan 2015')], [['field', 'when', { format: '%d %b %Y' }]]],
    ['mixed garbage: nothing obvious', [te('amount', '12abc'), te('when', 'soon')], []],
  ];
  it.each(cases)('%s', (_rule, errors, expected) => {
    expect(suggestFixes(errors, schema, [''], ',').map((s) => [s.target, s.field, s.change])).toEqual(expected);
  });

  it('says when day and month cannot be told apart', () => {
    const [s] = suggestFixes([te('when', '01/01/2015')], schema, [''], ',');
    expect(s?.message).toContain('"%m/%d/%Y" also fits the values seen');
  });

  it('a header that names the schema when split at ";": the dialect', () => {
    const e = missingLabel('amount', 1, ['amount;count;when;label'], 'the CSV has no column …');
    expect(suggestFixes([e], schema, [''], ',').map((s) => s.change)).toEqual([{ delimiter: ';' }]);
  });
});

describe('buildReport', () => {
  const base = { rows: 3, bytes: 100, fields: [{ name: 'a', type: 'number' }], seconds: 1.23456, header: true, error: null };
  it('a committed load is valid, with no errors', () => {
    expect(buildReport({ ...base, done: true, running: false, validation: null })).toEqual({
      valid: true,
      stats: { rows: 3, bytes: 100, fields: 1, seconds: 1.235, errors: 0 },
      warnings: [],
      errors: [],
      suggestions: [],
    });
  });

  it('frictionless row numbers count the header; titles, descriptions and tags are added', () => {
    const r = buildReport({ ...base, done: false, running: false, error: 'x', validation: { rows: 3, errors: [typeError(2, 'a', 'x', 1)], capped: true } });
    expect(r.valid).toBe(false);
    expect(r.warnings).toEqual(['reached error limit: 1']);
    expect(r.errors[0]).toMatchObject({ type: 'type-error', title: 'Type Error', rowNumber: 3, dataRow: 2, tags: ['#table', '#row', '#cell'] });
    expect(buildReport({ ...base, header: false, done: false, running: false, error: 'x', validation: { rows: 3, errors: [typeError(2, 'a', 'x', 1)], capped: false } }).errors[0]?.rowNumber).toBe(2);
  });

  it('a load that failed before reading data: its error as a package error', () => {
    const r = buildReport({ ...base, done: false, running: false, validation: null, error: 'datapackage.json is not valid JSON' });
    expect(r).toMatchObject({ valid: false, stats: { errors: 1 }, errors: [{ type: 'package-error', message: 'datapackage.json is not valid JSON' }] });
  });
});
