import { describe, expect, it } from 'vitest';
import { buildRegistryDocument, obfuscateAuthor } from './metadata.ts';

describe('obfuscateAuthor', () => {
  const cases: Array<[string, string, string]> = [
    ['Testy McTest <test@example.com>', 'Testy McTest <test@not.shown>', 'Testy McTest'],
    ['"Doe, J" <j@x.org>', 'Doe, J <j@not.shown>', 'Doe, J'],
    ['test@example.com', ' <test@not.shown>', ''],
    ['a@b.c (Comment Name)', 'Comment Name <a@not.shown>', 'Comment Name'],
    ['Jöhn Smïth <j@x>', 'Jöhn Smïth <j@not.shown>', 'Jöhn Smïth'],
    ['John Smith', 'John Smith <@not.shown>', 'John Smith'],
  ];
  it.each(cases)('%s is stored as %s', (input, author, fullname) => {
    expect(obfuscateAuthor(input)).toEqual({ author, fullname });
  });

  it('never keeps the domain of an address', () => {
    for (const [input] of cases) expect(obfuscateAuthor(input).author).not.toMatch(/example\.com|x\.org/);
  });
});

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

  it('does not change the descriptor it was given', () => {
    buildRegistryDocument(base);
    expect(base.descriptor.private).toBe(false);
    expect(base.descriptor.author).toBe('Ann <ann@example.com>');
  });
});
