/**
 * The `packages` index: settings and the mapping of the os-package-registry
 * document (loader.md §1.1–§1.2), valid on ElasticSearch 6/7/8 and OpenSearch
 * 1/2, typeless or under the type `package` (see engine.ts). The original's
 * ES-1 `string`/`not_analyzed` fields are `keyword` here; everything not
 * listed is mapped dynamically, as before.
 */

/** Fields matched as whole values (the original's not_analyzed). */
const keyword = { type: 'keyword' } as const;
/** Stored in `_source`, never indexed: babbage models and table schemas are big and irregular. */
const storedOnly = { type: 'object', enabled: false } as const;

/** The mapping of the `packages` index (the properties, without a type around them). */
export const PACKAGES_MAPPING = {
  dynamic: true,
  properties: {
    id: keyword,
    model: storedOnly,
    origin_url: keyword,
    dataset: keyword,
    author: keyword,
    loading_status: keyword,
    loaded: { type: 'boolean' },
    // Epoch seconds with a fraction (time.time()); a long would drop the fraction for sorting.
    last_update: { type: 'double' },
    package: {
      type: 'object',
      properties: {
        owner: keyword,
        author: keyword,
        cityCode: keyword,
        // fielddata: os-package-registry's get_stats counts distinct values of the text field itself.
        countryCode: { type: 'text', fielddata: true, fields: { keyword: { type: 'keyword', ignore_above: 256 } } },
        private: { type: 'boolean' },
        count_of_rows: { type: 'double' },
        // Sortable case-insensitively by title (sort=title).
        title: {
          type: 'text',
          fields: { sort: { type: 'keyword', normalizer: 'lowercase_sort', ignore_above: 1024 } },
        },
        model: storedOnly,
        resources: {
          type: 'object',
          properties: { schema: storedOnly },
        },
      },
    },
  },
} as const;

/**
 * Index settings. `ignore_malformed` keeps a document with, say,
 * `count_of_rows: "many"` indexable (the value is just not searchable) rather
 * than rejecting the whole package; the fields limit leaves room for the
 * many descriptor fields of real packages.
 */
export const PACKAGES_SETTINGS = {
  number_of_shards: 1,
  'mapping.ignore_malformed': true,
  'mapping.total_fields.limit': 5000,
  analysis: {
    normalizer: {
      lowercase_sort: { type: 'custom', filter: ['lowercase'] },
    },
  },
} as const;

/** The body of `PUT /<index>`, the mapping under `mappingType` when given, optionally adding aliases. */
export function createIndexBody(aliases: string[] = [], mappingType: string | null = null): Record<string, unknown> {
  return {
    settings: { index: PACKAGES_SETTINGS },
    mappings: mappingType ? { [mappingType]: PACKAGES_MAPPING } : PACKAGES_MAPPING,
    ...(aliases.length ? { aliases: Object.fromEntries(aliases.map((a) => [a, {}])) } : {}),
  };
}
