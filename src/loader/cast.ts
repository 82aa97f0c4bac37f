/**
 * Row casting: CSV text values -> values for the fact table, per Table Schema
 * type and format, as the original loader (tableschema-py 1.x) accepted them,
 * plus the original's row processing (measure `factor`, legacy `:code:part`
 * code concatenation). Every output value is text (or null) ready to be sent
 * as an element of a Postgres `unnest($n::<type>[])` array parameter.
 */
import { formatDecimal, isIntegral, multiplyDecimal, parseDecimal, toIntegerText, type Decimal } from './decimal';
import type { FdpModel, Field, FiscalPackage } from './types';

/** A value that does not fit its field; `row` is the 1-based data row (0 = header). */
export class CastError extends Error {
  constructor(
    readonly row: number,
    readonly column: string,
    readonly value: string,
    message: string,
  ) {
    super(message);
    this.name = 'CastError';
  }
}

/** Options of {@link createRowCaster}. */
export interface CastOptions {
  /** Values that mean NULL (default `[""]`); a field's own `missingValues` wins. */
  missingValues?: string[];
  /**
   * The CSV header. When given, values are picked by column name (extra CSV
   * columns are ignored; a schema field missing from the header is an error).
   * Without it, values are taken by position and the counts must match.
   */
  header?: string[];
  /** Measure factors by field name (the original multiplied the data, not the model). */
  factors?: Record<string, number>;
  /** Legacy `:code:part` fields: field name -> the field names whose values are joined with " - ". */
  partialCodes?: Record<string, string[]>;
}

/** A row caster: raw CSV values (in CSV column order) -> one text-or-null value per schema field. */
export type RowCaster = (values: string[], rowNumber: number) => Array<string | null>;

type Caster = (value: string) => string;

/** Thrown by a value caster; turned into a CastError with row and column. */
class Invalid extends Error {}

const show = (value: string): string => JSON.stringify(value.length > 80 ? `${value.slice(0, 80)}…` : value);

// ---------------------------------------------------------------- dates

const MONTHS = ['january', 'february', 'march', 'april', 'may', 'june', 'july', 'august', 'september', 'october', 'november', 'december'];
const WEEKDAYS = '(?:mon|tue|wed|thu|fri|sat|sun)[a-z]*';

interface DateParts {
  year?: number;
  month?: number;
  day?: number;
  hour?: number;
  minute?: number;
  second?: number;
  micro?: number;
  pm?: boolean;
  offsetMinutes?: number;
}

type PartSetter = (parts: DateParts, text: string) => void;

const DIRECTIVES: Record<string, [string, PartSetter | null]> = {
  Y: ['(\\d{4})', (p, t) => (p.year = Number(t))],
  y: ['(\\d{2})', (p, t) => (p.year = Number(t) + (Number(t) < 69 ? 2000 : 1900))],
  m: ['(\\d{1,2})', (p, t) => (p.month = Number(t))],
  d: ['(\\d{1,2})', (p, t) => (p.day = Number(t))],
  b: ['([A-Za-z]{3})', (p, t) => (p.month = MONTHS.findIndex((m) => m.startsWith(t.toLowerCase())) + 1 || 99)],
  B: ['([A-Za-z]{3,9})', (p, t) => (p.month = MONTHS.indexOf(t.toLowerCase()) + 1 || 99)],
  H: ['(\\d{1,2})', (p, t) => (p.hour = Number(t))],
  I: ['(\\d{1,2})', (p, t) => (p.hour = Number(t))],
  p: ['([AaPp][Mm])', (p, t) => (p.pm = t.toLowerCase() === 'pm')],
  M: ['(\\d{1,2})', (p, t) => (p.minute = Number(t))],
  S: ['(\\d{1,2})', (p, t) => (p.second = Number(t))],
  f: ['(\\d{1,6})', (p, t) => (p.micro = Number(t.padEnd(6, '0')))],
  z: ['(Z|[+-]\\d{2}:?\\d{2})', (p, t) => (p.offsetMinutes = parseOffset(t))],
  a: [`(?:${WEEKDAYS})`, null],
  A: [`(?:${WEEKDAYS})`, null],
  '%': ['%', null],
};

function parseOffset(t: string): number {
  if (t === 'Z') return 0;
  const digits = t.slice(1).replace(':', '');
  const minutes = Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2));
  return t.startsWith('-') ? -minutes : minutes;
}

/** A compiled strftime-style pattern. */
export interface DatePattern {
  regex: RegExp;
  setters: PartSetter[];
  source: string;
}

/**
 * Compiles a Python strptime pattern (`%d/%m/%Y`, legacy `fmt:` prefix
 * accepted). Throws an Error naming an unsupported directive.
 */
export function compileDatePattern(format: string): DatePattern {
  const source = format.startsWith('fmt:') ? format.slice(4) : format;
  let re = '';
  const setters: PartSetter[] = [];
  for (let i = 0; i < source.length; i++) {
    const ch = source.charAt(i);
    if (ch === '%') {
      const code = source.charAt(++i);
      const directive = DIRECTIVES[code];
      if (!directive) throw new Error(`unsupported date format directive "%${code}" in "${format}"`);
      re += directive[0];
      if (directive[1]) setters.push(directive[1]);
    } else if (/\s/.test(ch)) {
      re += '\\s+';
    } else {
      re += ch.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
    }
  }
  return { regex: new RegExp(`^${re}$`, 'i'), setters, source };
}

function matchPattern(pattern: DatePattern, value: string): DateParts | null {
  const m = pattern.regex.exec(value.trim());
  if (!m) return null;
  const parts: DateParts = {};
  pattern.setters.forEach((set, i) => set(parts, m[i + 1] as string));
  if (parts.pm !== undefined && parts.hour !== undefined) {
    if (parts.hour < 1 || parts.hour > 12) return null;
    parts.hour = (parts.hour % 12) + (parts.pm ? 12 : 0);
  }
  return parts;
}

const pad = (n: number, width = 2): string => String(n).padStart(width, '0');

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** Whether year-month-day is a real calendar date (years 1–9999). */
export function validDate(year: number, month: number, day: number): boolean {
  if (year < 1 || year > 9999 || month < 1 || month > 12 || day < 1) return false;
  if (month === 2 && day === 29) return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  return day <= (DAYS_IN_MONTH[month - 1] as number);
}

function formatDate(p: DateParts): string | null {
  const year = p.year ?? 1900;
  const month = p.month ?? 1;
  const day = p.day ?? 1;
  return validDate(year, month, day) ? `${pad(year, 4)}-${pad(month)}-${pad(day)}` : null;
}

function formatTime(p: DateParts): string | null {
  const h = p.hour ?? 0;
  const m = p.minute ?? 0;
  const s = p.second ?? 0;
  if (h > 23 || m > 59 || s > 59) return null;
  return `${pad(h)}:${pad(m)}:${pad(s)}${p.micro ? `.${pad(p.micro, 6)}` : ''}`;
}

function formatDateTime(p: DateParts): string | null {
  let parts = p;
  if (p.offsetMinutes) {
    // TIMESTAMP has no zone: store the UTC instant, as an aware value would be.
    const ms = Date.UTC(p.year ?? 1900, (p.month ?? 1) - 1, p.day ?? 1, p.hour ?? 0, p.minute ?? 0, p.second ?? 0);
    if (formatDate(p) === null || formatTime(p) === null) return null;
    const d = new Date(ms - p.offsetMinutes * 60_000);
    parts = {
      year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate(),
      hour: d.getUTCHours(), minute: d.getUTCMinutes(), second: d.getUTCSeconds(), micro: p.micro,
    };
  }
  const date = formatDate(parts);
  const time = formatTime(parts);
  return date && time ? `${date} ${time}` : null;
}

const ISO_DATE = compileDatePattern('%Y-%m-%d');
const ISO_TIME = /^(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,6}))?$/;
const ISO_DATETIME = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,6}))?(Z|[+-]\d{2}:?\d{2})?$/;

/** Patterns tried, in order, for the `any` format (month-first like the original's dateutil). */
const ANY_DATE_PATTERNS = ['%Y-%m-%d', '%Y/%m/%d', '%Y%m%d', '%m/%d/%Y', '%d.%m.%Y', '%d %B %Y', '%d %b %Y', '%B %d, %Y', '%b %d, %Y', '%B %d %Y', '%b %d %Y'].map(compileDatePattern);

function isoDateTimeParts(value: string): DateParts | null {
  const m = ISO_DATETIME.exec(value.trim());
  if (!m) return null;
  return {
    year: Number(m[1]), month: Number(m[2]), day: Number(m[3]), hour: Number(m[4]), minute: Number(m[5]),
    second: Number(m[6]), micro: m[7] ? Number(m[7].padEnd(6, '0')) : undefined,
    offsetMinutes: m[8] ? parseOffset(m[8]) : undefined,
  };
}

/** Value of the two-digit decimal at `at`, or -1. */
function twoDigits(v: string, at: number): number {
  const a = v.charCodeAt(at) - 48;
  const b = v.charCodeAt(at + 1) - 48;
  return a >= 0 && a <= 9 && b >= 0 && b <= 9 ? a * 10 + b : -1;
}

/** A valid canonical YYYY-MM-DD date (returned as it is): the common case, without the pattern machinery. */
function canonicalDate(v: string): boolean {
  if (v.length !== 10 || v.charCodeAt(4) !== 45 || v.charCodeAt(7) !== 45) return false;
  const hi = twoDigits(v, 0);
  const lo = twoDigits(v, 2);
  const month = twoDigits(v, 5);
  const day = twoDigits(v, 8);
  return hi >= 0 && lo >= 0 && month >= 0 && day >= 0 && validDate(hi * 100 + lo, month, day);
}

function dateCaster(field: Field): Caster {
  const format = field.format ?? 'default';
  const hint = 'dates must be YYYY-MM-DD unless the field has a "format" (e.g. "%d/%m/%Y")';
  if (format === 'default') {
    return (v) => {
      if (canonicalDate(v)) return v;
      const parts = matchPattern(ISO_DATE, v);
      const out = parts && formatDate(parts);
      if (!out) throw new Invalid(`is not a date (${hint})`);
      return out;
    };
  }
  if (format === 'any') {
    return (v) => {
      for (const pattern of ANY_DATE_PATTERNS) {
        const parts = matchPattern(pattern, v);
        const out = parts && formatDate(parts);
        if (out) return out;
      }
      const dt = isoDateTimeParts(v);
      const out = dt && formatDate(dt);
      if (!out) throw new Invalid('is not a recognisable date');
      return out;
    };
  }
  const pattern = compileDatePattern(format);
  return (v) => {
    const parts = matchPattern(pattern, v);
    const out = parts && formatDate(parts);
    if (!out) throw new Invalid(`is not a date in the format "${pattern.source}"`);
    return out;
  };
}

function dateTimeCaster(field: Field): Caster {
  const format = field.format ?? 'default';
  if (format === 'default' || format === 'any') {
    return (v) => {
      const parts = isoDateTimeParts(v);
      const out = parts && formatDateTime(parts);
      if (!out) throw new Invalid('is not a datetime (expected ISO 8601, e.g. 2015-01-31T13:45:00Z)');
      return out;
    };
  }
  const pattern = compileDatePattern(format);
  return (v) => {
    const parts = matchPattern(pattern, v);
    const out = parts && formatDateTime(parts);
    if (!out) throw new Invalid(`is not a datetime in the format "${pattern.source}"`);
    return out;
  };
}

function timeCaster(field: Field): Caster {
  const format = field.format ?? 'default';
  if (format === 'default' || format === 'any') {
    return (v) => {
      const m = ISO_TIME.exec(v.trim());
      const out = m && formatTime({ hour: Number(m[1]), minute: Number(m[2]), second: Number(m[3]), micro: m[4] ? Number(m[4].padEnd(6, '0')) : 0 });
      if (!out) throw new Invalid('is not a time (expected HH:MM:SS)');
      return out;
    };
  }
  const pattern = compileDatePattern(format);
  return (v) => {
    const parts = matchPattern(pattern, v);
    const out = parts && formatTime(parts);
    if (!out) throw new Invalid(`is not a time in the format "${pattern.source}"`);
    return out;
  };
}

// ---------------------------------------------------------------- numbers

const CANONICAL_NUMBER = /^-?(?:0|[1-9]\d{0,100})(?:\.\d{1,100})?$/;
const CANONICAL_INTEGER = /^-?(?:0|[1-9]\d{0,17})$/;
const BIGINT_MIN = -(2n ** 63n);
const BIGINT_MAX = 2n ** 63n - 1n;

/** Number text -> Decimal per decimalChar/groupChar/bareNumber (or null). */
function numberParser(field: Field): (v: string) => Decimal | null {
  const decimalChar = field.decimalChar ?? '.';
  const groupChar = field.groupChar ?? '';
  // The FDP "currency" number format predates bareNumber: it meant "strip the currency sign".
  const bare = field.bareNumber ?? field.format !== 'currency';
  return (raw) => {
    let v = raw.replace(/\s/g, '');
    if (groupChar !== '') v = v.split(groupChar).join('');
    if (decimalChar !== '.') v = v.split(decimalChar).join('.');
    if (!bare) v = v.replace(/^[^\d+.-]+|[^\d.]+$/g, '');
    return parseDecimal(v);
  };
}

/** Whether an unscaled canonical number of `field` is written as it is: "." must mean its decimal point. */
export function keepsCanonicalNumbers(field: Field): boolean {
  return (field.decimalChar ?? '.') === '.' && field.groupChar !== '.';
}

function numberCaster(field: Field, factor: Decimal | null): Caster {
  const parse = numberParser(field);
  const hint = field.groupChar ? '' : ' (set the field\'s "groupChar" if it uses thousands separators)';
  const fast = !factor && keepsCanonicalNumbers(field);
  return (v) => {
    // Fast path: already canonical and nothing to multiply.
    if (fast && CANONICAL_NUMBER.test(v)) return v;
    let d = parse(v);
    if (!d) throw new Invalid(`is not a number${/\d[,.' ]\d{3}/.test(v) ? hint : ''}`);
    if (factor) d = multiplyDecimal(d, factor);
    return formatDecimal(d);
  };
}

function integerCaster(field: Field, factor: Decimal | null): Caster {
  const bare = field.bareNumber ?? true;
  return (raw) => {
    // Fast path: canonical and at most 18 digits, so always within BIGINT.
    if (!factor && CANONICAL_INTEGER.test(raw)) return raw;
    let v = raw.trim();
    if (!bare) v = v.replace(/^[^\d+-]+|\D+$/g, '');
    if (!/^[+-]?\d+$/.test(v)) throw new Invalid('is not an integer');
    let d = parseDecimal(v) as Decimal;
    if (factor) {
      d = multiplyDecimal(d, factor);
      if (!isIntegral(d)) throw new Invalid('multiplied by the measure factor is not an integer');
    }
    const text = toIntegerText(d);
    const n = BigInt(text);
    if (n < BIGINT_MIN || n > BIGINT_MAX) throw new Invalid('is too large for a 64-bit integer (type the field "number")');
    return text;
  };
}

// ---------------------------------------------------------------- the rest

/** The words a boolean field reads as true and as false: its own, or Table Schema's defaults. */
export function booleanWords(field: Field): { trueValues: string[]; falseValues: string[] } {
  return { trueValues: field.trueValues ?? ['true', 'True', 'TRUE', '1'], falseValues: field.falseValues ?? ['false', 'False', 'FALSE', '0'] };
}

function booleanCaster(field: Field): Caster {
  const words = booleanWords(field);
  const trueValues = new Set(words.trueValues);
  const falseValues = new Set(words.falseValues);
  return (v) => {
    if (trueValues.has(v)) return 'true';
    if (falseValues.has(v)) return 'false';
    const t = v.trim();
    if (trueValues.has(t)) return 'true';
    if (falseValues.has(t)) return 'false';
    throw new Invalid(`is not a boolean (accepted: ${[...trueValues, ...falseValues].join(', ')})`);
  };
}

function jsonCaster(kind: 'object' | 'array' | 'geojson'): Caster {
  return (v) => {
    let parsed: unknown;
    try {
      parsed = JSON.parse(v);
    } catch {
      throw new Invalid(`is not JSON (a ${kind} value must be JSON)`);
    }
    const isArray = Array.isArray(parsed);
    const isObject = typeof parsed === 'object' && parsed !== null && !isArray;
    if (kind === 'array' ? !isArray : !isObject || (kind === 'geojson' && typeof (parsed as { type?: unknown }).type !== 'string')) {
      throw new Invalid(`is not a JSON ${kind === 'geojson' ? 'GeoJSON object' : kind}`);
    }
    return JSON.stringify(parsed);
  };
}

const yearCaster: Caster = (v) => {
  const t = v.trim();
  if (!/^[+-]?\d{1,4}$/.test(t)) throw new Invalid('is not a year');
  return String(Number(t));
};

/** Types whose cast values never hold a backslash, tab or line break (canonical numbers, dates, booleans). */
const PLAIN_TYPES = new Set(['integer', 'number', 'boolean', 'date', 'datetime', 'time', 'year']);

/** Whether values of `type` come out of the caster free of characters that text formats must escape. */
export function castsToPlainText(type: string): boolean {
  return PLAIN_TYPES.has(type);
}

/** Types whose cast value is the CSV's text as it is (JSON types are re-serialised, numbers and dates may be rewritten). */
const ROW_TEXT_TYPES = new Set(['string', 'yearmonth', 'duration', 'geopoint', 'any']);

/**
 * Whether values of `type` are the row's own text (or parts of it, as legacy
 * partial codes are), so they need no escaping when the row's text needs none.
 */
export function castsToRowText(type: string): boolean {
  return ROW_TEXT_TYPES.has(type);
}

/** Table Schema types the loader knows (anything else is rejected by descriptor validation). */
export const KNOWN_TYPES = new Set([
  'string', 'number', 'integer', 'boolean', 'date', 'datetime', 'time', 'year', 'yearmonth', 'duration',
  'object', 'array', 'geojson', 'geopoint', 'any',
]);

/** The value caster of one field; throws an Error for an unusable format. */
export function valueCaster(field: Field, factor?: number): Caster {
  const factorDecimal = factor !== undefined && factor !== 1 ? parseDecimal(String(factor)) : null;
  if (factor !== undefined && factor !== 1 && !factorDecimal) throw new Error(`measure factor ${factor} is not a finite number`);
  switch (field.type) {
    case 'number':
      return numberCaster(field, factorDecimal);
    case 'integer':
      return integerCaster(field, factorDecimal);
    case 'boolean':
      return booleanCaster(field);
    case 'date':
      return dateCaster(field);
    case 'datetime':
      return dateTimeCaster(field);
    case 'time':
      return timeCaster(field);
    case 'year':
      return yearCaster;
    case 'object':
    case 'array':
    case 'geojson':
      return jsonCaster(field.type);
    default:
      return (v) => v;
  }
}

/** The header column of each schema field (-1 when the header lacks it). */
export function headerIndexes(fields: Field[], header: string[]): number[] {
  const exact = new Map<string, number>();
  const trimmed = new Map<string, number>();
  header.forEach((h, i) => {
    if (!exact.has(h)) exact.set(h, i);
    if (!trimmed.has(h.trim())) trimmed.set(h.trim(), i);
  });
  return fields.map((f) => exact.get(f.name) ?? trimmed.get(f.name.trim()) ?? -1);
}

/**
 * Maps schema fields to CSV column indexes: by name when a header is given
 * (exact match first, then ignoring surrounding spaces), else by position.
 */
export function columnIndexes(fields: Field[], header?: string[]): number[] {
  if (!header) return fields.map((_, i) => i);
  const indexes = headerIndexes(fields, header);
  const missing = fields.filter((_, i) => indexes[i] === -1).map((f) => f.name);
  if (missing.length > 0) {
    throw new CastError(
      0,
      missing[0] as string,
      '',
      `the CSV has no column ${missing.map((m) => JSON.stringify(m)).join(', ')} of the schema (its header is: ${header.map((h) => JSON.stringify(h)).join(', ')})`,
    );
  }
  return indexes;
}

/** Extra options of {@link createRowCaster} about the output row. */
export interface RowShape {
  /** Put the 1-based row number (as text) first: the fact table's `_id`. */
  rowNumberFirst?: boolean;
}

/** The values that mean NULL in `field`, each once: its own `missingValues`, else the package's (default `[""]`). */
export function missingValuesOf(field: Field, options: CastOptions): string[] {
  return [...new Set(field.missingValues ?? options.missingValues ?? [''])];
}

/** The measure factor `options` give `field`, if any. */
export function factorOf(field: Field, options: CastOptions): number | undefined {
  return options.factors && Object.hasOwn(options.factors, field.name) ? options.factors[field.name] : undefined;
}

/** The per-field work of a row caster or checker. */
function fieldPlans(fields: Field[], options: CastOptions) {
  const indexes = columnIndexes(fields, options.header);
  return fields.map((field, i) => {
    const missing = new Set(missingValuesOf(field, options));
    const only = missing.size === 1 ? ([...missing][0] as string) : null;
    return {
      name: field.name,
      column: indexes[i] as number,
      cast: valueCaster(field, factorOf(field, options)),
      isMissing: only !== null ? (v: string) => v === only : (v: string) => missing.has(v),
      required: field.constraints?.required === true,
      type: `${field.type}/${field.format ?? 'default'}`,
    };
  });
}

/**
 * Builds the caster for rows of `fields`. Throws a CastError (row 0) when the
 * header lacks a schema field, and an Error for an unusable field format.
 *
 * It runs once per value of a load, so it avoids per-row allocations beyond
 * the output array: values are read in place, and the usual missing value
 * (the empty string) is compared directly rather than looked up.
 */
export function createRowCaster(fields: Field[], options: CastOptions = {}, shape: RowShape = {}): RowCaster {
  const byName = new Map(fields.map((f, i) => [f.name, i]));
  const plans = fieldPlans(fields, options);
  const partials = Object.entries(options.partialCodes ?? {}).map(([name, chain]) => ({
    target: byName.get(name) ?? -1,
    chain: chain.map((n) => byName.get(n) ?? -1),
  }));
  const width = options.header ? options.header.length : fields.length;
  const first = shape.rowNumberFirst ? 1 : 0;
  const count = plans.length;

  return (values, rowNumber) => {
    if (values.length !== width) {
      throw new CastError(rowNumber, '', '', `row ${rowNumber} has ${values.length} values but ${options.header ? 'the header has' : 'the schema has'} ${width}`);
    }
    const out: Array<string | null> = new Array<string | null>(count + first);
    if (first) out[0] = String(rowNumber);
    for (let i = 0; i < count; i++) {
      const plan = plans[i] as (typeof plans)[number];
      const value = values[plan.column] as string;
      if (plan.isMissing(value)) {
        if (plan.required) throw new CastError(rowNumber, plan.name, value, `row ${rowNumber}, column "${plan.name}": a value is required`);
        out[i + first] = null;
        continue;
      }
      try {
        out[i + first] = plan.cast(value);
      } catch (error) {
        const why = error instanceof Invalid ? error.message : `cannot be cast (${String(error)})`;
        throw new CastError(rowNumber, plan.name, value, `row ${rowNumber}, column "${plan.name}": ${show(value)} ${why}`);
      }
    }
    // Legacy partial codes join the RAW values of the chain (parents first), as the original did.
    for (const { target, chain } of partials) {
      if (target < 0) continue;
      const own = out[target + first];
      out[target + first] =
        own === null || own === ''
          ? ''
          : chain
              .map((c) => {
                const p = plans[c];
                const raw = p ? (values[p.column] as string) : '';
                return p?.isMissing(raw) ? '' : raw;
              })
              .join(' - ');
    }
    return out;
  };
}

/** One problem of a row, found by a {@link RowChecker}. */
export interface CellProblem {
  kind: 'type' | 'required' | 'extra' | 'missing';
  /** The schema field ('' for a value beyond the header). */
  field: string;
  /** 1-based position of the cell in the CSV row. */
  position: number;
  value: string;
  /** The caster's words, as a load error says them (`row 3, column "x": "n/a" is not a number`). */
  message: string;
  /** Frictionless's note for the error: `type is "number/default"`, `constraint "required" is "True"`. */
  note: string;
}

/** Every problem of one row (empty when the row casts). */
export type RowChecker = (values: string[], rowNumber: number) => CellProblem[];

/**
 * Builds the checker of rows of `fields`: the same rules as
 * {@link createRowCaster}, but it names every bad cell of a row (for the
 * validation report) rather than stopping at the first. A row of the wrong
 * width gets a missing-cell problem per absent field and an extra-cell one
 * per value beyond the header, and its other values are still checked.
 */
export function createRowChecker(fields: Field[], options: CastOptions = {}): RowChecker {
  const plans = fieldPlans(fields, options);
  const width = options.header ? options.header.length : fields.length;
  const widthNote = (n: number) => `the row has ${n} values but ${options.header ? 'the header has' : 'the schema has'} ${width}`;
  return (values, rowNumber) => {
    const problems: CellProblem[] = [];
    for (const plan of plans) {
      const position = plan.column + 1;
      if (plan.column >= values.length) {
        const note = widthNote(values.length);
        problems.push({ kind: 'missing', field: plan.name, position, value: '', message: `row ${rowNumber}, column "${plan.name}": no value (${note})`, note });
        continue;
      }
      const value = values[plan.column] as string;
      if (plan.isMissing(value)) {
        if (plan.required) {
          problems.push({ kind: 'required', field: plan.name, position, value, message: `row ${rowNumber}, column "${plan.name}": a value is required`, note: 'constraint "required" is "True"' });
        }
        continue;
      }
      try {
        plan.cast(value);
      } catch (error) {
        const why = error instanceof Invalid ? error.message : `cannot be cast (${String(error)})`;
        problems.push({ kind: 'type', field: plan.name, position, value, message: `row ${rowNumber}, column "${plan.name}": ${show(value)} ${why}`, note: `type is "${plan.type}"` });
      }
    }
    for (let i = width; i < values.length; i++) {
      const value = values[i] as string;
      const note = widthNote(values.length);
      problems.push({ kind: 'extra', field: '', position: i + 1, value, message: `row ${rowNumber}: an extra value ${show(value)} at position ${i + 1} (${note})`, note });
    }
    problems.sort((a, b) => a.position - b.position);
    return problems;
  };
}

/**
 * Legacy `:code:part` chains (pre-2018 `osType`): for each primary-key
 * attribute whose field's osType ends in `:code:part`, the fields whose
 * values make up its stored code (the parent's chain plus itself). A
 * `:code:full` key starts a chain. Throws an Error when a part's parent is
 * not an earlier key with an osType (the original failed there too).
 */
export function partialCodeChains(model: FdpModel, fields: Field[]): Record<string, string[]> {
  const fieldByName = new Map(fields.map((f) => [f.name, f]));
  const chains = new Map<string, string[]>();
  for (const [dimName, dim] of Object.entries(model.dimensions)) {
    const keys = Array.isArray(dim.primaryKey) ? dim.primaryKey : [dim.primaryKey];
    for (const key of keys) {
      const attr = Object.hasOwn(dim.attributes, key) ? dim.attributes[key] : undefined;
      const field = attr ? fieldByName.get(attr.source) : undefined;
      const osType = field?.osType;
      if (!attr || !field || typeof osType !== 'string') continue;
      if (osType.endsWith(':code:full')) chains.set(field.name, [field.name]);
      else if (osType.endsWith(':code:part')) {
        const parent = attr.parent !== undefined && Object.hasOwn(dim.attributes, attr.parent) ? dim.attributes[attr.parent] : undefined;
        const parentChain = parent ? chains.get(parent.source) : undefined;
        if (!parentChain) {
          throw new Error(
            `dimension "${dimName}": attribute "${key}" has a ":code:part" osType, so its "parent" must name an earlier key attribute with a code osType`,
          );
        }
        chains.set(field.name, [...parentChain, field.name]);
      }
    }
  }
  return Object.fromEntries([...chains].filter(([, chain]) => chain.length > 1));
}

/** Measure factors (≠ 1) by source field name, for measures of the loaded resource. */
export function measureFactors(model: FdpModel, resourceName?: string): Record<string, number> {
  const factors: Record<string, number> = {};
  for (const measure of Object.values(model.measures)) {
    if (measure.resource !== undefined && resourceName !== undefined && measure.resource !== resourceName) continue;
    if (typeof measure.factor === 'number' && measure.factor !== 1) factors[measure.source] = measure.factor;
  }
  return factors;
}

/** The cast options the original loader used for a package: missing values, measure factors, legacy partial codes. */
export function castOptionsFor(pkg: FiscalPackage, header?: string[]): CastOptions {
  return {
    missingValues: pkg.resource.missingValues,
    header,
    factors: measureFactors(pkg.model, pkg.resource.name),
    partialCodes: partialCodeChains(pkg.model, pkg.resource.fields),
  };
}
