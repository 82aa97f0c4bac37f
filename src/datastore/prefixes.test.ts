import { describe, expect, it } from 'vitest';
import { datastorePrefixes } from './prefixes.ts';

describe('datastorePrefixes', () => {
  it('lists the original eight forms in its order, for http then https', () => {
    const target = { scheme: 'https' as const, hostname: 's3.amazonaws.com', bucket: 'datastore.openspending.org' };
    expect(datastorePrefixes(target, 'abc')).toEqual([
      'http://s3.amazonaws.com:80/datastore.openspending.org/abc',
      'http://s3.amazonaws.com/datastore.openspending.org/abc',
      'http://datastore.openspending.org:80/abc',
      'http://datastore.openspending.org/abc',
      'https://s3.amazonaws.com:443/datastore.openspending.org/abc',
      'https://s3.amazonaws.com/datastore.openspending.org/abc',
      'https://datastore.openspending.org:443/abc',
      'https://datastore.openspending.org/abc',
    ]);
  });

  const extra: Array<[string, { scheme: 'http' | 'https'; hostname: string; port?: number; bucket: string }, string | null]> = [
    ['a local server on its own port', { scheme: 'http', hostname: '127.0.0.1', port: 4568, bucket: 'b' }, 'http://127.0.0.1:4568/b/u'],
    ['an explicit default port', { scheme: 'https', hostname: 'h.example', port: 443, bucket: 'b' }, null],
    ['https on a non-default port', { scheme: 'https', hostname: 'h.example', port: 8443, bucket: 'b' }, 'https://h.example:8443/b/u'],
    ['http without a port', { scheme: 'http', hostname: 'h.example', bucket: 'b' }, null],
  ];
  it.each(extra)('appends the real upload base only when it is not already listed: %s', (_what, target, appended) => {
    const prefixes = datastorePrefixes(target, 'u');
    expect(prefixes).toHaveLength(appended ? 9 : 8);
    if (appended) expect(prefixes[8]).toBe(appended);
  });
});
