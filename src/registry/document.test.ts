import { describe, expect, it } from 'vitest';
import { buildRegistryDocument } from './document.ts';

describe('buildRegistryDocument', () => {
  const base = {
    id: 'u1:pkg',
    name: 'pkg',
    owner: 'u1',
    descriptor: { name: 'pkg', owner: 'u1', author: 'Ann <ann@example.com>', private: false, title: 'T' },
    model: { fact_table: 'fdp__u1__pkg__12345678' },
    originUrl: 'https://s/b/u1/pkg/datapackage.json',
    now: 1_700_000_000_500,
  };

  it('makes every upload private, hides the e-mail and marks it loaded', () => {
    const doc = buildRegistryDocument(base);
    expect(doc).toEqual({
      id: 'u1:pkg',
      model: { fact_table: 'fdp__u1__pkg__12345678' },
      package: { name: 'pkg', owner: 'u1', author: 'Ann <ann@not.shown>', private: true, title: 'T' },
      origin_url: 'https://s/b/u1/pkg/datapackage.json',
      dataset: 'pkg',
      author: 'Ann',
      loading_status: 'done',
      loaded: true,
      last_update: 1_700_000_000.5,
    });
  });

  it('keeps an already hidden author as it is', () => {
    const doc = buildRegistryDocument({ ...base, descriptor: { ...base.descriptor, author: 'Ann <ann@not.shown>' } });
    expect(doc.package.author).toBe('Ann <ann@not.shown>');
    expect(doc.author).toBe('Ann');
  });

  it('does not change the descriptor it was given', () => {
    buildRegistryDocument(base);
    expect(base.descriptor.private).toBe(false);
    expect(base.descriptor.author).toBe('Ann <ann@example.com>');
  });
});
