import { describe, expect, it } from 'vitest';
import { copyText, copyValue } from './copy-in.ts';

describe('COPY text format', () => {
  const cases: Array<[string | null, string]> = [
    [null, '\\N'],
    ['', ''],
    ['plain', 'plain'],
    ['a\tb', 'a\\tb'],
    ['line1\nline2\r\n', 'line1\\nline2\\r\\n'],
    ['back\\slash', 'back\\\\slash'],
    ['\\N', '\\\\N'],
    ['Jöhn €', 'Jöhn €'],
  ];
  it.each(cases)('%j is written as %j', (value, expected) => {
    expect(copyValue(value)).toBe(expected);
  });

  it('writes one tab-separated line per row', () => {
    expect(copyText([['1', 'a', null], ['2', 'b\tc', '']])).toBe('1\ta\t\\N\n2\tb\\tc\t\n');
  });

  it('skips the escape check only for the columns marked plain in each row', () => {
    const rows = [['12', 'x\ty', null], ['13', 'a\tb', 'c\\d']];
    expect(copyText(rows, [[true, false, true], [true, false, false]])).toBe('12\tx\\ty\t\\N\n13\ta\\tb\tc\\\\d\n');
    // A column marked plain is written as it is: the mark is a promise the caller keeps.
    expect(copyText(rows, [[true, false, true], [true, true, true]])).toBe('12\tx\\ty\t\\N\n13\ta\tb\tc\\d\n');
  });

  it('writes nothing for no rows', () => {
    expect(copyText([])).toBe('');
  });
});
