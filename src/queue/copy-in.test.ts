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

  it('skips the escape check only for columns marked plain', () => {
    const rows = [['12', 'x\ty', null]];
    expect(copyText(rows, [true, false, true])).toBe('12\tx\\ty\t\\N\n');
    expect(copyText(rows, [false, false, false])).toBe('12\tx\\ty\t\\N\n');
  });
});
