/**
 * Fiscal data package descriptor validation and normalisation (loader.md §4,
 * §2.8, §2.10): everything the loader needs is checked up front so that a
 * bad package fails with one message listing every problem, before any table
 * is touched.
 */
import { KNOWN_TYPES, partialCodeChains, valueCaster } from './cast';
import { isSupportedEncoding } from './csv';
import { typeProcessor, type OsTypeTable } from './taxonomy';
import type { CsvDialect, FdpDimension, FdpModel, Field, FiscalPackage, LoadResource } from './types';
import { DEFAULT_DIALECT } from './types';

/** A descriptor the loader cannot load; `problems` lists every reason. */
export class DescriptorError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid data package: ${problems.join('; ')}`);
    this.name = 'DescriptorError';
  }
}

/** Most fields a loadable resource may have (one fact table column each). */
export const MAX_FIELDS = 1000;

/** The Data Package name rule (package and resource names). */
export const NAME_PATTERN = /^[-a-z0-9._/]+$/;

/**
 * Why a package name cannot be used, or null. Besides NAME_PATTERN (which
 * already keeps out backslashes, upper case and control characters), the name becomes
 * the id `<owner>:<name>` that clients paste into URL paths and S3 keys: no
 * `/`, no `..`, no leading dot.
 */
export function packageNameProblem(name: string): string | null {
  if (!NAME_PATTERN.test(name)) return 'must contain only lower-case letters, digits and - . _';
  if (name.includes('/') || name.includes('..') || name.startsWith('.')) {
    return 'must not contain "/" or "..", nor start with "."';
  }
  return null;
}

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const isNonEmptyString = (v: unknown): v is string => typeof v === 'string' && v.trim() !== '';
const asList = (v: unknown): unknown[] => (Array.isArray(v) ? v : v === undefined ? [] : [v]);

/**
 * The original's author obfuscation: `Full Name <local@not.shown>`, and the
 * full name alone (the registry's top-level `author`). A bare name (no
 * `<email>`) gives an empty full name, as Python's parseaddr did.
 */
export function obfuscateAuthor(author: string): { author: string; fullName: string } {
  const m = /^\s*(.*?)\s*<([^>]*)>\s*$/.exec(author);
  const fullName = m ? (m[1] as string).replace(/^"(.*)"$/, '$1') : '';
  const email = m ? (m[2] as string).trim() : author.trim();
  return { author: `${fullName} <${email.split('@')[0]}@not.shown>`, fullName };
}

function parseDialect(raw: unknown, problems: string[]): CsvDialect {
  if (raw === undefined) return { ...DEFAULT_DIALECT };
  if (!isObject(raw)) {
    problems.push('resources[0].dialect must be an object');
    return { ...DEFAULT_DIALECT };
  }
  const dialect: CsvDialect = { ...DEFAULT_DIALECT };
  const char = (key: 'delimiter' | 'quoteChar' | 'escapeChar') => {
    const v = raw[key];
    if (v === undefined) return;
    if (typeof v !== 'string' || v.length !== 1 || v.charCodeAt(0) >= 0x80 || v === '\n' || v === '\r') {
      problems.push(`resources[0].dialect.${key} must be a single ASCII character`);
    } else dialect[key] = v;
  };
  char('delimiter');
  char('quoteChar');
  char('escapeChar');
  const flag = (key: 'doubleQuote' | 'skipInitialSpace' | 'header') => {
    const v = raw[key];
    if (v === undefined) return;
    if (typeof v !== 'boolean') problems.push(`resources[0].dialect.${key} must be true or false`);
    else dialect[key] = v;
  };
  flag('doubleQuote');
  flag('skipInitialSpace');
  flag('header');
  if (typeof raw.lineTerminator === 'string') dialect.lineTerminator = raw.lineTerminator;
  if (dialect.delimiter === dialect.quoteChar) problems.push('resources[0].dialect: delimiter and quoteChar must differ');
  return dialect;
}

/** What parseDescriptor may be told besides the descriptor. */
export interface DescriptorOptions {
  /** Column types added to os-types' own (OS_EXTRA_TAXONOMIES, validated by resolveTaxonomies). */
  extraColumnTypes?: OsTypeTable;
}

/** columnType-only fields -> FDP model via os-types (era B's pre-step), dropping the `unknown` dimension. */
function modelFromColumnTypes(fields: Json[], problems: string[], extraTypes: OsTypeTable): { model: FdpModel; types: Record<string, { type: string; format?: string; [key: string]: unknown }> } | null {
  const input = fields
    .filter((f) => isNonEmptyString(f.columnType))
    .map((f) => {
      const copy: Json = { name: f.name, type: f.columnType };
      if (isNonEmptyString(f.title)) copy.title = f.title;
      if (typeof f.resource === 'string') copy.resource = f.resource;
      if (isObject(f.options)) copy.options = structuredClone(f.options);
      return copy;
    });
  const out = typeProcessor(extraTypes).fieldsToModel(input);
  if (out.errors) {
    for (const e of out.errors.general) problems.push(`columnType: ${e}`);
    for (const [field, errors] of Object.entries(out.errors.perField)) {
      for (const e of errors) problems.push(`field "${field}": ${e}`);
    }
    return null;
  }
  if (!out.model || !out.schema) return null;
  const model = structuredClone(out.model) as FdpModel;
  delete model.dimensions.unknown;
  return { model, types: out.schema.fields };
}

function checkModel(model: FdpModel, fieldNames: Set<string>, resourceName: string | undefined, problems: string[]): void {
  if (!isObject(model.measures)) problems.push('model.measures must be an object');
  else {
    for (const [name, measure] of Object.entries(model.measures)) {
      if (!isObject(measure)) {
        problems.push(`measure "${name}" must be an object`);
        continue;
      }
      if (measure.resource !== undefined && measure.resource !== resourceName) continue;
      if (!fieldNames.has(measure.source)) problems.push(`measure "${name}": source ${JSON.stringify(measure.source)} is not a field of resources[0]`);
      if (measure.factor !== undefined && (typeof measure.factor !== 'number' || !Number.isFinite(measure.factor))) {
        problems.push(`measure "${name}": factor must be a number`);
      }
      if (measure.currency !== undefined && typeof measure.currency !== 'string') problems.push(`measure "${name}": currency must be a string`);
    }
  }
  if (!isObject(model.dimensions)) {
    problems.push('model.dimensions must be an object');
    return;
  }
  for (const [name, dim] of Object.entries(model.dimensions as Record<string, FdpDimension>)) {
    if (!isObject(dim) || !isObject(dim.attributes) || Object.keys(dim.attributes).length === 0) {
      problems.push(`dimension "${name}" must have attributes`);
      continue;
    }
    const keys = asList(dim.primaryKey);
    if (keys.length === 0) problems.push(`dimension "${name}" must have a primaryKey`);
    for (const key of keys) {
      if (typeof key !== 'string' || !Object.hasOwn(dim.attributes, key)) problems.push(`dimension "${name}": primaryKey ${JSON.stringify(key)} is not one of its attributes`);
    }
    for (const [attrName, attr] of Object.entries(dim.attributes)) {
      if (!isObject(attr)) {
        problems.push(`dimension "${name}", attribute "${attrName}" must be an object`);
        continue;
      }
      if (!fieldNames.has(attr.source)) {
        problems.push(`dimension "${name}", attribute "${attrName}": source ${JSON.stringify(attr.source)} is not a field of resources[0]`);
      }
      for (const ref of ['labelfor', 'parent'] as const) {
        const target = attr[ref];
        if (target !== undefined && (typeof target !== 'string' || !Object.hasOwn(dim.attributes, target))) {
          problems.push(`dimension "${name}", attribute "${attrName}": ${ref} ${JSON.stringify(target)} is not one of its attributes`);
        }
      }
    }
  }
}

/**
 * Validates a descriptor (parsed JSON) and returns what the loader needs.
 * Accepts the legacy `mapping` alias of `model`, and builds the model from
 * `columnType` fields with os-types (and `options.extraColumnTypes`) when
 * there is none. The returned
 * `descriptor` is the one to store: `model` in place of `mapping`, author
 * obfuscated, `private` defaulting to true. Throws DescriptorError listing
 * every problem found.
 */
export function parseDescriptor(json: unknown, options: DescriptorOptions = {}): FiscalPackage {
  const problems: string[] = [];
  if (!isObject(json)) throw new DescriptorError(['the descriptor must be a JSON object']);
  const descriptor = structuredClone(json);

  const { name, owner, author } = descriptor;
  if (!isNonEmptyString(name)) problems.push('"name" is required');
  else {
    const problem = packageNameProblem(name);
    if (problem) problems.push(`"name" ${JSON.stringify(name)} ${problem}`);
  }
  if (!isNonEmptyString(owner)) problems.push('"owner" is required');
  else if (owner.length > 256 || /[:\s\p{C}]/u.test(owner)) problems.push('"owner" must be a user id (no colon, space or control character)');
  if (!isNonEmptyString(author)) problems.push('"author" is required');

  const resources = descriptor.resources;
  const first = Array.isArray(resources) ? resources[0] : undefined;
  if (!isObject(first)) {
    problems.push('"resources" must be a non-empty list of resources');
    throw new DescriptorError(problems);
  }
  const resourceName = first.name;
  if (!isNonEmptyString(resourceName) || !NAME_PATTERN.test(resourceName)) {
    problems.push('resources[0].name is required and must contain only lower-case letters, digits and - . _ /');
  }
  const path = first.path;
  const url = first.url;
  if (path !== undefined && (typeof path !== 'string' || path === '')) problems.push('resources[0].path must be a string (one file)');
  if (url !== undefined && (typeof url !== 'string' || !/^https?:\/\//i.test(url))) problems.push('resources[0].url must be an http(s) URL');
  if (path === undefined && url === undefined) problems.push(first.data !== undefined ? 'resources[0] must be a CSV file (inline "data" is not supported)' : 'resources[0] needs a "path" or "url"');

  const encoding = first.encoding === undefined ? 'utf-8' : first.encoding;
  if (typeof encoding !== 'string' || !isSupportedEncoding(encoding)) {
    problems.push(`resources[0].encoding ${JSON.stringify(encoding)} is not supported (use UTF-8 or a single-byte encoding such as latin1)`);
  }
  const dialect = parseDialect(first.dialect, problems);

  const schema = first.schema;
  const rawFields = isObject(schema) && Array.isArray(schema.fields) ? schema.fields : undefined;
  if (!rawFields || rawFields.length === 0) {
    problems.push('resources[0].schema.fields must be a non-empty list');
    throw new DescriptorError(problems);
  }
  if (rawFields.length > MAX_FIELDS) {
    // Postgres allows 1600 columns per table; stay clear of it.
    problems.push(`resources[0] has ${rawFields.length} fields; at most ${MAX_FIELDS} can be loaded`);
    throw new DescriptorError(problems);
  }
  const fieldObjects: Json[] = [];
  rawFields.forEach((f, i) => {
    if (!isObject(f) || !isNonEmptyString(f.name)) problems.push(`resources[0].schema.fields[${i}] needs a "name"`);
    else fieldObjects.push(f);
  });
  const seen = new Set<string>();
  for (const f of fieldObjects) {
    if (seen.has(f.name as string)) problems.push(`field name ${JSON.stringify(f.name)} is used twice`);
    seen.add(f.name as string);
  }

  // The model: `model`, legacy `mapping`, or generated from columnType fields.
  let model: FdpModel | undefined;
  let osTypes: Record<string, { type: string; format?: string; [key: string]: unknown }> = {};
  if (descriptor.model === undefined && descriptor.mapping !== undefined) {
    descriptor.model = descriptor.mapping;
    delete descriptor.mapping;
  }
  if (isObject(descriptor.model)) model = descriptor.model as FdpModel;
  else if (descriptor.model !== undefined) problems.push('"model" must be an object');
  else if (fieldObjects.some((f) => isNonEmptyString(f.columnType))) {
    const generated = modelFromColumnTypes(fieldObjects, problems, options.extraColumnTypes ?? {});
    if (generated) {
      model = generated.model;
      osTypes = generated.types;
      descriptor.model = model;
    }
  } else problems.push('"model" is required (or fields with a "columnType")');

  const fields: Field[] = fieldObjects.map((f) => {
    const fromTypes = Object.hasOwn(osTypes, f.name as string) ? osTypes[f.name as string] : undefined;
    const field = { ...f } as Field;
    if (field.type === undefined && fromTypes) {
      field.type = fromTypes.type;
      if (field.format === undefined && fromTypes.format) field.format = fromTypes.format;
      // os-types embeds its number option defaults (groupChar ",", decimalChar "."); era B kept them.
      for (const option of ['decimalChar', 'groupChar'] as const) {
        const value = fromTypes[option];
        if (field[option] === undefined && typeof value === 'string') field[option] = value;
      }
    }
    return field;
  });
  for (const field of fields) {
    if (typeof field.type !== 'string') problems.push(`field ${JSON.stringify(field.name)} needs a "type"`);
    else if (!KNOWN_TYPES.has(field.type)) problems.push(`field ${JSON.stringify(field.name)} has unknown type ${JSON.stringify(field.type)}`);
    else {
      try {
        valueCaster(field);
      } catch (error) {
        problems.push(`field ${JSON.stringify(field.name)}: ${(error as Error).message}`);
      }
    }
  }

  if (model) {
    checkModel(model, new Set(fields.map((f) => f.name)), resourceName as string | undefined, problems);
    if (problems.length === 0) {
      try {
        partialCodeChains(model, fields);
      } catch (error) {
        problems.push((error as Error).message);
      }
    }
  }

  const missingValues = isObject(schema) && schema.missingValues !== undefined ? schema.missingValues : [''];
  if (!Array.isArray(missingValues) || !missingValues.every((v) => typeof v === 'string')) problems.push('schema.missingValues must be a list of strings');

  if (problems.length > 0 || !model) throw new DescriptorError(problems.length > 0 ? problems : ['no model']);

  if (Object.keys(osTypes).length > 0 && isObject(schema)) {
    // Store the data types os-types chose, as era B copied them back onto the resource.
    const stored = (descriptor.resources as Json[])[0]?.schema as Json;
    stored.fields = fields.map((f) => ({ ...f }));
  }
  const obfuscated = obfuscateAuthor(author as string);
  descriptor.author = obfuscated.author;
  if (descriptor.private === undefined) descriptor.private = true;

  const resource: LoadResource = {
    name: resourceName as string,
    fields,
    dialect,
    encoding: encoding as string,
    missingValues: missingValues as string[],
    primaryKey: (isObject(schema) ? asList(schema.primaryKey) : []).filter((k): k is string => typeof k === 'string'),
  };
  if (typeof path === 'string') resource.path = path;
  if (typeof url === 'string') resource.url = url;
  return { descriptor, owner: owner as string, name: name as string, author: obfuscated.fullName, resource, model };
}

/**
 * The URL of the resource: its `url` (http/https only), or its `path`
 * resolved against the descriptor URL. Refuses paths that leave the
 * package's folder (`..`, absolute paths, other hosts) and other schemes.
 */
export function resolveResourceUrl(descriptorUrl: string, resource: Pick<LoadResource, 'url' | 'path'>): string {
  if (resource.url !== undefined) {
    const u = new URL(resource.url);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new DescriptorError([`resource URL scheme ${u.protocol} is not allowed`]);
    if (u.username !== '' || u.password !== '') throw new DescriptorError(['resource URLs must not carry credentials']);
    return u.href;
  }
  const path = resource.path;
  if (path === undefined || path === '') throw new DescriptorError(['resources[0] needs a "path" or "url"']);
  const base = new URL(descriptorUrl);
  if (base.protocol !== 'http:' && base.protocol !== 'https:') throw new DescriptorError([`descriptor URL scheme ${base.protocol} is not allowed`]);
  base.search = '';
  base.hash = '';
  const folder = new URL('./', base).href;
  if (/^[a-z][a-z0-9+.-]*:/i.test(path) || path.startsWith('/') || path.startsWith('\\') || /(^|[\\/])\.\.([\\/]|$)/.test(decodeURIComponentSafe(path))) {
    throw new DescriptorError([`resources[0].path ${JSON.stringify(path)} must be a relative path inside the package folder`]);
  }
  const resolved = new URL(path, folder).href;
  if (!resolved.startsWith(folder)) {
    throw new DescriptorError([`resources[0].path ${JSON.stringify(path)} must be a relative path inside the package folder`]);
  }
  return resolved;
}

function decodeURIComponentSafe(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}
