/**
 * FDP `model` -> babbage model, exactly as the era-A loader built it
 * (loader.md §2.7): measure, hierarchy and dimension names come from one
 * shared `taken` set in insertion order, multi-key dimensions are flattened
 * into one babbage dimension per key, and `orig_measure` / `orig_dimension` /
 * `orig_attribute` point back to the FDP model (os-viewer needs them).
 */
import { parseDescriptor } from './descriptor';
import { columnNames, databaseName, pythonTitle } from './naming';
import type { Field, FiscalPackage } from './types';

/** A babbage attribute (`datatype`, not `type`: era-A models disable babbage's cut type check). */
export interface BabbageAttribute {
  column: string;
  label: string;
  datatype: string;
  orig_attribute: string;
}

/** A babbage dimension. */
export interface BabbageDimension {
  attributes: Record<string, BabbageAttribute>;
  label: string;
  key_attribute: string;
  orig_dimension: string;
  label_attribute?: string;
}

/** A babbage measure (babbage defaults its aggregates to sum). */
export interface BabbageMeasure {
  label: string;
  column: string;
  orig_measure: string;
  currency?: string;
}

/** The babbage model stored in the registry (`model`) and served by os-api. */
export interface BabbageModel {
  fact_table: string;
  measures: Record<string, BabbageMeasure>;
  dimensions: Record<string, BabbageDimension>;
  hierarchies?: Record<string, { levels: string[]; label: string }>;
}

const isFiscalPackage = (x: unknown): x is FiscalPackage =>
  typeof x === 'object' && x !== null && 'resource' in x && 'model' in x && 'descriptor' in x;

/**
 * Builds the babbage model of a package for its fact table. `columns` are the
 * fact table column names (with or without the leading `_id`); by default
 * they are computed from the field names. `pkg` may be a parsed package or a
 * raw descriptor (then validated with parseDescriptor).
 */
export function buildBabbageModel(pkg: FiscalPackage | unknown, table: string, columns?: string[]): BabbageModel {
  const parsed = isFiscalPackage(pkg) ? pkg : parseDescriptor(pkg);
  const fields = parsed.resource.fields;
  let cols = columns ?? columnNames(fields.map((f) => f.name));
  if (cols.length === fields.length + 1 && cols[0] === '_id') cols = cols.slice(1);
  if (cols.length !== fields.length) throw new Error(`expected ${fields.length} column names, got ${cols.length}`);

  const fieldBySource = new Map<string, { field: Field; column: string }>(fields.map((f, i) => [f.name, { field: f, column: cols[i] as string }]));
  const source = (name: string) => {
    const found = fieldBySource.get(name);
    if (!found) throw new Error(`${JSON.stringify(name)} is not a field of resources[0]`);
    return found;
  };
  // An explicit title is used even when empty (the UK sample has "" labels).
  const title = (f: Field) => (typeof f.title === 'string' ? f.title : f.name);
  const attribute = (fdpName: string, src: string): BabbageAttribute => {
    const { field, column } = source(src);
    return { column, label: title(field), datatype: field.type, orig_attribute: fdpName };
  };

  const model: BabbageModel = { fact_table: table, measures: {}, dimensions: {} };
  const taken = new Set<string>();

  for (const [m, spec] of Object.entries(parsed.model.measures)) {
    if (spec.resource !== undefined && spec.resource !== parsed.resource.name) continue;
    const name = databaseName(m, taken, 'measure');
    taken.add(name);
    const { field, column } = source(spec.source);
    const measure: BabbageMeasure = { label: title(field), column, orig_measure: m };
    if (spec.currency !== undefined) measure.currency = spec.currency;
    model.measures[name] = measure;
  }

  const hierarchies: NonNullable<BabbageModel['hierarchies']> = {};
  for (const [d, dim] of Object.entries(parsed.model.dimensions)) {
    const h = databaseName(d, taken, 'dimension');
    taken.add(h);

    const attrNames = new Map<string, string>();
    const usedInDim = new Set<string>();
    for (const a of Object.keys(dim.attributes)) {
      const translated = databaseName(a, usedInDim, 'attr');
      usedInDim.add(translated);
      attrNames.set(a, translated);
    }
    const pks = Array.isArray(dim.primaryKey) ? dim.primaryKey : [dim.primaryKey];
    const labels = new Map<string, string>();
    for (const [labelName, attr] of Object.entries(dim.attributes)) {
      if (attr.labelfor !== undefined) labels.set(attr.labelfor, labelName);
    }

    for (const pk of pks) {
      const pkAttr = Object.hasOwn(dim.attributes, pk) ? dim.attributes[pk] : undefined;
      if (!pkAttr) throw new Error(`dimension ${JSON.stringify(d)}: primaryKey ${JSON.stringify(pk)} is not an attribute`);
      const pkName = attrNames.get(pk) as string;
      const dimName = databaseName(pks.length > 1 ? `${d}_${pkName}` : d, taken, 'dimension');
      taken.add(dimName);
      const dimension: BabbageDimension = {
        attributes: { [pkName]: attribute(pk, pkAttr.source) },
        label: title(source(pkAttr.source).field),
        key_attribute: pkName,
        orig_dimension: d,
      };
      const label = labels.get(pk);
      if (label !== undefined) {
        const labelKey = attrNames.get(label) as string;
        dimension.attributes[labelKey] = attribute(label, (dim.attributes[label] as { source: string }).source);
        dimension.label_attribute = labelKey;
      }
      if (pks.length === 1) {
        for (const [attrName, attr] of Object.entries(dim.attributes)) {
          if (attrName === pk || attrName === label) continue;
          dimension.attributes[attrNames.get(attrName) as string] = attribute(attrName, attr.source);
        }
      }
      const hierarchy = (hierarchies[h] ??= { levels: [], label: pythonTitle(h.replace(/_/g, ' ')) });
      hierarchy.levels.push(dimName);
      model.dimensions[dimName] = dimension;
    }
    model.hierarchies = hierarchies;
  }
  return model;
}
