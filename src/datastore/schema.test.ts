import { MAX_MULTIPART_OBJECT_BYTES } from './multipart.ts';
import { describe, expect, it } from 'vitest';
import {
  AuthorizeRequest,
  CONTENT_TYPE,
  describeIssue,
  isBase64Md5,
  isValidLength,
  MAX_FILES,
  MAX_OBJECT_BYTES,
} from './schema.ts';

describe('isBase64Md5', () => {
  const cases: Array<[string, boolean]> = [
    ['1B2M2Y8AsgTpgAmY7PhCfg==', true], // MD5 of the empty string
    ['XUFAKrxLKna5cZ2REBfFkg==', true],
    ['AAAAAAAAAAAAAAAAAAAAAA==', true],
    ['d41d8cd98f00b204e9800998ecf8427e', false], // hex, as some tools print it
    ['1B2M2Y8AsgTpgAmY7PhCfg', false], // padding missing
    ['1B2M2Y8AsgTpgAmY7PhCfh==', false], // non-zero trailing bits: not what an encoder emits
    ['AAAAAAAAAAAAAAAAAAAAAAAAAAA=', false], // 20 bytes
    ['1B2M2Y8AsgTpgAmY7PhCf-==', false], // base64url alphabet
    [' 1B2M2Y8AsgTpgAmY7PhCfg==', false],
    ['1B2M2Y8AsgTpgAmY7PhCfg==\n', false],
    ['', false],
  ];
  it.each(cases)('%j -> %s', (value, ok) => {
    expect(isBase64Md5(value)).toBe(ok);
  });
});

describe('isValidLength', () => {
  const cases: Array<[unknown, boolean]> = [
    [0, true],
    [1234, true],
    [MAX_OBJECT_BYTES, true],
    // Above one PUT's 5 GiB: in parts, up to S3's 5 TiB object.
    [MAX_OBJECT_BYTES + 1, true],
    [MAX_MULTIPART_OBJECT_BYTES, true],
    [String(MAX_MULTIPART_OBJECT_BYTES), true],
    ['1234', true], // os-cli sends strings
    ['0', true],
    [MAX_MULTIPART_OBJECT_BYTES + 1, false],
    [String(MAX_MULTIPART_OBJECT_BYTES + 1), false],
    ['00000000000001', false],
    [-1, false],
    [1.5, false],
    [Number.NaN, false],
    [Number.POSITIVE_INFINITY, false],
    ['-1', false],
    ['1e3', false],
    ['12 ', false],
    ['', false],
    ['0x10', false],
    [true, false],
    [null, false],
  ];
  it.each(cases)('%j -> %s', (value, ok) => {
    expect(isValidLength(value)).toBe(ok);
  });
});

describe('CONTENT_TYPE', () => {
  const cases: Array<[string, boolean]> = [
    ['application/octet-stream', true],
    ['text/csv', true],
    ['text/csv; charset=utf-8', true],
    ['', false],
    [' text/csv', false],
    ['text/csv ', false],
    ['text/csv;  charset=utf-8', false], // runs of spaces are collapsed differently by servers
    ['text/csv\r\nX-Injected: 1', false],
    ['text/csv\tx', false],
    ['texte/été', false],
  ];
  it.each(cases)('%j -> %s', (value, ok) => {
    expect(CONTENT_TYPE.test(value)).toBe(ok);
  });
});

describe('AuthorizeRequest and describeIssue', () => {
  const md5 = '1B2M2Y8AsgTpgAmY7PhCfg==';
  const base = (filedata: unknown, metadata: unknown = { owner: 'u', name: 'd' }) => ({ metadata, filedata });
  const cases: Array<[string, unknown, string | null]> = [
    ['a valid request', base({ 'a.csv': { md5, name: 'a', length: 1 } }), null],
    ['extra metadata and file keys are ignored', base({ 'a.csv': { md5, name: 'a', length: 1, x: 1 } }, { owner: 'u', name: 'd', author: 'A' }), null],
    ['no filedata', { metadata: { owner: 'u', name: 'd' } }, 'filedata: is missing'],
    ['a file without md5', base({ 'a.csv': { name: 'a', length: 1 } }), 'filedata["a.csv"].md5: is missing'],
    ['a bad path', base({ 'a/../b': { md5, name: 'a', length: 1 } }), `filedata["a/../b"]: path has a '..' segment`],
    ['an owner with a slash', base({}, { owner: 'a/b', name: 'd' }), "metadata.owner: contains '/'"],
    ['a string body', 'x', 'body: must be a JSON object'],
  ];
  it.each(cases)('%s -> %j', (_what, body, message) => {
    const result = AuthorizeRequest.safeParse(body);
    if (message === null) expect(result.success).toBe(true);
    else expect(result.success ? null : describeIssue(result.error)).toBe(message);
  });

  it(`accepts ${MAX_FILES} files and refuses one more`, () => {
    const files = (n: number) =>
      Object.fromEntries(Array.from({ length: n }, (_, i) => [`f${i}.csv`, { md5, name: 'f', length: i }]));
    expect(AuthorizeRequest.safeParse(base(files(MAX_FILES))).success).toBe(true);
    const over = AuthorizeRequest.safeParse(base(files(MAX_FILES + 1)));
    expect(over.success ? null : describeIssue(over.error)).toBe(`filedata: has more than ${MAX_FILES} files`);
  });
});
