import { describe, expect, it } from 'vitest';
import { normaliseStatusUrl, urlAliasKey } from './status-keys.ts';

describe('normaliseStatusUrl', () => {
  const cases: Array<[string, string | null]> = [
    ['https://s3.amazonaws.com:443/b/o/n/datapackage.json', 'https://s3.amazonaws.com/b/o/n/datapackage.json'],
    ['http://s3.amazonaws.com/b/o/n/final/datapackage.json', 'https://s3.amazonaws.com/b/o/n/datapackage.json'],
    ['http://host:80/b/o/n/datapackage.json', 'https://host/b/o/n/datapackage.json'],
    ['http://HOST:9000/b/o/n/datapackage.json?x=1', 'https://host:9000/b/o/n/datapackage.json'],
    ['ftp://host/x', null],
    ['not a url', null],
  ];
  it.each(cases)('%s -> %s', (raw, expected) => {
    expect(normaliseStatusUrl(raw)).toBe(expected);
  });

  it('gives the upload URL and the os-admin form the same alias', () => {
    expect(urlAliasKey('https://s3.example:443/b/o/n/datapackage.json')).toBe(
      urlAliasKey('http://s3.example/b/o/n/final/datapackage.json'),
    );
  });
});
