/**
 * The validation report of a load: what a load that met bad data says about
 * it, in the Frictionless vocabulary (error types, titles, notes, row and
 * field numbers as `frictionless validate` gives them; tools/golden/frictionless),
 * plus the fixes the errors point to. Pure: the loader collects problems
 * (src/loader/cast.ts createRowChecker), the job keeps them (bounded), and
 * /package/report shapes them here.
 */
import { valueCaster, type CellProblem } from './cast.ts';
import type { Field } from './types.ts';

/** The Frictionless error types a load reports. */
export const ERROR_TYPES = {
  'type-error': ['Type Error', 'The value does not match the schema type and format for this field.', ['#table', '#row', '#cell']],
  'constraint-error': ['Constraint Error', 'A field value does not conform to a constraint.', ['#table', '#row', '#cell']],
  'missing-cell': [
    'Missing Cell',
    'This row has less values compared to the header row (the first row in the data source). A key concept is that all the rows in tabular data must have the same number of columns.',
    ['#table', '#row', '#cell'],
  ],
  'extra-cell': [
    'Extra Cell',
    'This row has more values compared to the header row (the first row in the data source). A key concept is that all the rows in tabular data must have the same number of columns.',
    ['#table', '#row', '#cell'],
  ],
  'encoding-error': ['Encoding Error', 'Data reading error because of an encoding problem.', []],
  'missing-label': ['Missing Label', "Based on the schema there should be a label that is missing in the data's header.", ['#table', '#header', '#label']],
  'source-error': ['Source Error', 'Data reading error because of not supported or inconsistent contents.', []],
  'package-error': ['Package Error', 'A validation cannot be processed.', []],
} as const satisfies Record<string, readonly [string, string, readonly string[]]>;

export type ErrorType = keyof typeof ERROR_TYPES;

/** One error as the job keeps it (the constant title, description and tags are added when shown). */
export interface StoredError {
  type: ErrorType;
  /** 1-based data row (the header is not counted); 0 for the header or the file as a whole. */
  dataRow: number;
  fieldName?: string;
  fieldNumber?: number;
  /** The value, truncated to CELL_CHARS. */
  cell?: string;
  /** The loader's words (the original's): `row 3, column "amount": "n/a" is not a number`. */
  message: string;
  /** Frictionless's note: `type is "number/default"`, `constraint "required" is "True"`. */
  note: string;
  /** missing-label: the header as read (each label truncated, at most MAX_LABELS). */
  labels?: string[];
}

/** What a job keeps while it validates: rows read and the errors so far (at most the cap). */
export interface ValidationState {
  /** Data rows read so far. */
  rows: number;
  errors: StoredError[];
  /** The cap was reached: reading stopped there. */
  capped: boolean;
}

/** An error as the report shows it: Frictionless's keys. */
export interface ReportError {
  type: ErrorType;
  title: string;
  description: string;
  message: string;
  tags: string[];
  note: string;
  /** Frictionless's row number: the header is row 1 when the file has one. */
  rowNumber?: number;
  /** The data row the message speaks of (rowNumber - 1 with a header). */
  dataRow?: number;
  fieldName?: string;
  fieldNumber?: number;
  cell?: string;
  labels?: string[];
}

/** A fix the errors point to: `change` is what to put in the descriptor, where `target` says. */
export interface Suggestion {
  /** `field`: the named schema field; `schema`: the resource's schema; `dialect`: the resource's dialect. */
  target: 'field' | 'schema' | 'dialect';
  field?: string;
  change: Record<string, unknown>;
  message: string;
}

export interface LoadReport {
  valid: boolean;
  stats: { rows: number; bytes: number; fields: number; seconds: number; errors: number };
  warnings: string[];
  errors: ReportError[];
  /** Fixes the errors point to (empty when none is obvious). */
  suggestions: Suggestion[];
}

/** Characters of a value kept in an error (and so in the job row). */
export const CELL_CHARS = 100;
const MAX_LABELS = 100;

const truncate = (value: string, max = CELL_CHARS): string => (value.length > max ? `${value.slice(0, max)}…` : value);

/** A new, empty validation. */
export function emptyValidation(rows = 0): ValidationState {
  return { rows, errors: [], capped: false };
}

/** The stored form of the problems of data row `dataRow`. */
export function cellErrors(problems: CellProblem[], dataRow: number): StoredError[] {
  const TYPES: Record<CellProblem['kind'], ErrorType> = {
    type: 'type-error',
    required: 'constraint-error',
    missing: 'missing-cell',
    extra: 'extra-cell',
  };
  return problems.map((p) => ({
    type: TYPES[p.kind],
    dataRow,
    fieldName: p.field,
    fieldNumber: p.position,
    cell: truncate(p.value),
    message: p.message,
    note: p.note,
  }));
}

/** A row whose bytes are not text in the file's encoding. */
export function encodingError(dataRow: number, message: string): StoredError {
  return { type: 'encoding-error', dataRow, message, note: message };
}

/** The header lacks schema field `fieldName` (the load cannot map its columns). */
export function missingLabel(fieldName: string, fieldNumber: number, header: string[], message: string): StoredError {
  return {
    type: 'missing-label',
    dataRow: 0,
    fieldName,
    fieldNumber,
    message,
    note: '',
    labels: header.slice(0, MAX_LABELS).map((l) => truncate(l)),
  };
}

/** A problem that stops reading the file (broken quoting, binary data, a failed descriptor...). */
export function fatalError(type: 'source-error' | 'encoding-error' | 'package-error', message: string, dataRow = 0): StoredError {
  return { type, dataRow, message, note: message };
}

/**
 * Adds `errors` to `state` up to `cap` errors in all; returns false once the
 * cap is reached (the load stops reading).
 */
export function addErrors(state: ValidationState, errors: StoredError[], cap: number): boolean {
  for (const e of errors) {
    if (state.errors.length >= cap) {
      state.capped = true;
      return false;
    }
    state.errors.push(e);
  }
  if (state.errors.length >= cap) state.capped = true;
  return !state.capped;
}

const plural = (n: number, word: string): string => `${n.toLocaleString('en-US')} ${word}${n === 1 ? '' : 's'}`;

/**
 * The job's `error`: the first error's message, counting the rest, e.g.
 * `row 12, column "amount": "n/a" is not a number (and 57 more errors in 3 columns)`.
 */
export function summarySentence(state: ValidationState): string {
  const [first, ...rest] = state.errors;
  if (!first) return 'the data is not valid';
  if (rest.length === 0) return first.message;
  const columns = new Set(state.errors.map((e) => e.fieldName).filter((n): n is string => n !== undefined && n !== ''));
  const where = columns.size > 0 ? ` in ${plural(columns.size, 'column')}` : '';
  const more = `${state.capped ? 'at least ' : ''}${rest.length.toLocaleString('en-US')} more error${rest.length === 1 ? '' : 's'}`;
  const stop = state.capped ? `; the report stops at ${plural(state.errors.length, 'error')}` : '';
  return `${first.message} (and ${more}${where}${stop})`;
}

/** Inputs of {@link buildReport}: a job's figures and what it kept. */
export interface ReportInput {
  /** The load ended and committed its data. */
  done: boolean;
  /** The load is still running (its report may grow). */
  running: boolean;
  rows: number;
  bytes: number;
  fields: Field[];
  seconds: number;
  /** Whether the file has a header row (Frictionless row numbers count it). */
  header: boolean;
  validation: ValidationState | null;
  /** The job's error: shown as a package-error when the load failed without a validation. */
  error: string | null;
  /** Values meaning "missing" declared for the resource (for the missingValues suggestion). */
  missingValues?: string[];
  /** The resource's delimiter (for the dialect suggestion). */
  delimiter?: string;
}

/** The Frictionless-shaped report of a load. */
export function buildReport(input: ReportInput): LoadReport {
  const stored = input.validation?.errors ?? [];
  const errors = stored.length > 0 || input.done || input.running || !input.error ? stored : [fatalError('package-error', input.error)];
  const shown = errors.map((e) => showError(e, input.header));
  const warnings = input.validation?.capped ? [`reached error limit: ${errors.length}`] : [];
  return {
    valid: errors.length === 0 && !(input.error && !input.done),
    stats: {
      rows: input.rows,
      bytes: input.bytes,
      fields: input.fields.length,
      seconds: Math.round(input.seconds * 1000) / 1000,
      errors: errors.length,
    },
    warnings,
    errors: shown,
    suggestions: suggestFixes(errors, input.fields, input.missingValues ?? [''], input.delimiter ?? ','),
  };
}

function showError(e: StoredError, header: boolean): ReportError {
  const [title, description, tags] = ERROR_TYPES[e.type];
  const out: ReportError = { type: e.type, title, description, message: e.message, tags: [...tags], note: e.note };
  if (e.type === 'missing-label') out.rowNumber = 1;
  else if (e.dataRow > 0) {
    out.rowNumber = e.dataRow + (header ? 1 : 0);
    out.dataRow = e.dataRow;
  }
  if (e.fieldName !== undefined) out.fieldName = e.fieldName;
  if (e.fieldNumber !== undefined) out.fieldNumber = e.fieldNumber;
  if (e.cell !== undefined) out.cell = e.cell;
  if (e.labels !== undefined) out.labels = e.labels;
  return out;
}

// ---------------------------------------------------------------- suggestions

const NUMERIC = new Set(['number', 'integer']);

/** Number settings tried, in order, on a column's failing values (the simplest that fits wins). */
const NUMBER_SETTINGS: Array<Pick<Field, 'groupChar' | 'decimalChar'>> = [
  { groupChar: ',' },
  { decimalChar: ',' },
  { groupChar: '.', decimalChar: ',' },
  { groupChar: ' ', decimalChar: ',' },
  { groupChar: "'" },
];

const escapeRe = (c: string): string => c.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * Whether `value` is written as `setting` says: groups of three digits
 * between group characters, one decimal mark. Stricter than the caster
 * (which drops every group character), so a setting that would misread a
 * value ("1.234,5" with groupChar ",") is not suggested.
 */
function writtenWith(value: string, setting: Pick<Field, 'groupChar' | 'decimalChar'>): boolean {
  const d = escapeRe(setting.decimalChar ?? '.');
  const int = setting.groupChar ? `(?:\\d{1,3}(?:${escapeRe(setting.groupChar)}\\d{3})+|\\d+)` : '\\d+';
  return new RegExp(`^[+-]?${int}(?:${d}\\d+)?$`).test(value.trim());
}

/** Date formats tried, in order, on a date column's failing values (day first before month first). */
const DATE_FORMATS = [
  '%d/%m/%Y', '%m/%d/%Y', '%d.%m.%Y', '%d-%m-%Y', '%m-%d-%Y', '%Y/%m/%d', '%Y.%m.%d', '%Y%m%d',
  '%d/%m/%y', '%m/%d/%y', '%d %b %Y', '%d %B %Y', '%b %d, %Y', '%B %d, %Y', '%Y-%m-%dT%H:%M:%S', '%Y-%m-%d %H:%M:%S',
];

const DELIMITERS = [',', ';', '\t', '|', ':'];

const casts = (field: Field, value: string): boolean => {
  try {
    valueCaster(field)(value);
    return true;
  } catch {
    return false;
  }
};

/** Failing values of type errors, by field name. */
function failingValues(errors: StoredError[]): Map<string, string[]> {
  const byField = new Map<string, string[]>();
  for (const e of errors) {
    if (e.type !== 'type-error' || !e.fieldName || e.cell === undefined) continue;
    const list = byField.get(e.fieldName) ?? [];
    list.push(e.cell);
    byField.set(e.fieldName, list);
  }
  return byField;
}

const show = (v: string): string => JSON.stringify(v);

/**
 * The fixes the errors show: a non-numeric token in numeric columns ->
 * declare it in missingValues; thousands separators or a decimal comma ->
 * groupChar/decimalChar; dates in another format -> the format that parses
 * every failing value; a header that names the schema's fields when split
 * at another character -> that delimiter.
 */
export function suggestFixes(errors: StoredError[], fields: Field[], missingValues: string[], delimiter: string): Suggestion[] {
  const out: Suggestion[] = [];
  const byName = new Map(fields.map((f) => [f.name, f]));
  const failing = failingValues(errors);

  // Tokens without a digit that numeric columns cannot read.
  const tokens = new Map<string, { count: number; columns: Set<string> }>();
  for (const [name, values] of failing) {
    if (!NUMERIC.has(byName.get(name)?.type ?? '')) continue;
    for (const v of values) {
      if (/\d/.test(v)) continue;
      const t = tokens.get(v) ?? { count: 0, columns: new Set<string>() };
      t.count++;
      t.columns.add(name);
      tokens.set(v, t);
    }
  }
  const placeholders = [...tokens].filter(([, t]) => t.count >= 2 || t.columns.size >= 2).map(([v]) => v);
  if (placeholders.length > 0) {
    const declared = [...missingValues, ...placeholders.filter((p) => !missingValues.includes(p))];
    const columns = [...new Set(placeholders.flatMap((p) => [...(tokens.get(p)?.columns ?? [])]))];
    out.push({
      target: 'schema',
      change: { missingValues: declared },
      message: `${placeholders.map(show).join(', ')} stand${placeholders.length === 1 ? 's' : ''} for a missing value in ${columns.map(show).join(', ')}: declare it in the schema's "missingValues": ${JSON.stringify(declared)}`,
    });
  }

  for (const [name, values] of failing) {
    const field = byName.get(name);
    if (!field) continue;
    const numeric = values.filter((v) => /\d/.test(v));
    if (numeric.length === 0) continue;
    if (NUMERIC.has(field.type)) {
      for (const setting of NUMBER_SETTINGS) {
        const asNumber: Field = { ...field, type: 'number', ...setting };
        if (!numeric.every((v) => writtenWith(v, setting) && casts(asNumber, v))) continue;
        const change: Record<string, unknown> = field.type === 'integer' ? { type: 'number', ...setting } : { ...setting };
        out.push({
          target: 'field',
          field: name,
          change,
          message: `the values of "${name}" (e.g. ${show(numeric[0] as string)}) are numbers written with ${describeNumber(setting)}: set ${Object.entries(change).map(([k, v]) => `"${k}": ${JSON.stringify(v)}`).join(', ')} on the field`,
        });
        break;
      }
    } else if (field.type === 'date') {
      const fits = DATE_FORMATS.filter((format) => numeric.every((v) => casts({ ...field, format }, v)));
      const [format, ...others] = fits;
      if (!format) continue;
      const also = others.length > 0 ? ` (${others.map(show).join(', ')} also fit${others.length === 1 ? 's' : ''} the values seen: check which is meant)` : '';
      out.push({
        target: 'field',
        field: name,
        change: { format },
        message: `the dates of "${name}" (e.g. ${show(numeric[0] as string)}) all parse with the format ${show(format)}: set "format": ${show(format)} on the field${also}`,
      });
    }
  }

  const label = errors.find((e) => e.type === 'missing-label' && e.labels);
  if (label?.labels) {
    // Without the right delimiter the header is read as one or a few labels.
    const line = label.labels.join(delimiter);
    for (const d of DELIMITERS) {
      if (d === delimiter || !line.includes(d)) continue;
      const names = new Set(line.split(d).map((l) => l.trim().replace(/^"(.*)"$/, '$1')));
      if (fields.every((f) => names.has(f.name))) {
        out.push({
          target: 'dialect',
          change: { delimiter: d },
          message: `the header names every schema field when split at ${show(d)}: set the resource's "dialect": {"delimiter": ${show(d)}}`,
        });
        break;
      }
    }
  }
  return out;
}

function describeNumber(setting: Pick<Field, 'groupChar' | 'decimalChar'>): string {
  const parts: string[] = [];
  if (setting.groupChar) parts.push(`${show(setting.groupChar)} between thousands`);
  if (setting.decimalChar) parts.push(`${show(setting.decimalChar)} as the decimal mark`);
  return parts.join(' and ');
}
