import { describe, expect, it } from 'vitest';
import { buildBabbageModel } from './babbage';
import { castOptionsFor, createRowCaster } from './cast';
import { DescriptorError, obfuscateAuthor, parseDescriptor, resolveResourceUrl } from './descriptor';

/** A small valid descriptor; tests alter one thing at a time. */
function base(): Record<string, unknown> {
  return {
    name: 'budget-2015',
    owner: '667df60aa07c34260eae9b55b2778712',
    author: 'Jane Doe <jane@example.org>',
    resources: [
      {
        name: 'budget',
        path: 'data/budget.csv',
        schema: {
          fields: [
            { name: 'year', type: 'integer' },
            { name: 'code', type: 'string' },
            { name: 'label', type: 'string' },
            { name: 'amount', type: 'number' },
          ],
        },
      },
    ],
    model: {
      measures: { amount: { source: 'amount', currency: 'EUR' } },
      dimensions: {
        date: { attributes: { year: { source: 'year' } }, primaryKey: 'year' },
        cls: { attributes: { code: { source: 'code' }, label: { source: 'label', labelfor: 'code' } }, primaryKey: ['code'] },
      },
    },
  };
}

type Mutation = (d: Record<string, unknown>) => void;
const res0 = (d: Record<string, unknown>) => (d.resources as Array<Record<string, unknown>>)[0] as Record<string, unknown>;
const fields = (d: Record<string, unknown>) => (res0(d).schema as { fields: Array<Record<string, unknown>> }).fields;
const model = (d: Record<string, unknown>) => d.model as { measures: Record<string, Record<string, unknown>>; dimensions: Record<string, Record<string, unknown>> };

const invalid: Array<[string, Mutation, RegExp]> = [
  ['name is required', (d) => delete d.name, /"name" is required/],
  ['name follows the Data Package pattern', (d) => (d.name = 'My Budget'), /"name" "My Budget" must contain only lower-case/],
  ['name cannot climb out of a path (../../x)', (d) => (d.name = '../../x'), /"name" "..\/..\/x" must not contain/],
  ['name cannot contain a slash', (d) => (d.name = 'a/b'), /"name" "a\/b" must not contain/],
  ['name cannot contain ..', (d) => (d.name = 'a..b'), /must not contain "\/" or "\.\."/],
  ['name cannot start with a dot', (d) => (d.name = '.hidden'), /nor start with "\."/],
  ['name cannot contain a backslash', (d) => (d.name = 'a\\b'), /must contain only lower-case/],
  ['name cannot contain control characters', (d) => (d.name = 'a\u0000b'), /must contain only lower-case/],
  ['owner is required', (d) => delete d.owner, /"owner" is required/],
  ['owner cannot contain a colon (it would forge package ids)', (d) => (d.owner = 'a:b'), /"owner" must be a user id/],
  ['author is required', (d) => delete d.author, /"author" is required/],
  ['resources must be a non-empty list', (d) => (d.resources = []), /"resources" must be a non-empty list/],
  ['the resource needs a path or url', (d) => delete res0(d).path, /needs a "path" or "url"/],
  ['inline data is refused', (d) => { delete res0(d).path; res0(d).data = [[1]]; }, /inline "data" is not supported/],
  ['a resource url must be http(s)', (d) => { delete res0(d).path; res0(d).url = 'file:///etc/passwd'; }, /url must be an http\(s\) URL/],
  ['the resource needs a name', (d) => delete res0(d).name, /resources\[0\]\.name is required/],
  ['fields are required', (d) => (res0(d).schema = {}), /schema\.fields must be a non-empty list/],
  ['fields need a type', (d) => delete fields(d)[0]?.type, /field "year" needs a "type"/],
  ['field types must be known', (d) => ((fields(d)[0] as Record<string, unknown>).type = 'decimal'), /unknown type "decimal"/],
  ['field names are unique', (d) => ((fields(d)[1] as Record<string, unknown>).name = 'year'), /field name "year" is used twice/],
  ['date formats must be usable', (d) => fields(d).push({ name: 'when', type: 'date', format: '%Q' }), /field "when": unsupported date format directive "%Q"/],
  ['a model is required', (d) => delete d.model, /"model" is required \(or fields with a "columnType"\)/],
  ['measure sources must be fields', (d) => ((model(d).measures.amount as Record<string, unknown>).source = 'budget'), /measure "amount": source "budget" is not a field of resources\[0\]/],
  ['factor must be a number', (d) => ((model(d).measures.amount as Record<string, unknown>).factor = '1000'), /factor must be a number/],
  ['attribute sources must be fields', (d) => ((model(d).dimensions.date as { attributes: Record<string, Record<string, unknown>> }).attributes.year = { source: 'Year' }), /attribute "year": source "Year" is not a field/],
  ['primaryKey must name attributes', (d) => ((model(d).dimensions.cls as Record<string, unknown>).primaryKey = 'id'), /primaryKey "id" is not one of its attributes/],
  ['a primaryKey is required', (d) => delete (model(d).dimensions.cls as Record<string, unknown>).primaryKey, /dimension "cls" must have a primaryKey/],
  ['labelfor must name an attribute', (d) => (((model(d).dimensions.cls as { attributes: Record<string, Record<string, unknown>> }).attributes.label as Record<string, unknown>).labelfor = 'nope'), /labelfor "nope" is not one of its attributes/],
  ['encodings must be ASCII-compatible', (d) => (res0(d).encoding = 'utf-16'), /encoding "utf-16" is not supported/],
  ['field count is bounded by what a table can hold', (d) => (res0(d).schema = { fields: Array.from({ length: 1001 }, (_, i) => ({ name: `f${i}`, type: 'string' })) }), /at most 1000 can be loaded/],
  ['primaryKey cannot name an inherited property', (d) => ((model(d).dimensions.cls as Record<string, unknown>).primaryKey = '__proto__'), /primaryKey "__proto__" is not one of its attributes/],
  ['labelfor cannot name an inherited property', (d) => (((model(d).dimensions.cls as { attributes: Record<string, Record<string, unknown>> }).attributes.label as Record<string, unknown>).labelfor = 'toString'), /labelfor "toString" is not one of its attributes/],
  ['dialect delimiters are single characters', (d) => (res0(d).dialect = { delimiter: '::' }), /dialect\.delimiter must be a single ASCII character/],
];

describe('parseDescriptor rejects what the loader cannot load', () => {
  it.each(invalid)('%s', (_rule, mutate, message) => {
    const d = base();
    mutate(d);
    expect(() => parseDescriptor(d)).toThrow(DescriptorError);
    expect(() => parseDescriptor(d)).toThrow(message);
  });

  it('lists every problem at once', () => {
    const d = base();
    delete d.owner;
    delete d.author;
    let caught: DescriptorError | undefined;
    try {
      parseDescriptor(d);
    } catch (error) {
      caught = error as DescriptorError;
    }
    expect(caught?.problems).toEqual(['"owner" is required', '"author" is required']);
  });

  it.each([null, [], 'x', 42])('refuses a non-object descriptor %j', (json) => {
    expect(() => parseDescriptor(json)).toThrow('the descriptor must be a JSON object');
  });
});

describe('parseDescriptor normalises what it accepts', () => {
  it('returns the loadable resource with dialect and encoding defaults', () => {
    const pkg = parseDescriptor(base());
    expect(pkg.owner).toBe('667df60aa07c34260eae9b55b2778712');
    expect(pkg.name).toBe('budget-2015');
    expect(pkg.author).toBe('Jane Doe');
    expect(pkg.resource).toMatchObject({
      name: 'budget',
      path: 'data/budget.csv',
      encoding: 'utf-8',
      missingValues: [''],
      primaryKey: [],
      dialect: { delimiter: ',', quoteChar: '"', doubleQuote: true, header: true, skipInitialSpace: false },
    });
    expect(pkg.resource.fields.map((f) => f.name)).toEqual(['year', 'code', 'label', 'amount']);
  });

  it('stores the author obfuscated and the package private by default, without mutating the input', () => {
    const input = base();
    const pkg = parseDescriptor(input);
    expect(pkg.descriptor.author).toBe('Jane Doe <jane@not.shown>');
    expect(pkg.descriptor.private).toBe(true);
    expect(input.author).toBe('Jane Doe <jane@example.org>');
    expect(input.private).toBeUndefined();
  });

  it('keeps an explicit private:false (setdefault semantics)', () => {
    expect(parseDescriptor({ ...base(), private: false }).descriptor.private).toBe(false);
  });

  it('accepts the legacy "mapping" alias and stores it as "model"', () => {
    const d = base();
    d.mapping = d.model;
    delete d.model;
    const pkg = parseDescriptor(d);
    expect(pkg.descriptor.model).toEqual(base().model);
    expect(pkg.descriptor.mapping).toBeUndefined();
    expect(Object.keys(pkg.model.measures)).toEqual(['amount']);
  });

  it('loads fields named like Object.prototype properties', () => {
    const d = base();
    fields(d).push({ name: 'constructor', type: 'number' }, { name: 'toString', type: 'string' }, { name: '__proto__', type: 'string' });
    model(d).measures.c = { source: 'constructor' };
    const pkg = parseDescriptor(d);
    expect(pkg.resource.fields.map((f) => f.name).slice(-3)).toEqual(['constructor', 'toString', '__proto__']);
    const cast = createRowCaster(pkg.resource.fields, castOptionsFor(pkg));
    expect(cast(['2015', 'a', 'b', '1.5', '2', 'x', 'y'], 1)).toEqual(['2015', 'a', 'b', '1.5', '2', 'x', 'y']);
    expect(buildBabbageModel(pkg, 't').measures.c).toEqual({ label: 'constructor', column: 'constructor', orig_measure: 'c' });
  });

  it('takes the dialect from the resource', () => {
    const d = base();
    res0(d).dialect = { delimiter: ';', quoteChar: "'", skipInitialSpace: true, header: true };
    expect(parseDescriptor(d).resource.dialect).toMatchObject({ delimiter: ';', quoteChar: "'", skipInitialSpace: true });
  });

  it('builds the model from columnType fields with os-types and fills missing data types', () => {
    const d = base();
    delete d.model;
    res0(d).schema = {
      fields: [
        { name: 'Année', columnType: 'date:fiscal-year' },
        { name: 'Chapitre', columnType: 'economic-classification:generic:level1:code' },
        { name: 'Intitulé chapitre', columnType: 'economic-classification:generic:level1:label' },
        { name: 'Article', columnType: 'economic-classification:generic:level2:code' },
        { name: 'Compte', columnType: 'economic-classification:generic:level3:code' },
        { name: 'Montant', columnType: 'value' },
        { name: 'Notes', type: 'string' },
      ],
    };
    const pkg = parseDescriptor(d);
    const econ = pkg.model.dimensions['economic-classification'];
    expect(econ?.primaryKey).toEqual(['Chapitre', 'Article', 'Compte']);
    expect(econ?.attributes.Intitule_chapitre?.labelfor).toBe('Chapitre');
    expect(econ?.attributes.Compte?.parent).toBe('Article');
    expect(pkg.model.dimensions.date?.primaryKey).toEqual(['Annee']);
    expect(pkg.model.measures.Montant?.source).toBe('Montant');
    expect(pkg.resource.fields.map((f) => f.type)).toEqual(['integer', 'string', 'string', 'string', 'string', 'number', 'string']);
    expect(pkg.descriptor.model).toEqual(pkg.model);
  });

  it('reports os-types errors for unknown column types', () => {
    const d = base();
    delete d.model;
    res0(d).schema = { fields: [{ name: 'x', type: 'string', columnType: 'no-such:type' }] };
    expect(() => parseDescriptor(d)).toThrow(/field "x": Got unknown type no-such:type/);
  });
});

describe('obfuscateAuthor hides the email like the original', () => {
  it.each([
    ['Testy McTest <test@test.com>', 'Testy McTest <test@not.shown>', 'Testy McTest'],
    ['"Doe, Jane" <jane@x.org>', 'Doe, Jane <jane@not.shown>', 'Doe, Jane'],
    ['John', ' <John@not.shown>', ''],
    ['john@example.org', ' <john@not.shown>', ''],
  ])('%j -> %j', (input, author, fullName) => {
    expect(obfuscateAuthor(input)).toEqual({ author, fullName });
  });
});

describe('resolveResourceUrl stays inside the package folder', () => {
  const descriptorUrl = 'https://datastore.example/owner/pkg/datapackage.json?sig=1';
  it.each([
    [{ path: 'data/budget.csv' }, 'https://datastore.example/owner/pkg/data/budget.csv'],
    [{ path: 'budget file.csv' }, 'https://datastore.example/owner/pkg/budget%20file.csv'],
    [{ path: './a/./b.csv' }, 'https://datastore.example/owner/pkg/a/b.csv'],
    [{ url: 'http://other.example/x.csv' }, 'http://other.example/x.csv'],
  ])('%j -> %s', (resource, url) => {
    expect(resolveResourceUrl(descriptorUrl, resource)).toBe(url);
  });

  it.each([
    [{ path: '../other/secret.csv' }],
    [{ path: 'data/../../other.csv' }],
    [{ path: '%2e%2e/other.csv' }],
    [{ path: '/etc/passwd' }],
    [{ path: '//evil.example/x.csv' }],
    [{ path: 'http://evil.example/x.csv' }],
    [{ path: 'file:///etc/passwd' }],
    [{ url: 'file:///etc/passwd' }],
    [{ url: 'javascript:alert(1)' }],
    [{ url: 'https://user:secret@datastore.example/x.csv' }],
    [{}],
  ])('refuses %j', (resource) => {
    expect(() => resolveResourceUrl(descriptorUrl, resource)).toThrow(DescriptorError);
  });
});
