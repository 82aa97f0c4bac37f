/**
 * Extra os-types taxonomies (OS_EXTRA_TAXONOMIES): column types a deployment
 * adds to os-types' own, in os-types' format (`os-types.json`: type name ->
 * `{dataType, dimensionType, classificationType?, uniqueIdentifier?,
 * labelfor?, parent?}`), used by the columnType -> model step exactly like
 * the built-in ones. Validated once at start: a definition that os-types
 * would trip over at load time (a parent that names no type loops or crashes
 * there) is refused here, naming the setting, the type and the problem.
 * Pure: no I/O.
 */
import TypeProcessor from 'os-types';
import { KNOWN_TYPES } from './cast.ts';

/** One column type, as os-types defines it. */
export interface OsTypeDefinition {
  /** Table Schema type of the column. */
  dataType: string;
  /** FDP dimensionType of the dimension the column belongs to (not for `value` measures). */
  dimensionType?: string;
  classificationType?: string;
  /** The column is (part of) its dimension's primary key. */
  uniqueIdentifier?: boolean;
  /** The code type this column labels. */
  labelfor?: string;
  /** The type of the parent level in a hierarchy. */
  parent?: string;
  /** Table Schema format the column gets. */
  format?: string;
}

export type OsTypeTable = Readonly<Record<string, OsTypeDefinition>>;

/** A problem with the setting `setting`. */
export interface TaxonomyProblem {
  setting: string;
  message: string;
}

const PROPERTIES = new Set(['dataType', 'dimensionType', 'classificationType', 'uniqueIdentifier', 'labelfor', 'parent', 'format']);
const TYPE_NAME = /^[A-Za-z0-9-]+(?::[A-Za-z0-9-]+)*$/;
const TAXONOMY_NAME = /^[A-Za-z0-9_]+$/;

/** os-types' own types (with its `unknown:string-N` placeholders). */
export function builtInTypes(): OsTypeTable {
  return new TypeProcessor().types;
}

/** Levels `from..to` of a `<prefix><n>:code` hierarchy, each the parent's child. */
function levels(
  prefix: string,
  from: number,
  to: number,
  shape: (n: number) => Omit<OsTypeDefinition, 'parent' | 'uniqueIdentifier' | 'dataType'>,
  firstParent?: string,
): Record<string, OsTypeDefinition> {
  const out: Record<string, OsTypeDefinition> = {};
  for (let n = from; n <= to; n++) {
    const parent = n === from ? firstParent : `${prefix}${n - 1}:code`;
    out[`${prefix}${n}:code`] = { dataType: 'string', ...shape(n), uniqueIdentifier: true, ...(parent ? { parent } : {}) };
  }
  return out;
}

const classification = (classificationType: string) => () => ({ dimensionType: 'classification', classificationType });

/**
 * vulekamali (South Africa's National Treasury budget portal): the 57 types
 * its os-types fork (github.com/vulekamali/os-types, MIT, "Add more types to
 * handle South Africa's SCOA") adds to os-types 1.17, as code levels: deeper
 * administrative, location, financing-source and project levels, and the SCOA
 * asset, item and infrastructure classifications. Project levels 2..12 carry
 * classificationType "administrative" as in the fork.
 */
function vulekamali(): OsTypeTable {
  return {
    ...levels('administrative-classification:generic:level', 9, 17, classification('administrative'), 'administrative-classification:generic:level8:code'),
    ...levels('geo-source:target:level', 3, 9, () => ({ dimensionType: 'location' }), 'geo-source:target:level2:code'),
    ...levels('fin-source:generic:level', 4, 9, () => ({ dimensionType: 'other' }), 'fin-source:generic:level3:code'),
    ...levels('asset:generic:level', 1, 7, classification('asset')),
    ...levels(
      'activity:generic:project:level',
      1,
      12,
      (n) => (n === 1 ? { dimensionType: 'activity' } : { dimensionType: 'activity', classificationType: 'administrative' }),
      'activity:generic:subprogram:code',
    ),
    ...levels('item:generic:level', 1, 9, classification('item')),
    ...levels('infrastructure:generic:level', 1, 7, classification('infrastructure')),
  };
}

/** Taxonomies shipped with the service, by the name OS_EXTRA_TAXONOMIES uses. */
export const BUILT_IN_TAXONOMIES: Readonly<Record<string, () => OsTypeTable>> = { vulekamali };

/** The setting that holds the definition of a taxonomy that is not built in. */
export function taxonomySetting(name: string): string {
  return `OS_TAXONOMY_${name.toUpperCase()}`;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The shape problems of one definition (references are checked once everything is known). */
function shapeProblems(name: string, raw: unknown): string[] {
  if (!TYPE_NAME.test(name)) return ['is not a type name (colon-separated words of letters, digits and "-")'];
  if (!isObject(raw)) return ['must be an object'];
  const out: string[] = [];
  for (const key of Object.keys(raw)) if (!PROPERTIES.has(key)) out.push(`has unknown property "${key}"`);
  if (typeof raw.dataType !== 'string' || !KNOWN_TYPES.has(raw.dataType)) {
    out.push(`dataType must be a Table Schema type (${[...KNOWN_TYPES].join(', ')})`);
  }
  const measure = name.split(':')[0] === 'value';
  if (!measure && typeof raw.dimensionType !== 'string') out.push('dimensionType is required (a string)');
  for (const key of ['dimensionType', 'classificationType', 'labelfor', 'parent', 'format'] as const) {
    if (raw[key] !== undefined && (typeof raw[key] !== 'string' || raw[key] === '')) out.push(`${key} must be a non-empty string`);
  }
  if (raw.uniqueIdentifier !== undefined && typeof raw.uniqueIdentifier !== 'boolean') out.push('uniqueIdentifier must be true or false');
  return out;
}

/**
 * The types OS_EXTRA_TAXONOMIES names, merged, or the problems found.
 * `names` are built-in taxonomy names or names whose definition (JSON, in
 * os-types' format) is in the setting `OS_TAXONOMY_<NAME>` of `settings`.
 * A taxonomy may not redefine a built-in type, two taxonomies may define a
 * type only identically, and every `labelfor`/`parent` must name a known
 * type, with no cycle of parents.
 */
export function resolveTaxonomies(
  names: readonly string[],
  settings: Readonly<Record<string, unknown>>,
  builtIn?: OsTypeTable,
): { types: OsTypeTable; problems: TaxonomyProblem[] } {
  if (names.length === 0) return { types: {}, problems: [] };
  return resolveNamed(names, settings, builtIn ?? builtInTypes());
}

function resolveNamed(
  names: readonly string[],
  settings: Readonly<Record<string, unknown>>,
  builtIn: OsTypeTable,
): { types: OsTypeTable; problems: TaxonomyProblem[] } {
  const problems: TaxonomyProblem[] = [];
  const types: Record<string, OsTypeDefinition> = {};
  const origin = new Map<string, string>();
  for (const name of names) {
    if (!TAXONOMY_NAME.test(name)) {
      problems.push({ setting: 'OS_EXTRA_TAXONOMIES', message: `"${name}" is not a taxonomy name (letters, digits and _)` });
      continue;
    }
    const setting = taxonomySetting(name);
    let raw: unknown;
    const text = settings[setting];
    if (typeof text === 'string' && text.trim() !== '') {
      try {
        raw = JSON.parse(text);
      } catch (err) {
        problems.push({ setting, message: `not valid JSON (${(err as Error).message})` });
        continue;
      }
      if (!isObject(raw) || Object.keys(raw).length === 0) {
        problems.push({ setting, message: 'must be a JSON object of column types in os-types format ({"<type>": {"dataType": …}})' });
        continue;
      }
    } else if (Object.hasOwn(BUILT_IN_TAXONOMIES, name.toLowerCase())) {
      raw = (BUILT_IN_TAXONOMIES[name.toLowerCase()] as () => OsTypeTable)();
    } else {
      problems.push({
        setting: 'OS_EXTRA_TAXONOMIES',
        message: `"${name}" is neither a built-in taxonomy (${Object.keys(BUILT_IN_TAXONOMIES).join(', ')}) nor defined in ${setting}`,
      });
      continue;
    }
    for (const [type, definition] of Object.entries(raw as Record<string, unknown>)) {
      const bad = (message: string) => problems.push({ setting, message: `type "${type}" ${message}` });
      const shape = shapeProblems(type, definition);
      if (shape.length > 0) {
        shape.forEach(bad);
        continue;
      }
      if (Object.hasOwn(builtIn, type)) {
        bad('redefines a built-in os-types type');
        continue;
      }
      const earlier = origin.get(type);
      if (earlier !== undefined && JSON.stringify(types[type]) !== JSON.stringify(definition)) {
        bad(`is defined differently in ${earlier}`);
        continue;
      }
      types[type] = definition as OsTypeDefinition;
      origin.set(type, setting);
    }
  }
  const known = (t: string) => Object.hasOwn(types, t) || Object.hasOwn(builtIn, t);
  for (const [type, definition] of Object.entries(types)) {
    const setting = origin.get(type) as string;
    for (const ref of ['labelfor', 'parent'] as const) {
      const target = definition[ref];
      if (target !== undefined && !known(target)) problems.push({ setting, message: `type "${type}": ${ref} "${target}" is not a known type` });
    }
    // os-types climbs parents until a column matches: a cycle would never end.
    const seen = new Set([type]);
    for (let p = definition.parent; p !== undefined && known(p); p = (types[p] ?? builtIn[p])?.parent) {
      if (seen.has(p)) {
        problems.push({ setting, message: `type "${type}": its parents form a cycle through "${p}"` });
        break;
      }
      seen.add(p);
    }
  }
  return { types: problems.length > 0 ? {} : types, problems };
}

/** A TypeProcessor that knows os-types' types and `extra`. */
export function typeProcessor(extra: OsTypeTable): TypeProcessor {
  const processor = new TypeProcessor();
  // A fresh table: os-types' module-level one is shared by every processor.
  if (Object.keys(extra).length > 0) processor.types = { ...processor.types, ...extra };
  return processor;
}
