/**
 * CSV row bytes -> COPY text-format bytes, without strings: the loader's
 * fast path for rows whose values the row caster would write as they are
 * (text, canonical integers, numbers, years and dates, the boolean words,
 * missing values). For such a row the output is byte for byte what
 * `copyText([caster(fields, row)])` encoded to UTF-8 would be; any other row
 * is refused (nothing written) and goes the string way, which casts it or
 * names its error. Pure: no I/O.
 *
 * Why: decoding each row, slicing its fields, building the COPY line and
 * encoding it again were most of the Worker's CPU per row.
 */
import { booleanWords, columnIndexes, factorOf, keepsCanonicalNumbers, missingValuesOf, validDate, type CastOptions } from './cast';
import type { CsvDialect, Field } from './types';

/** A growing byte buffer the rows are written into (one batch of COPY data). */
export class CopyBuffer {
  bytes: Uint8Array;
  length = 0;

  constructor(capacity = 64 * 1024) {
    this.bytes = new Uint8Array(capacity);
  }

  /** Makes room for `more` bytes after `length`. */
  reserve(more: number): Uint8Array {
    const need = this.length + more;
    if (need > this.bytes.length) {
      const grown = new Uint8Array(Math.max(need, this.bytes.length * 2));
      grown.set(this.bytes.subarray(0, this.length));
      this.bytes = grown;
    }
    return this.bytes;
  }

  /** Appends bytes as they are. */
  append(bytes: Uint8Array): void {
    this.reserve(bytes.length).set(bytes, this.length);
    this.length += bytes.length;
  }

  /** The bytes written so far (a view, not a copy). */
  view(): Uint8Array {
    return this.bytes.subarray(0, this.length);
  }
}

/**
 * Writes the COPY line of the CSV row `b[start, stop)` (`quoted`: it holds a
 * quote character; `row`: its 1-based number, the `_id`) into `out`, or
 * returns false and writes nothing.
 */
export type RowTranscoder = (b: Uint8Array, start: number, stop: number, quoted: boolean, row: number, out: CopyBuffer) => boolean;

const enum Kind {
  Text,
  Integer,
  Number,
  Year,
  Date,
  Boolean,
}

interface Column {
  kind: Kind;
  /** The CSV field it is read from. */
  source: number;
  required: boolean;
  /** Missing values as bytes; `onlyEmpty` when that is just the empty string. */
  missing: Uint8Array[];
  onlyEmpty: boolean;
  /** A missing value holds the quote character (then a field with doubled quotes is refused). */
  missingHasQuote: boolean;
  trueValues: Uint8Array[];
  falseValues: Uint8Array[];
}

const ENCODER = new TextEncoder();
const BACKSLASH = 0x5c;
const TAB = 0x09;
const LF = 0x0a;
const CR = 0x0d;
const MINUS = 0x2d;
const DOT = 0x2e;
const ZERO = 0x30;
const LETTER_N = 0x4e; // NULL is \N
const TRUE = ENCODER.encode('true');
const FALSE = ENCODER.encode('false');

/** The kind of a field whose canonical values the caster keeps as they are, or null (see valueCaster). */
function kindOf(field: Field, factor: number | undefined): Kind | null {
  const format = field.format ?? 'default';
  const scaled = factor !== undefined && factor !== 1;
  switch (field.type) {
    case 'string':
    case 'yearmonth':
    case 'duration':
    case 'geopoint':
    case 'any':
      return Kind.Text;
    case 'integer':
      return scaled ? null : Kind.Integer;
    case 'number':
      return scaled || !keepsCanonicalNumbers(field) ? null : Kind.Number;
    case 'year':
      return Kind.Year;
    case 'date':
      return format === 'default' ? Kind.Date : null;
    case 'boolean':
      return Kind.Boolean;
    default:
      return null;
  }
}

/**
 * The transcoder for rows of `fields` in a CSV with `header` (as
 * createRowCaster picks values), or null when the fast path does not apply:
 * a dialect with an escape character or skipped spaces, an encoding other
 * than UTF-8, legacy partial codes, or a field the caster may rewrite
 * (a scaled measure, a date format, JSON, …).
 */
export function createRowTranscoder(fields: Field[], options: CastOptions, dialect: CsvDialect, encoding: string): RowTranscoder | null {
  if (dialect.escapeChar || dialect.skipInitialSpace || !/^utf-?8$/i.test(encoding.trim())) return null;
  if (Object.keys(options.partialCodes ?? {}).length > 0) return null;
  const delim = dialect.delimiter.charCodeAt(0);
  const quote = dialect.quoteChar.charCodeAt(0);
  const doubleQuote = dialect.doubleQuote;
  const indexes = columnIndexes(fields, options.header);
  const columns: Column[] = [];
  for (const [i, field] of fields.entries()) {
    const kind = kindOf(field, factorOf(field, options));
    if (kind === null) return null;
    const missing = missingValuesOf(field, options);
    const words = booleanWords(field);
    columns.push({
      kind,
      source: indexes[i] as number,
      required: field.constraints?.required === true,
      missing: missing.map((m) => ENCODER.encode(m)),
      onlyEmpty: missing.length === 1 && missing[0] === '',
      missingHasQuote: missing.some((m) => m.includes(dialect.quoteChar)),
      trueValues: words.trueValues.map((v) => ENCODER.encode(v)),
      falseValues: words.falseValues.map((v) => ENCODER.encode(v)),
    });
  }
  const width = options.header ? options.header.length : fields.length;
  // Field bounds of the row being transcoded: [from, to) and whether it has doubled quotes.
  const from = new Int32Array(width);
  const to = new Int32Array(width);
  const doubled = new Uint8Array(width);

  /** Finds the fields of b[start, stop); false for a row the string path must read. */
  const split = (b: Uint8Array, start: number, stop: number, quoted: boolean): boolean => {
    let p = start;
    let f = 0;
    for (;;) {
      if (f === width) return false;
      if (quoted && p < stop && b[p] === quote) {
        let q = p + 1;
        let dq = 0;
        for (;;) {
          while (q < stop && b[q] !== quote) q++;
          if (q >= stop) return false; // not closed in the row
          if (doubleQuote && q + 1 < stop && b[q + 1] === quote) {
            dq = 1;
            q += 2;
            continue;
          }
          break;
        }
        from[f] = p + 1;
        to[f] = q;
        doubled[f] = dq;
        f++;
        p = q + 1;
        if (p === stop) break;
        if (b[p] !== delim) return false; // text after the closing quote
        p++;
        continue;
      }
      let d = p;
      while (d < stop && b[d] !== delim) d++;
      from[f] = p;
      to[f] = d;
      doubled[f] = 0;
      f++;
      if (d === stop) break;
      p = d + 1;
    }
    return f === width;
  };

  return (b, start, stop, quoted, row, out) => {
    if (!split(b, start, stop, quoted)) return false;
    // Escapes at most double a byte; per value a tab and \N or a boolean word; the row number.
    const o = out.reserve(2 * (stop - start) + 8 * columns.length + 24);
    let n = out.length;
    n = writeDigits(o, n, row);
    for (let k = 0; k < columns.length; k++) {
      const c = columns[k] as Column;
      const s = from[c.source] as number;
      const e = to[c.source] as number;
      const dq = doubled[c.source] === 1;
      o[n++] = TAB;
      if (dq && (c.kind !== Kind.Text || c.missingHasQuote)) return false;
      if (c.onlyEmpty ? s === e : isOneOf(b, s, e, c.missing)) {
        if (c.required) return false; // the string path names the error
        o[n++] = BACKSLASH;
        o[n++] = LETTER_N;
        continue;
      }
      switch (c.kind) {
        case Kind.Text: {
          for (let i = s; i < e; i++) {
            const x = b[i] as number;
            // Most bytes: printable ASCII that is copied as it is.
            if (x >= 0x20 && x < 0x80 && x !== BACKSLASH && (!dq || x !== quote)) {
              o[n++] = x;
              continue;
            }
            if (x < 0x80) {
              if (x === BACKSLASH || x === TAB || x === LF || x === CR) {
                o[n++] = BACKSLASH;
                o[n++] = x === BACKSLASH ? BACKSLASH : x === TAB ? 0x74 : x === LF ? 0x6e : 0x72;
                continue;
              }
              if (dq && x === quote) i++; // the second quote of a doubled pair
              o[n++] = x;
              continue;
            }
            const len = utf8SequenceLength(b, i, e);
            if (len === 0) return false; // invalid UTF-8: the string path reports the row
            for (let k = 0; k < len; k++) o[n++] = b[i + k] as number;
            i += len - 1;
          }
          continue;
        }
        case Kind.Integer:
          if (!canonicalNumber(b, s, e, 18, false)) return false;
          break;
        case Kind.Number:
          if (!canonicalNumber(b, s, e, 101, true)) return false;
          break;
        case Kind.Year:
          if (!canonicalNumber(b, s, e, 4, false) || b[s] === MINUS) return false;
          break;
        case Kind.Date:
          if (!canonicalDate(b, s, e)) return false;
          break;
        case Kind.Boolean: {
          const word = isOneOf(b, s, e, c.trueValues) ? TRUE : isOneOf(b, s, e, c.falseValues) ? FALSE : null;
          if (!word) return false;
          for (let j = 0; j < word.length; j++) o[n++] = word[j] as number; // a loop: set() costs more for a few bytes
          continue;
        }
      }
      // A validated number or date: its bytes are its text.
      for (let i = s; i < e; i++) o[n++] = b[i] as number;
    }
    o[n++] = LF;
    out.length = n;
    return true;
  };
}

/** Writes the decimal digits of a positive integer; returns the new length. */
function writeDigits(o: Uint8Array, n: number, value: number): number {
  let digits = 1;
  for (let v = value; v >= 10; v = Math.floor(v / 10)) digits++;
  let v = value;
  for (let k = digits - 1; k >= 0; k--) {
    o[n + k] = ZERO + (v % 10);
    v = Math.floor(v / 10);
  }
  return n + digits;
}

/** Whether b[s, e) equals one of `values`. */
function isOneOf(b: Uint8Array, s: number, e: number, values: Uint8Array[]): boolean {
  outer: for (const v of values) {
    if (v.length !== e - s) continue;
    for (let k = 0; k < v.length; k++) if (b[s + k] !== v[k]) continue outer;
    return true;
  }
  return false;
}

// Top-level functions, not closures made per call: the bundler's keepNames wraps each closure it creates.
function isDigit(x: number): boolean {
  return x >= ZERO && x <= ZERO + 9;
}

/** Where the run of digits from `i` (before `e`) ends. */
function digitsEnd(b: Uint8Array, i: number, e: number): number {
  while (i < e && isDigit(b[i] as number)) i++;
  return i;
}

/**
 * `-?(0|[1-9]\d{0,maxDigits-1})`, then with `fraction` an optional
 * `\.\d{1,100}`: the caster's CANONICAL_INTEGER (18 digits) and
 * CANONICAL_NUMBER (101 digits) on bytes.
 */
function canonicalNumber(b: Uint8Array, s: number, e: number, maxDigits: number, fraction: boolean): boolean {
  let i = s;
  if (i < e && b[i] === MINUS) i++;
  if (i >= e) return false;
  const intStart = i;
  i = b[i] === ZERO ? i + 1 : digitsEnd(b, i, e);
  const intDigits = i - intStart;
  if (intDigits === 0 || intDigits > maxDigits) return false;
  if (i === e) return true;
  if (!fraction || b[i] !== DOT) return false;
  const fracStart = i + 1;
  i = digitsEnd(b, fracStart, e);
  return i === e && i - fracStart >= 1 && i - fracStart <= 100;
}

function digitAt(b: Uint8Array, i: number): number {
  return (b[i] as number) - ZERO;
}

/** A valid YYYY-MM-DD date (the caster's canonicalDate on bytes). */
function canonicalDate(b: Uint8Array, s: number, e: number): boolean {
  if (e - s !== 10 || b[s + 4] !== MINUS || b[s + 7] !== MINUS) return false;
  if (digitsEnd(b, s, s + 4) !== s + 4 || digitsEnd(b, s + 5, s + 7) !== s + 7 || digitsEnd(b, s + 8, e) !== e) return false;
  const year = digitAt(b, s) * 1000 + digitAt(b, s + 1) * 100 + digitAt(b, s + 2) * 10 + digitAt(b, s + 3);
  const month = digitAt(b, s + 5) * 10 + digitAt(b, s + 6);
  const day = digitAt(b, s + 8) * 10 + digitAt(b, s + 9);
  return validDate(year, month, day);
}

function isContinuation(x: number | undefined, lo = 0x80, hi = 0xbf): boolean {
  return x !== undefined && x >= lo && x <= hi;
}

/**
 * The length of the well-formed UTF-8 sequence starting at b[i] (a byte of
 * 0x80 or more) within b[.., e), or 0 when it is not one (the Unicode
 * standard's table: no overlong forms, surrogates or code points above
 * U+10FFFF, as TextDecoder's fatal mode).
 */
export function utf8SequenceLength(b: Uint8Array, i: number, e: number): number {
  const x = b[i] as number;
  const b1 = i + 1 < e ? b[i + 1] : undefined;
  if (x >= 0xc2 && x <= 0xdf) return isContinuation(b1) ? 2 : 0;
  const b2 = i + 2 < e ? b[i + 2] : undefined;
  if (x >= 0xe0 && x <= 0xef) {
    const lo = x === 0xe0 ? 0xa0 : 0x80;
    const hi = x === 0xed ? 0x9f : 0xbf;
    return isContinuation(b1, lo, hi) && isContinuation(b2) ? 3 : 0;
  }
  const b3 = i + 3 < e ? b[i + 3] : undefined;
  if (x >= 0xf0 && x <= 0xf4) {
    const lo = x === 0xf0 ? 0x90 : 0x80;
    const hi = x === 0xf4 ? 0x8f : 0xbf;
    return isContinuation(b1, lo, hi) && isContinuation(b2) && isContinuation(b3) ? 4 : 0;
  }
  return 0;
}
