import { describe, expect, it } from 'vitest';
import { encodeObjectKey, objectKey, relativePathProblem, segmentProblem, MAX_KEY_BYTES } from './paths.ts';

describe('relativePathProblem', () => {
  const accepted = [
    'datapackage.json',
    'data/boost-moldova-2014.csv',
    'a/b/c/d.csv',
    'file with spaces.csv',
    'Total_EU_Allocations_per_MS_for_2014-2020.csv',
    'données/été.csv',
    'a..b/c.csv', // dots inside a name are not traversal
    '...csv',
    '%2e%2e/x.csv', // literal percent signs: a name, never decoded into '..'
    'file+plus&amp=eq?q#h.csv',
    '数据/表.csv',
    '😀.csv',
    'data/__proto__',
    '__proto__.csv',
  ];
  it.each(accepted)('accepts the relative path %j', (path) => {
    expect(relativePathProblem(path)).toBeNull();
  });

  const refused: Array<[string, string]> = [
    ['', 'is empty'],
    ['__proto__', 'is a reserved name'],
    ['/etc/passwd', 'is an absolute path'],
    ['/data.csv', 'is an absolute path'],
    ['C:/data.csv', 'is an absolute path'],
    ['c:data.csv', 'is an absolute path'],
    ['../other-owner/x.csv', "has a '..' segment"],
    ['data/../../x.csv', "has a '..' segment"],
    ['..', "has a '..' segment"],
    ['./data.csv', "has a '.' segment"],
    ['data/./x.csv', "has a '.' segment"],
    ['data//x.csv', 'has an empty segment'],
    ['data/', 'has an empty segment'],
    ['data\\x.csv', 'contains a backslash'],
    ['..\\..\\x.csv', 'contains a backslash'],
    ['data/x\n.csv', 'contains a control character'],
    ['data/x\r.csv', 'contains a control character'],
    ['x\u0000.csv', 'contains a control character'],
    ['x\u007f.csv', 'contains a control character'],
    ['x\u0085.csv', 'contains a control character'],
    ['x\ud800.csv', 'is not valid Unicode'],
    ['x\udc00.csv', 'is not valid Unicode'],
  ];
  it.each(refused)('refuses %j because it %s', (path, why) => {
    expect(relativePathProblem(path)).toBe(why);
  });
});

describe('segmentProblem (owner id and dataset name)', () => {
  it.each(['0123456789abcdef0123456789abcdef', 'boost-moldova', 'my dataset', 'a..b', 'été'])(
    'accepts %j',
    (value) => {
      expect(segmentProblem(value)).toBeNull();
    },
  );

  const refused: Array<[string, string]> = [
    ['', 'is empty'],
    ['a/b', "contains '/'"],
    ['..', "is '..'"],
    ['.', "is '.'"],
    ['a\\b', 'contains a backslash'],
    ['a\tb', 'contains a control character'],
    ['x'.repeat(256), 'is longer than 255 characters'],
    ['\udfff', 'is not valid Unicode'],
  ];
  it.each(refused)('refuses %j because it %s', (value, why) => {
    expect(segmentProblem(value)).toBe(why);
  });
});

describe('objectKey', () => {
  it('joins owner, dataset name and relative path with slashes', () => {
    expect(objectKey('u1', 'ds', 'data/x.csv')).toBe('u1/ds/data/x.csv');
  });

  it.each([
    ['u1/../u2', 'ds', 'x.csv'],
    ['u1', '..', 'x.csv'],
    ['u1', 'ds', '../x.csv'],
    ['u1', 'ds', '/x.csv'],
  ])('refuses to build a key from unchecked unsafe parts (%j, %j, %j)', (owner, name, path) => {
    expect(() => objectKey(owner, name, path)).toThrow(/unsafe/);
  });

  it(`refuses keys longer than ${MAX_KEY_BYTES} bytes of UTF-8`, () => {
    const path = 'é'.repeat(510); // 1020 bytes, plus 'u/d/' = 1024
    expect(objectKey('u', 'd', path)).toHaveLength(514);
    expect(() => objectKey('u', 'd', path + 'x')).toThrow(/1024 bytes/);
  });
});

describe('encodeObjectKey', () => {
  const cases: Array<[string, string]> = [
    ['u/ds/data/x.csv', 'u/ds/data/x.csv'],
    ['u/ds/a b.csv', 'u/ds/a%20b.csv'],
    ['u/ds/a+b.csv', 'u/ds/a%2Bb.csv'],
    ['u/ds/q?x#y.csv', 'u/ds/q%3Fx%23y.csv'],
    ["u/ds/it's(1)*!.csv", 'u/ds/it%27s%281%29%2A%21.csv'],
    ['u/ds/%2e%2e/x', 'u/ds/%252e%252e/x'],
    ['u/ds/été.csv', 'u/ds/%C3%A9t%C3%A9.csv'],
    ['u/ds/a~b_c-d.e', 'u/ds/a~b_c-d.e'],
  ];
  it.each(cases)('encodes each segment of %j on its own: %j', (key, encoded) => {
    expect(encodeObjectKey(key)).toBe(encoded);
  });
});
