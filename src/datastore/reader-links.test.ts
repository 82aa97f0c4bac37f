import { describe, expect, it } from 'vitest';
import { bucketUrlOf, readerLinksOf, readerView, readLink } from './reader-links.ts';

const settings = {
  OS_BASE_URL: 'https://openspending.example',
  OS_S3_SCHEME: 'https' as const,
  OS_S3_HOSTNAME: 'S3.example.org',
  OS_S3_PORT: undefined,
  OS_STORAGE_BUCKET_NAME: 'datastore',
};
const links = readerLinksOf({ ...settings, OS_DATASTORE_PRIVATE: true });
const BUCKET = 'https://s3.example.org/datastore';
const READ = 'https://openspending.example/datastore/file';

const doc = {
  id: 'u1:ds',
  origin_url: `${BUCKET}/u1/ds/datapackage.json`,
  package: {
    name: 'ds',
    resources: [{ name: 'a', path: 'data/a.csv' }, { name: 'b', url: `${BUCKET}/u1/ds/b%20c.csv` }, { name: 'c', url: 'https://example.org/c.csv' }, 'junk'],
  },
  loaded: true,
};

describe('readerLinksOf', () => {
  it('is null (nothing rewritten) in public mode or without a bucket', () => {
    expect(readerLinksOf({ ...settings, OS_DATASTORE_PRIVATE: false })).toBeNull();
    expect(readerLinksOf({ ...settings, OS_DATASTORE_PRIVATE: true, OS_STORAGE_BUCKET_NAME: undefined })).toBeNull();
  });
});

describe('readerView', () => {
  it('leaves the document itself alone in public mode', () => {
    expect(readerView(doc, null)).toBe(doc);
  });

  it('names bucket files by their read links in private mode, and nothing else', () => {
    const view = readerView(doc, links);
    expect(view.origin_url).toBe(`${READ}/u1/ds/datapackage.json`);
    expect(view.package.resources).toEqual([
      { name: 'a', path: 'data/a.csv' },
      { name: 'b', url: `${READ}/u1/ds/b%20c.csv` },
      { name: 'c', url: 'https://example.org/c.csv' },
      'junk',
    ]);
    expect(view.package.name).toBe('ds');
    // The stored document is not touched.
    expect(doc.origin_url).toBe(`${BUCKET}/u1/ds/datapackage.json`);
  });

  it('makes relative resource paths resolve to read links, as os-viewer resolves them', () => {
    const view = readerView(doc, links);
    expect(new URL('data/a.csv', view.origin_url).href).toBe(`${READ}/u1/ds/data/a.csv`);
  });

  it.each([
    ['another bucket', 'https://s3.example.org/other/u1/ds/datapackage.json'],
    ['an unsafe path', `${BUCKET}/u1/ds/%2e%2e/x.json`],
    ['an allow-listed origin', 'https://fixtures.example.org/u1/ds/datapackage.json'],
  ])('keeps %s as it is', (_what, url) => {
    expect(readLink(links!, url)).toBe(url);
  });
});

describe('bucketUrlOf', () => {
  it.each([
    `${BUCKET}/u1/ds/datapackage.json`,
    `${BUCKET}/u1/ds/b%20c.csv`,
    `${BUCKET}/u1/ds/data/a.csv`,
  ])('turns the read link of %s back into it', (url) => {
    expect(bucketUrlOf(links!, readLink(links!, url))).toBe(url);
  });

  it.each([
    ['a bucket URL itself', `${BUCKET}/u1/ds/datapackage.json`],
    ['another path of this service', 'https://openspending.example/datastore/info'],
    ['a read link with a traversal step', `${READ}/u1/%2e%2e/x.json`],
    ['a read link with a query', `${READ}/u1/ds/datapackage.json?x=1`],
    ['another host', 'https://elsewhere.example/datastore/file/u1/ds/datapackage.json'],
  ])('is null for %s', (_what, url) => {
    expect(bucketUrlOf(links!, url)).toBeNull();
  });
});
