import { describe, expect, it } from 'vitest';
import { DescriptorError, parseDescriptor } from './descriptor.ts';
import { BUILT_IN_TAXONOMIES, builtInTypes, resolveTaxonomies, type OsTypeTable } from './taxonomy.ts';

const code = (extra: Record<string, unknown> = {}) => ({
  dataType: 'string',
  dimensionType: 'classification',
  classificationType: 'programme',
  uniqueIdentifier: true,
  ...extra,
});

/** A taxonomy named `mine`, defined in OS_TAXONOMY_MINE. */
const mine = (definition: unknown) =>
  resolveTaxonomies(['mine'], { OS_TAXONOMY_MINE: typeof definition === 'string' ? definition : JSON.stringify(definition) });

describe('resolveTaxonomies: refuses what os-types would trip over, naming the setting and the type', () => {
  const refused: Array<[string, () => ReturnType<typeof resolveTaxonomies>, string]> = [
    ['an unknown name', () => resolveTaxonomies(['nosuch'], {}), 'OS_EXTRA_TAXONOMIES: "nosuch" is neither a built-in taxonomy (vulekamali) nor defined in OS_TAXONOMY_NOSUCH'],
    ['a name that is not a word', () => resolveTaxonomies(['my-taxonomy'], {}), 'OS_EXTRA_TAXONOMIES: "my-taxonomy" is not a taxonomy name'],
    ['JSON that does not parse', () => mine('{"a:code": '), 'OS_TAXONOMY_MINE: not valid JSON'],
    ['a JSON array', () => mine([{ dataType: 'string' }]), 'OS_TAXONOMY_MINE: must be a JSON object of column types'],
    ['an empty object', () => mine({}), 'OS_TAXONOMY_MINE: must be a JSON object of column types'],
    ['a definition that is not an object', () => mine({ 'p:code': 'string' }), 'OS_TAXONOMY_MINE: type "p:code" must be an object'],
    ['a bad type name', () => mine({ 'p code': code() }), 'OS_TAXONOMY_MINE: type "p code" is not a type name'],
    ['a missing dataType', () => mine({ 'p:code': code({ dataType: undefined }) }), 'OS_TAXONOMY_MINE: type "p:code" dataType must be a Table Schema type'],
    ['an unknown dataType', () => mine({ 'p:code': code({ dataType: 'text' }) }), 'OS_TAXONOMY_MINE: type "p:code" dataType must be a Table Schema type'],
    ['a missing dimensionType', () => mine({ 'p:code': code({ dimensionType: undefined }) }), 'OS_TAXONOMY_MINE: type "p:code" dimensionType is required'],
    ['a misspelt property', () => mine({ 'p:code': code({ uniqueIdentifer: true }) }), 'OS_TAXONOMY_MINE: type "p:code" has unknown property "uniqueIdentifer"'],
    ['a non-boolean uniqueIdentifier', () => mine({ 'p:code': code({ uniqueIdentifier: 'yes' }) }), 'OS_TAXONOMY_MINE: type "p:code" uniqueIdentifier must be true or false'],
    ['a parent naming no type', () => mine({ 'p:level2:code': code({ parent: 'p:level1:code' }) }), 'OS_TAXONOMY_MINE: type "p:level2:code": parent "p:level1:code" is not a known type'],
    ['a labelfor naming no type', () => mine({ 'p:label': code({ labelfor: 'p:cod' }) }), 'OS_TAXONOMY_MINE: type "p:label": labelfor "p:cod" is not a known type'],
    [
      'parents forming a cycle',
      () => mine({ 'p:a:code': code({ parent: 'p:b:code' }), 'p:b:code': code({ parent: 'p:c:code' }), 'p:c:code': code({ parent: 'p:b:code' }) }),
      'OS_TAXONOMY_MINE: type "p:a:code": its parents form a cycle through "p:b:code"',
    ],
    [
      'a redefined built-in type',
      () => mine({ 'administrative-classification:generic:level1:code': code() }),
      'OS_TAXONOMY_MINE: type "administrative-classification:generic:level1:code" redefines a built-in os-types type',
    ],
    [
      'a type two taxonomies define differently',
      () =>
        resolveTaxonomies(['vulekamali', 'mine'], {
          OS_TAXONOMY_MINE: JSON.stringify({ 'asset:generic:level1:code': code() }),
        }),
      'OS_TAXONOMY_MINE: type "asset:generic:level1:code" is defined differently in OS_TAXONOMY_VULEKAMALI',
    ],
  ];
  it.each(refused)('%s', (_what, resolve, message) => {
    const { types, problems } = resolve();
    expect(problems.map((p) => `${p.setting}: ${p.message}`).join('\n')).toContain(message);
    expect(types).toEqual({});
  });

  it('accepts a taxonomy extending the built-in hierarchy and adding a classification', () => {
    const definition = {
      'administrative-classification:generic:level9:code': code({
        classificationType: 'administrative',
        parent: 'administrative-classification:generic:level8:code',
      }),
      'programme-classification:generic:level1:code': code(),
      'programme-classification:generic:level2:code': code({ parent: 'programme-classification:generic:level1:code' }),
    };
    expect(mine(definition)).toEqual({ types: definition, problems: [] });
  });

  it('accepts the same type defined identically twice, and nothing without names', () => {
    const vk = BUILT_IN_TAXONOMIES.vulekamali?.() as OsTypeTable;
    const same = { 'asset:generic:level1:code': vk['asset:generic:level1:code'] };
    const both = resolveTaxonomies(['vulekamali', 'mine'], { OS_TAXONOMY_MINE: JSON.stringify(same) });
    expect(both.problems).toEqual([]);
    expect(Object.keys(both.types)).toHaveLength(57);
    expect(resolveTaxonomies([], {})).toEqual({ types: {}, problems: [] });
  });

  it('a setting OS_TAXONOMY_<NAME> takes precedence over a built-in of the same name', () => {
    const own = { 'p:code': code() };
    expect(resolveTaxonomies(['vulekamali'], { OS_TAXONOMY_VULEKAMALI: JSON.stringify(own) }).types).toEqual(own);
  });
});

describe('the built-in vulekamali taxonomy', () => {
  const vk = resolveTaxonomies(['vulekamali'], {});
  const builtIn = builtInTypes();

  it('is valid, adds 57 types and redefines none of os-types', () => {
    expect(vk.problems).toEqual([]);
    expect(Object.keys(vk.types)).toHaveLength(57);
    expect(Object.keys(vk.types).filter((t) => Object.hasOwn(builtIn, t))).toEqual([]);
  });

  it('continues the administrative hierarchy below os-types level 8 down to level 17', () => {
    expect(vk.types['administrative-classification:generic:level9:code']).toEqual({
      dataType: 'string',
      dimensionType: 'classification',
      classificationType: 'administrative',
      uniqueIdentifier: true,
      parent: 'administrative-classification:generic:level8:code',
    });
    expect(vk.types['administrative-classification:generic:level17:code']?.parent).toBe('administrative-classification:generic:level16:code');
    expect(vk.types['administrative-classification:generic:level18:code']).toBeUndefined();
  });

  it('adds the SCOA classifications as new roots', () => {
    for (const [prefix, top] of [['asset', 7], ['item', 9], ['infrastructure', 7]] as const) {
      expect(vk.types[`${prefix}:generic:level1:code`]).toEqual({ dataType: 'string', dimensionType: 'classification', classificationType: prefix, uniqueIdentifier: true });
      expect(vk.types[`${prefix}:generic:level${top}:code`]?.parent).toBe(`${prefix}:generic:level${top - 1}:code`);
      expect(vk.types[`${prefix}:generic:level${top + 1}:code`]).toBeUndefined();
    }
    expect(vk.types['activity:generic:project:level1:code']).toEqual({
      dataType: 'string',
      dimensionType: 'activity',
      uniqueIdentifier: true,
      parent: 'activity:generic:subprogram:code',
    });
  });
});

describe('parseDescriptor with extra column types', () => {
  const descriptor = (columnTypes: Record<string, string>) => ({
    name: 'deep',
    owner: 'o',
    author: 'A <a@example.org>',
    resources: [
      {
        name: 'deep',
        path: 'deep.csv',
        schema: { fields: Object.entries(columnTypes).map(([name, columnType]) => ({ name, columnType })) },
      },
    ],
  });
  const deep = descriptor({
    dept: 'administrative-classification:generic:level1:code',
    unit: 'administrative-classification:generic:level9:code',
    amount: 'value',
  });
  const extra = mine({
    'administrative-classification:generic:level9:code': code({
      classificationType: 'administrative',
      parent: 'administrative-classification:generic:level8:code',
    }),
  }).types;

  it('fails without them, naming the field and the type', () => {
    expect(() => parseDescriptor(deep)).toThrow(DescriptorError);
    expect(() => parseDescriptor(deep)).toThrow('field "unit": Got unknown type administrative-classification:generic:level9:code');
  });

  it('builds the model with them, climbing the built-in parents to the nearest column present', () => {
    const pkg = parseDescriptor(deep, { extraColumnTypes: extra });
    expect(pkg.model.dimensions['administrative-classification']).toEqual({
      dimensionType: 'classification',
      classificationType: 'administrative',
      primaryKey: ['dept', 'unit'],
      attributes: { dept: { source: 'dept', title: 'dept' }, unit: { source: 'unit', title: 'unit', parent: 'dept' } },
    });
    expect(pkg.resource.fields.map((f) => f.type)).toEqual(['string', 'string', 'number']);
  });

  it('leaves os-types itself unchanged for descriptors parsed without them', () => {
    parseDescriptor(deep, { extraColumnTypes: extra });
    expect(() => parseDescriptor(deep)).toThrow('Got unknown type administrative-classification:generic:level9:code');
    expect(Object.hasOwn(builtInTypes(), 'administrative-classification:generic:level9:code')).toBe(false);
  });
});
