import { describe, expect, it } from 'vitest';
import { fileOfUrl, keyOfSegments, mayReadFile, packageFileKeys, type PackageFacts } from './files.ts';

const target = { scheme: 'https' as const, hostname: 's3.example.org', bucket: 'datastore' };
const BASE = 'https://s3.example.org/datastore';

describe('fileOfUrl', () => {
  it.each([
    [`${BASE}/u1/ds/data.csv`, 'u1/ds/data.csv'],
    [`${BASE}/u1/ds/data/2020/q1.csv`, 'u1/ds/data/2020/q1.csv'],
    ['https://s3.example.org:443/datastore/u1/ds/data.csv', 'u1/ds/data.csv'],
    ['HTTPS://S3.EXAMPLE.ORG/datastore/u1/ds/data.csv', 'u1/ds/data.csv'],
    [`${BASE}/u1/ds/file%20with%20spaces.csv`, 'u1/ds/file with spaces.csv'],
    [`${BASE}/u1/ds/donn%C3%A9es.csv`, 'u1/ds/données.csv'],
    // A literal percent sign in a name, not an escaped dot.
    [`${BASE}/u1/ds/%252e%252e.csv`, 'u1/ds/%2e%2e.csv'],
  ])('reads %s as the key %s', (url, key) => {
    expect(fileOfUrl(target, url)).toEqual({ key, owner: 'u1' });
  });

  it.each([
    ['another host', 'https://evil.example.org/datastore/u1/ds/data.csv'],
    ['another scheme', 'http://s3.example.org/datastore/u1/ds/data.csv'],
    ['another port', 'https://s3.example.org:8443/datastore/u1/ds/data.csv'],
    ['another bucket', 'https://s3.example.org/other/u1/ds/data.csv'],
    ['a bucket name prefix', 'https://s3.example.org/datastore-2/u1/ds/data.csv'],
    ['user info', 'https://me:pw@s3.example.org/datastore/u1/ds/data.csv'],
    ['a query', `${BASE}/u1/ds/data.csv?versionId=1`],
    ['a fragment', `${BASE}/u1/ds/data.csv#x`],
    ['a .. step', `${BASE}/u2/ds/../../u1/ds/data.csv`],
    ['an encoded .. step', `${BASE}/u1/ds/%2e%2e/x/data.csv`],
    ['a .. behind an encoded slash', `${BASE}/u1/ds/a%2F..%2F..%2Fx.csv`],
    ['a . step', `${BASE}/u1/ds/./data.csv`],
    ['a backslash', `${BASE}/u1/ds/a%5Cb.csv`],
    ['a control character', `${BASE}/u1/ds/a%0Ab.csv`],
    ['a bad escape', `${BASE}/u1/ds/%E0%A4%A.csv`],
    ['an empty segment', `${BASE}/u1/ds//data.csv`],
    ['a dataset folder only', `${BASE}/u1/ds`],
    ['an owner folder only', `${BASE}/u1/`],
    ['the bucket', `${BASE}/`],
    ['not a URL', 'u1/ds/data.csv'],
    ['another protocol', 'ftp://s3.example.org/datastore/u1/ds/data.csv'],
  ])('refuses %s', (_what, url) => {
    expect(fileOfUrl(target, url)).toBeNull();
  });
});

describe('keyOfSegments', () => {
  it('decodes each segment on its own', () => {
    expect(keyOfSegments(['u1', 'my%20ds', 'a', 'b%2Fc.csv'])).toEqual({ key: 'u1/my ds/a/b/c.csv', owner: 'u1' });
  });
  it.each([[['u1', 'ds']], [['u1%2Fx', 'ds', 'a.csv']], [['u1', '..', 'a.csv']], [['u1', 'ds', '']], [['', 'ds', 'a.csv']]])(
    'refuses %j',
    (segments) => {
      expect(keyOfSegments(segments)).toBeNull();
    },
  );
});

describe('packageFileKeys', () => {
  const doc = (resources: unknown, origin: unknown = `${BASE}/u1/ds/datapackage.json`): PackageFacts => ({
    origin_url: origin,
    loaded: true,
    package: { owner: 'u1', private: false, resources },
  });

  it.each([
    ['a relative path', [{ path: 'data/a.csv' }], ['u1/ds/data/a.csv']],
    ['chunked paths', [{ path: ['a.csv', 'b.csv'] }], ['u1/ds/a.csv', 'u1/ds/b.csv']],
    ['an absolute url in the bucket', [{ url: `${BASE}/u1/other/x.csv` }], ['u1/other/x.csv']],
    ['a url elsewhere', [{ url: 'https://example.org/x.csv' }], []],
    ['a path climbing out', [{ path: '../other/x.csv' }], []],
    ['an absolute path', [{ path: '/etc/passwd' }], []],
    ['no resources', undefined, []],
    ['junk resources', ['a.csv', null, 3, { path: 4 }], []],
  ])('%s', (_what, resources, keys) => {
    expect([...packageFileKeys(target, doc(resources))].sort()).toEqual(['u1/ds/datapackage.json', ...keys].sort());
  });

  it('has no files without an origin_url in the bucket', () => {
    expect(packageFileKeys(target, doc([{ path: 'a.csv' }], null)).size).toBe(0);
    expect([...packageFileKeys(target, doc([{ path: 'a.csv' }], 'https://example.org/u1/ds/datapackage.json'))]).toEqual([]);
  });
});

describe('mayReadFile', () => {
  const file = { key: 'u1/ds/data.csv', owner: 'u1' };
  const pkg = (facts: { private?: boolean; loaded?: boolean }): PackageFacts => ({
    origin_url: `${BASE}/u1/ds/datapackage.json`,
    loaded: facts.loaded ?? true,
    package: { owner: 'u1', private: facts.private ?? false, resources: [{ path: 'data.csv' }] },
  });

  it.each([
    ['published and loaded, anonymous', [pkg({})], null, true],
    ['published and loaded, another user', [pkg({})], 'u2', true],
    ['private, anonymous', [pkg({ private: true })], null, false],
    ['private, another user', [pkg({ private: true })], 'u2', false],
    ['private, the owner', [pkg({ private: true })], 'u1', true],
    ['not loaded, anonymous', [pkg({ loaded: false })], null, false],
    ['not loaded, the owner', [pkg({ loaded: false })], 'u1', true],
    ['one of two packages published', [pkg({ private: true }), pkg({})], null, true],
    ['no package', [], 'u1', false],
    ['an empty user id', [pkg({ private: true })], '', false],
  ] as const)('%s: %s', (_what, packages, userid, expected) => {
    expect(mayReadFile(target, file, packages, userid)).toBe(expected);
  });

  it('never a file the package does not list', () => {
    expect(mayReadFile(target, { key: 'u1/ds/other.csv', owner: 'u1' }, [pkg({})], 'u1')).toBe(false);
  });
});
