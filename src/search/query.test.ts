import { describe, expect, it } from 'vitest';
import { isUnsearchablePath, isVisibleTo, parseSearchParams } from './query.ts';

function ok(params: Record<string, string | string[]>) {
  const r = parseSearchParams(params);
  if (!r.ok) throw new Error(`expected success, got ${r.error}`);
  return r;
}

function error(params: Record<string, string | string[]>): string {
  const r = parseSearchParams(params);
  if (r.ok) throw new Error('expected an error');
  return r.error;
}

describe('parseSearchParams', () => {
  it('defaults to 100 results from the start, no text, no filters, no sort', () => {
    expect(ok({}).query).toEqual({ q: undefined, filters: [], size: 100, from: 0, sort: undefined });
  });

  it.each([
    ['"budget"', 'budget'],
    ['"  Moldova BOOST "', 'Moldova BOOST'],
    ['2014', '2014'],
    ['""', undefined],
  ])('decodes q=%s as %j', (raw, expected) => {
    expect(ok({ q: raw }).query.q).toBe(expected);
  });

  it.each([['budget'], ['{"a":1}'], ['[1]'], ['null']])('refuses q=%s (not a JSON string)', (raw) => {
    expect(error({ q: raw })).toMatch(/q/);
  });

  it.each([
    ['package.owner', '"abc"', 'abc'],
    ['id', '"abc:budget"', 'abc:budget'],
    ['loaded', 'false', false],
    ['last_update', '1500000000.5', 1500000000.5],
    ['package.countryCode', '["MD","RO"]', ['MD', 'RO']],
    ['origin_url', '"http://x/y"', 'http://x/y'],
    ['model.fact_table', '"t"', 't'],
  ])('turns %s=%s into a filter', (path, raw, value) => {
    expect(ok({ [path]: raw }).query.filters).toEqual([{ path, value }]);
  });

  it.each([['callback'], ['_'], ['dataset'], ['packages.owner'], ['author'], ['jwt']])(
    'does not treat %s as a filter',
    (key) => {
      expect(ok({ [key]: '"x"' }).query.filters).toEqual([]);
    },
  );

  it('uses only the first value of a repeated key', () => {
    const r = ok({ 'package.owner': ['"a"', '"b"'], size: ['5', '7'], q: ['"x"', 'not json'] });
    expect(r.query.filters).toEqual([{ path: 'package.owner', value: 'a' }]);
    expect(r.query.size).toBe(5);
    expect(r.query.q).toBe('x');
  });

  it.each([
    [{ 'package.owner': 'abc' }, /invalid JSON in parameter package.owner/],
    [{ id: '{"a":1}' }, /filter id must be/],
    [{ loaded: 'null' }, /filter loaded must be/],
    [{ 'package.title': '[]' }, /filter package.title must be/],
    [{ 'package..title': '"x"' }, /invalid filter name/],
    [{ 'package.title': JSON.stringify('x'.repeat(5000)) }, /longer than 4096/],
    [{ q: JSON.stringify('x'.repeat(1001)) }, /q is longer than 1000/],
  ])('refuses bad filter %j', (params, message) => {
    expect(error(params)).toMatch(message);
  });

  it.each([
    ['0', 0],
    ['10000', 10000],
    ['"250"', 250],
    ['+5', 5],
  ])('accepts size=%s', (raw, size) => {
    expect(ok({ size: raw }).query.size).toBe(size);
  });

  it.each([
    ['10001', /at most 10000/],
    ['-1', /whole number/],
    ['ten', /whole number/],
    ['1.5', /whole number/],
    ['', /whole number/],
  ])('refuses size=%s', (raw, message) => {
    expect(error({ size: raw })).toMatch(message);
  });

  it('pages with from, within the 10000-result window', () => {
    expect(ok({ from: '20', size: '10' }).query.from).toBe(20);
    expect(ok({ from: '9950', size: '100' }).query).toMatchObject({ from: 9950, size: 50 });
    expect(ok({ from: '10000' }).query).toMatchObject({ from: 10000, size: 0 });
    expect(error({ from: '10001' })).toMatch(/from must be at most 10000/);
    expect(error({ from: '-3' })).toMatch(/from must be a whole number/);
  });

  it.each([
    ['last_update', { field: 'last_update', order: 'desc' }],
    ['last_update:asc', { field: 'last_update', order: 'asc' }],
    ['title', { field: 'title', order: 'asc' }],
    ['id:desc', { field: 'id', order: 'desc' }],
    ['"title:desc"', { field: 'title', order: 'desc' }],
  ])('reads sort=%s', (raw, sort) => {
    expect(ok({ sort: raw }).query.sort).toEqual(sort);
  });

  it.each([['score'], ['title:up'], ['package.title'], ['']])('refuses sort=%s', (raw) => {
    expect(error({ sort: raw })).toMatch(/sort/);
  });

  it('reads an empty q or filter as absent (the document allows them)', () => {
    expect(ok({ q: '', 'package.owner': '' }).query).toEqual({ q: undefined, filters: [], size: 100, from: 0, sort: undefined });
  });

  it.each([
    ['q', '"a\\u0000b"'],
    ['q', '"\\ud800"'],
    ['q', '"x\\udc00y"'],
    ['package.title', '"a\\u0000"'],
    ['package.title', '["ok", "\\udfff"]'],
    ['package.ti\u0000tle', '"x"'],
  ])('refuses %s=%s (NUL or an unpaired surrogate)', (key, raw) => {
    expect(error({ [key]: raw })).toMatch(/NUL or unpaired surrogates/);
  });

  it('accepts paired surrogates (emoji) in q and filters', () => {
    expect(ok({ q: '"\\ud83d\\ude00"' }).query.q).toBe('\u{1F600}');
    expect(ok({ 'package.title': '"\u{1F600}"' }).query.filters).toEqual([{ path: 'package.title', value: '\u{1F600}' }]);
  });

  it('passes the jwt through for verification, an empty one meaning none', () => {
    expect(ok({ jwt: 'abc.def.ghi' }).jwt).toBe('abc.def.ghi');
    expect(ok({ jwt: '' }).jwt).toBeUndefined();
  });

  it('refuses more than 32 filters', () => {
    const params: Record<string, string> = {};
    for (let i = 0; i < 33; i++) params[`package.f${i}`] = '"x"';
    expect(error(params)).toMatch(/at most 32 filters/);
  });
});

describe('isVisibleTo', () => {
  // The original's matrix: private x loaded, owner vs other user vs anonymous.
  it.each([
    [{ package: { owner: 'a', private: false }, loaded: true }, null, true],
    [{ package: { owner: 'a' }, loaded: true }, null, true],
    [{ package: { owner: 'a' } }, null, true],
    [{ package: { owner: 'a', private: true }, loaded: true }, null, false],
    [{ package: { owner: 'a', private: false }, loaded: false }, null, false],
    [{ package: { owner: 'a', private: true }, loaded: false }, null, false],
    [{ package: { owner: 'a', private: true }, loaded: false }, 'a', true],
    [{ package: { owner: 'a', private: true }, loaded: true }, 'a', true],
    [{ package: { owner: 'a', private: false }, loaded: false }, 'a', true],
    [{ package: { owner: 'a', private: true }, loaded: true }, 'b', false],
    [{ package: { owner: 'a', private: false }, loaded: false }, 'b', false],
    [{ package: { owner: 'a', private: false }, loaded: true }, 'b', true],
    [{ package: { private: true }, loaded: true }, '', false],
  ])('%j seen by %j: %s', (doc, userid, expected) => {
    expect(isVisibleTo(doc, userid)).toBe(expected);
  });
});

describe('isUnsearchablePath', () => {
  it.each([
    ['model', true],
    ['model.fact_table', true],
    ['package.model.measures', true],
    ['package.resources.schema.fields', true],
    ['package.resources.name', false],
    ['package.modelling', false],
    ['package.title', false],
  ])('%s is stored but not indexed: %s', (path, expected) => {
    expect(isUnsearchablePath(path)).toBe(expected);
  });
});
