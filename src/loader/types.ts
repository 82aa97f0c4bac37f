/**
 * Shared types of the loader's pure core (descriptor, CSV, casting, SQL,
 * babbage model). Nothing here does I/O.
 */

/** A Table Schema field of `resources[0].schema.fields`, as the loader reads it. */
export interface Field {
  name: string;
  /** Table Schema type (string, number, integer, boolean, date, ...); default `string`. */
  type: string;
  /** Table Schema format (`default`, `any`, `%d/%m/%Y`, legacy `fmt:%Y-%m-%d`, ...). */
  format?: string;
  title?: string;
  decimalChar?: string;
  groupChar?: string;
  /** Number fields: strip a leading/trailing currency or percent sign (Table Schema `bareNumber: false`). */
  bareNumber?: boolean;
  trueValues?: string[];
  falseValues?: string[];
  /** Field-level override of the resource's missing values. */
  missingValues?: string[];
  constraints?: { required?: boolean };
  /** Pre-2018 os-types annotation, e.g. `administrative-classification:generic:level2:code:part`. */
  osType?: string;
  /** FDP v1 / os-types annotation, e.g. `date:fiscal-year`. */
  columnType?: string;
  [key: string]: unknown;
}

/** CSV Dialect (frictionless), with defaults filled in by `parseDescriptor`. */
export interface CsvDialect {
  delimiter: string;
  quoteChar: string;
  /** `""` inside a quoted field stands for one `"`. */
  doubleQuote: boolean;
  /** Character that makes the next character literal (none by default). */
  escapeChar?: string;
  skipInitialSpace: boolean;
  /** Informational: the parser accepts `\n`, `\r\n` and `\r` whatever this says. */
  lineTerminator: string;
  /** Whether the first row is a header row (default true). */
  header: boolean;
}

/** The default CSV dialect (RFC 4180 with a header row). */
export const DEFAULT_DIALECT: CsvDialect = {
  delimiter: ',',
  quoteChar: '"',
  doubleQuote: true,
  skipInitialSpace: false,
  lineTerminator: '\r\n',
  header: true,
};

/** An FDP measure (`model.measures.<name>`). */
export interface FdpMeasure {
  source: string;
  currency?: string;
  factor?: number;
  resource?: string;
  title?: string;
  [key: string]: unknown;
}

/** An FDP dimension attribute. */
export interface FdpAttribute {
  source: string;
  labelfor?: string;
  parent?: string;
  resource?: string;
  title?: string;
  [key: string]: unknown;
}

/** An FDP dimension (`model.dimensions.<name>`). */
export interface FdpDimension {
  attributes: Record<string, FdpAttribute>;
  primaryKey: string | string[];
  dimensionType?: string;
  [key: string]: unknown;
}

/** The FDP `model` (formerly `mapping`). */
export interface FdpModel {
  measures: Record<string, FdpMeasure>;
  dimensions: Record<string, FdpDimension>;
  [key: string]: unknown;
}

/** The loadable resource (`resources[0]`), normalised. */
export interface LoadResource {
  /** Resource name (`resources[0].name`), used to match `measure.resource`. */
  name?: string;
  /** Relative path inside the package (resolve with `resolveResourceUrl`). */
  path?: string;
  /** Absolute URL, when the descriptor gives one. */
  url?: string;
  fields: Field[];
  dialect: CsvDialect;
  /** Text encoding label for TextDecoder (default `utf-8`). */
  encoding: string;
  /** Values that mean NULL (default `[""]`). */
  missingValues: string[];
  /** `resources[0].schema.primaryKey`, as a list (used for indexes). */
  primaryKey: string[];
}

/** A validated fiscal data package, ready to load. */
export interface FiscalPackage {
  /** The descriptor as given, with `mapping` renamed to `model` and a generated model when needed. */
  descriptor: Record<string, unknown>;
  owner: string;
  name: string;
  /** The author's full name (the registry's top-level `author`); the stored descriptor has the obfuscated form. */
  author?: string;
  resource: LoadResource;
  model: FdpModel;
}
