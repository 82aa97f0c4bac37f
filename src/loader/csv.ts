/**
 * Incremental CSV parser over BYTES. Every parsed row carries the absolute
 * byte offset just after its line terminator, so a loader can checkpoint and
 * resume a large file with an HTTP Range request from that offset.
 *
 * Speed: rows are found by native byte searches (a byte loop for the
 * dialects and bytes they cannot handle); each row is decoded once and, when
 * it holds no quote or escape character, split natively. A RowTaker may take
 * complete rows as bytes before they are decoded at all (the loader's fast
 * path, copy-bytes.ts).
 */
import type { CsvDialect } from './types';
import { DEFAULT_DIALECT } from './types';

/** One CSV record. */
export interface ParsedRow {
  fields: string[];
  /** Absolute byte offset after the row's line terminator (resume point). */
  end: number;
  /** 1-based data row number (the header is not counted). */
  row: number;
  /**
   * With `passBadRows`: why the row's bytes are not valid text in the
   * encoding (its fields are then decoded with replacement characters).
   */
  encodingError?: string;
  /**
   * The row's text holds no backslash, tab, CR or LF inside its fields, so a
   * value taken from it as it is needs no COPY text escaping. Set only where
   * it is cheap to know (rows found by the native searches); absent means
   * "not known".
   */
  plain?: boolean;
}

/**
 * Takes a complete data row as bytes, before it is decoded: b[start, stop)
 * (`quoted`: it holds a quote character), its 1-based number and the offset
 * after its line terminator. Returns false to leave the row, and the rest of
 * the push, to be parsed as usual.
 */
export type RowTaker = (b: Uint8Array, start: number, stop: number, quoted: boolean, row: number, end: number) => boolean;

/** A file that is not parseable CSV; `row` is the 1-based data row (0 = header). */
export class CsvError extends Error {
  constructor(
    message: string,
    readonly row: number,
  ) {
    super(message);
    this.name = 'CsvError';
  }
}

/** Options of {@link CsvParser}. */
export interface CsvParserOptions {
  /**
   * Absolute byte offset of the first pushed byte, when resuming mid-file.
   * When > 0 there is no BOM or header handling.
   */
  startOffset?: number;
  /** Data rows before `startOffset` (so `row` numbers continue). */
  rowsBefore?: number;
  /** Number of fields every row must have (the header's count, needed when resuming). */
  expectedFields?: number;
  /** Longest accepted row in bytes (default 16 MiB): a guard against a runaway quote. */
  maxRowBytes?: number;
  /** Use the byte-search row finder when the dialect allows it (default true; false for comparison tests). */
  fastScan?: boolean;
  /**
   * Hand on a data row of the wrong width or with bytes invalid in the
   * encoding (marked `encodingError`) rather than throwing, so a validation
   * report can name it and read on (default false).
   */
  passBadRows?: boolean;
}

/**
 * Encodings whose bytes below 0x80 are always ASCII, so delimiters, quotes
 * and line breaks can be found on raw bytes.
 */
const ASCII_COMPATIBLE =
  /^(utf-?8|unicode-1-1-utf-8|us-ascii|ascii|latin-?1|l1|iso[-_]?8859[-_]?\d{1,2}|iso-ir-\d+|windows-125\d|cp125\d|cp819|koi8-?[ru]|macintosh|mac)$/i;

/** Rows decoded together by scanFast (below V8's 128 KiB large-object threshold). */
const DECODE_GROUP_BYTES = 64 * 1024;

const LF = 0x0a;
const CR = 0x0d;
const SPACE = 0x20;
const TAB = 0x09;

/** Flags of a row found by scanFast: it needs the quote-aware splitter; a line feed is inside its quotes. */
const ROW_COMPLEX = 1;
const ROW_LF_IN_QUOTES = 2;

const enum State {
  FieldStart,
  InField,
  InQuoted,
  QuoteInQuoted,
}

function singleByte(value: string, what: string): number {
  if (value.length !== 1 || value.charCodeAt(0) >= 0x80 || value === '\n' || value === '\r') {
    throw new CsvError(`the CSV dialect's ${what} must be a single ASCII character other than a line break`, 0);
  }
  return value.charCodeAt(0);
}

/** Whether `encoding` is supported by the parser (ASCII-compatible only). */
export function isSupportedEncoding(encoding: string): boolean {
  return ASCII_COMPATIBLE.test(encoding.trim());
}

/** Incremental CSV parser; see the module comment. */
export class CsvParser {
  /** The header row, once parsed (only when the dialect has a header and parsing starts at 0). */
  header: string[] | undefined;

  private readonly delim: number;
  private readonly delimStr: string;
  private readonly quote: number;
  private readonly quoteStr: string;
  private readonly escape: number;
  private readonly escapeStr: string | undefined;
  private readonly doubleQuote: boolean;
  private readonly skipInitialSpace: boolean;
  private readonly decoder: TextDecoder;
  /** Decodes a row with bad bytes for a report (passBadRows). */
  private readonly lenientDecoder: TextDecoder | undefined;
  private readonly passBadRows: boolean;
  private readonly maxRowBytes: number;
  private expectFields: number | undefined;
  private wantHeader: boolean;
  private atStart: boolean;

  /** Bytes not yet consumed (the start of an unfinished row). */
  private buf: Uint8Array = new Uint8Array(0);
  /** Absolute offset of buf[0]. */
  private bufOffset: number;
  /** Scan position inside buf and state at that position. */
  private scanPos = 0;
  private state: State = State.FieldStart;
  private complex = false;
  private rowNumber: number;
  private ended = false;
  /** Rows are found with native byte searches (see scanFast) rather than byte by byte. */
  private fast: boolean;
  /** scanFast: inside a quoted field at scanPos. */
  private inQuotes = false;
  /** Offered the rows found by native searches before they are decoded (see setRowTaker). */
  private taker: RowTaker | null = null;
  /** scanFast: the unfinished row has a line feed inside quotes. */
  private lfInQuotes = false;

  constructor(dialect: CsvDialect = DEFAULT_DIALECT, encoding = 'utf-8', options: CsvParserOptions = {}) {
    if (!isSupportedEncoding(encoding)) {
      throw new CsvError(
        `unsupported encoding "${encoding}": only UTF-8 and single-byte ASCII-compatible encodings (e.g. latin1, windows-1252) can be loaded`,
        0,
      );
    }
    this.delim = singleByte(dialect.delimiter, 'delimiter');
    this.delimStr = dialect.delimiter;
    this.quote = singleByte(dialect.quoteChar, 'quoteChar');
    this.quoteStr = dialect.quoteChar;
    this.escapeStr = dialect.escapeChar || undefined;
    this.escape = this.escapeStr === undefined ? -1 : singleByte(this.escapeStr, 'escapeChar');
    if (this.delim === this.quote) throw new CsvError('the CSV delimiter and quoteChar must differ', 0);
    this.doubleQuote = dialect.doubleQuote;
    this.skipInitialSpace = dialect.skipInitialSpace;
    try {
      this.decoder = new TextDecoder(encoding.trim(), { fatal: true, ignoreBOM: true });
    } catch {
      throw new CsvError(`unsupported encoding "${encoding}"`, 0);
    }
    this.passBadRows = options.passBadRows ?? false;
    this.lenientDecoder = this.passBadRows ? new TextDecoder(encoding.trim(), { fatal: false, ignoreBOM: true }) : undefined;
    this.maxRowBytes = options.maxRowBytes ?? 16 * 1024 * 1024;
    this.bufOffset = options.startOffset ?? 0;
    this.atStart = this.bufOffset === 0;
    this.wantHeader = this.atStart && dialect.header;
    this.rowNumber = options.rowsBefore ?? 0;
    this.expectFields = options.expectedFields;
    // Only without an escape character: then whether a line break ends the row
    // depends on the quotes before it alone (see scanFast).
    this.fast = (options.fastScan ?? true) && this.escape === -1;
  }

  /**
   * From the next push on, complete data rows found by the native searches
   * are first offered to `taker`; the rows it takes are not returned by push.
   * The rows of a push after one it leaves are all parsed as usual, so rows
   * stay in file order across the two ways.
   */
  setRowTaker(taker: RowTaker | null): void {
    this.taker = taker;
  }

  /** Parses the rows completed by `chunk`; a trailing partial row is kept for the next call. */
  push(chunk: Uint8Array): ParsedRow[] {
    if (this.ended) throw new Error('CsvParser: push after end');
    if (this.buf.length === 0) {
      this.buf = chunk;
    } else if (chunk.length > 0) {
      const joined = new Uint8Array(this.buf.length + chunk.length);
      joined.set(this.buf);
      joined.set(chunk, this.buf.length);
      this.buf = joined;
    }
    if (this.atStart) {
      if (this.buf.length < 3) return []; // a BOM may still be split across chunks
      this.atStart = false;
      this.checkStart();
    }
    // NUL bytes (a binary file) are reported by the byte loop, with their row.
    if (this.fast && chunk.indexOf(0) !== -1) this.fast = false;
    return this.fast ? this.scanFast(false) : this.scan(false);
  }

  /** Parses what remains (a last row without a line terminator) and checks that no quote is left open. */
  end(): ParsedRow[] {
    if (this.ended) return [];
    if (this.atStart) {
      this.atStart = false;
      this.checkStart();
      if (this.buf.indexOf(0) !== -1) this.fast = false;
    }
    const rows = this.fast ? this.scanFast(true) : this.scan(true);
    this.ended = true;
    return rows;
  }

  /** BOM removal and a sniff for things that are clearly not CSV. */
  private checkStart(): void {
    const b = this.buf;
    if (b[0] === 0xef && b[1] === 0xbb && b[2] === 0xbf) {
      this.buf = b.subarray(3);
      this.bufOffset += 3;
    }
    const head = new TextDecoder('latin1').decode(this.buf.subarray(0, 512)).trimStart().toLowerCase();
    if (/^<(!doctype|html|\?xml|head|body)/.test(head)) {
      throw new CsvError('the resource is an HTML/XML document, not a CSV file (check its URL or path)', 0);
    }
    if (head.startsWith('\u00ff\u00fe') || head.startsWith('\u00fe\u00ff')) {
      throw new CsvError('the resource is UTF-16 encoded; save it as UTF-8 CSV', 0);
    }
  }

  /**
   * Finds rows with native searches for the quote and the line feed. Outside
   * quotes the next LF ends the row unless a quote opening a field comes
   * first (a quote elsewhere in an unquoted field is a literal character, as
   * in the original's reader); inside quotes only the next quote matters (a
   * doubled one stays inside). A row holding a CR other than its CRLF's, or a
   * file with NUL bytes, goes to the byte loop, which treats a lone CR as a
   * line break and reports NULs with their row. Between pushes the state is
   * the offset scanned in the unfinished row and whether it is inside quotes.
   */
  private scanFast(final: boolean): ParsedRow[] {
    const rows: ParsedRow[] = [];
    const b = this.buf;
    const n = b.length;
    const quote = this.quote;
    const delim = this.delim;
    const doubleQuote = this.doubleQuote;
    const skipSpace = this.skipInitialSpace;
    let rowStart = 0;
    let i = this.scanPos;
    let inQuotes = this.inQuotes;
    let quoted = this.complex;
    let lfInQuotes = this.lfInQuotes;
    // Complete rows of this push (start, stop, termEnd, flags: see ROW_*), emitted together.
    const found: number[] = [];

    // Next quote / CR at or after a position, cached: searching again for every
    // row would rescan the rest of the buffer when they are rare (quadratic).
    let nextQuote = -2;
    const quoteFrom = (from: number): number => {
      if (nextQuote === -2 || (nextQuote !== -1 && nextQuote < from)) nextQuote = b.indexOf(quote, from);
      return nextQuote;
    };
    let nextLf = -2;
    const lfFrom = (from: number): number => {
      if (nextLf === -2 || (nextLf !== -1 && nextLf < from)) nextLf = b.indexOf(LF, from);
      return nextLf;
    };
    let nextCr = -2;
    const crFrom = (from: number): number => {
      if (nextCr === -2 || (nextCr !== -1 && nextCr < from)) nextCr = b.indexOf(CR, from);
      return nextCr;
    };
    const fieldStartAt = (q: number): boolean => {
      let p = q - 1;
      if (skipSpace) while (p >= rowStart && b[p] === SPACE) p--;
      return p < rowStart || b[p] === delim;
    };

    for (;;) {
      if (inQuotes) {
        const q = quoteFrom(i);
        if (q === -1 || (q + 1 >= n && doubleQuote && !final)) {
          // Not closed yet, or a quote that may be the first of a doubled pair.
          i = q === -1 ? n : q;
          break;
        }
        const lf = lfFrom(i);
        if (lf !== -1 && lf < q) lfInQuotes = true;
        if (doubleQuote && b[q + 1] === quote) {
          i = q + 2;
          continue;
        }
        inQuotes = false;
        i = q + 1;
        continue;
      }
      const lf = lfFrom(i);
      const q = quoteFrom(i);
      if (q !== -1 && (lf === -1 || q < lf)) {
        quoted = true;
        if (fieldStartAt(q)) inQuotes = true;
        i = q + 1;
        continue;
      }
      if (lf === -1) {
        i = n;
        break;
      }
      let stop = lf;
      if (stop > rowStart && b[stop - 1] === CR) stop--;
      const cr = crFrom(rowStart);
      if (cr !== -1 && cr < stop) {
        this.emitFound(rows, b, found);
        return this.toByteLoop(rows, b, rowStart, final);
      }
      found.push(rowStart, stop, lf + 1, (quoted || skipSpace ? ROW_COMPLEX : 0) | (lfInQuotes ? ROW_LF_IN_QUOTES : 0));
      rowStart = lf + 1;
      i = rowStart;
      quoted = false;
      lfInQuotes = false;
    }

    this.emitFound(rows, b, found);
    // A CR in the unfinished row may be a lone CR ending it (the last byte may
    // be the CR of a CRLF split across pushes).
    const cr = crFrom(rowStart);
    if (cr !== -1 && (cr < n - 1 || inQuotes)) return this.toByteLoop(rows, b, rowStart, final);
    if (final) {
      if (inQuotes) {
        throw new CsvError(`a quoted field in data row ${this.rowNumber + 1} is never closed (unbalanced ${this.quoteStr})`, this.rowNumber + 1);
      }
      const stop = cr === n - 1 ? n - 1 : n;
      if (rowStart < n) this.emit(rows, b, rowStart, stop, n, quoted || skipSpace);
      this.buf = new Uint8Array(0);
      this.bufOffset += n;
      this.scanPos = 0;
      return rows;
    }
    this.inQuotes = inQuotes;
    this.complex = quoted;
    this.lfInQuotes = lfInQuotes;
    this.keepUnfinished(b, rowStart, i);
    return rows;
  }

  /** Leaves the fast path for good: the byte loop parses from `rowStart` (a row start) on. */
  private toByteLoop(rows: ParsedRow[], b: Uint8Array, rowStart: number, final: boolean): ParsedRow[] {
    this.fast = false;
    this.buf = b.subarray(rowStart);
    this.bufOffset += rowStart;
    this.scanPos = 0;
    this.state = State.FieldStart;
    this.complex = false;
    this.lfInQuotes = false;
    const rest = this.scan(final);
    return rows.length ? rows.concat(rest) : rest;
  }

  private scan(final: boolean): ParsedRow[] {
    const rows: ParsedRow[] = [];
    const b = this.buf;
    const n = b.length;
    const delim = this.delim;
    const quote = this.quote;
    const escape = this.escape;
    const skipSpace = this.skipInitialSpace;
    let state = this.state;
    let complex = this.complex;
    let rowStart = 0;
    let i = this.scanPos;

    scan: while (i < n) {
      const c = b[i] as number;
      if (c === 0) throw new CsvError(`the resource contains NUL bytes: it is a binary file, not CSV (data row ${this.rowNumber + 1})`, this.rowNumber + 1);
      switch (state) {
        case State.FieldStart:
          if (c === quote) {
            state = State.InQuoted;
            complex = true;
            break;
          }
          if (c === delim || (c === SPACE && skipSpace)) {
            if (c === SPACE) complex = true;
            break;
          }
          state = State.InField;
          if (c === escape) {
            if (i + 1 >= n && !final) break scan;
            complex = true;
            i++;
          }
          break;
        case State.InField:
          if (c === delim) state = State.FieldStart;
          else if (c === escape) {
            if (i + 1 >= n && !final) break scan; // the escaped byte is in the next chunk
            complex = true;
            i++;
          } else if (c === quote) complex = true;
          break;
        case State.InQuoted:
          if (c === quote) state = State.QuoteInQuoted;
          else if (c === escape) {
            if (i + 1 >= n && !final) break scan;
            i++;
          }
          i++;
          continue;
        case State.QuoteInQuoted:
          if (c === quote && this.doubleQuote) state = State.InQuoted;
          else if (c === delim) state = State.FieldStart;
          else if (c !== CR && c !== LF) state = State.InField;
          break;
      }
      if ((c === LF || c === CR) && (state === State.InField || state === State.FieldStart || state === State.QuoteInQuoted)) {
        let termEnd = i + 1;
        if (c === CR) {
          if (i + 1 >= n && !final) break scan; // need the next byte to know if it is \r\n
          if (b[i + 1] === LF) termEnd = i + 2;
        }
        this.emit(rows, b, rowStart, i, termEnd, complex);
        rowStart = termEnd;
        i = termEnd;
        state = State.FieldStart;
        complex = false;
        continue;
      }
      i++;
    }

    if (final) {
      if (state === State.InQuoted) {
        throw new CsvError(`a quoted field in data row ${this.rowNumber + 1} is never closed (unbalanced ${this.quoteStr})`, this.rowNumber + 1);
      }
      if (rowStart < n) this.emit(rows, b, rowStart, n, n, complex);
      this.buf = new Uint8Array(0);
      this.bufOffset += n;
      this.scanPos = 0;
      return rows;
    }
    // Keep the unfinished row; resume scanning where we stopped.
    this.state = state;
    this.complex = complex;
    this.keepUnfinished(b, rowStart, Math.min(i, n));
    return rows;
  }

  /** Keeps the unfinished row starting at `rowStart`, scanned up to `scanned`, for the next push. */
  private keepUnfinished(b: Uint8Array, rowStart: number, scanned: number): void {
    this.buf = b.subarray(rowStart);
    this.bufOffset += rowStart;
    this.scanPos = scanned - rowStart;
    if (this.buf.length > this.maxRowBytes) {
      throw new CsvError(
        `data row ${this.rowNumber + 1} is longer than ${this.maxRowBytes} bytes: probably an unbalanced ${this.quoteStr} or not a CSV file`,
        this.rowNumber + 1,
      );
    }
  }

  /**
   * Emits rows found by scanFast (flat: start, stop, termEnd, flags). The
   * bytes of up to DECODE_GROUP_BYTES of rows are decoded in one call; when
   * every byte became one character (ASCII UTF-8, or a single-byte encoding)
   * each row is a slice of that text, else each row of the group is decoded
   * on its own (which also names a row with bad bytes). Groups stay under
   * V8's large-object size, so their strings die young. Whether a row is
   * `plain` comes from two native searches per group (backslash, tab) and the
   * scan's flags: its rows hold no CR (those go to the byte loop) and a line
   * feed only inside quotes.
   */
  private emitFound(rows: ParsedRow[], b: Uint8Array, found: number[]): void {
    let g = 0;
    const taker = this.taker;
    if (taker && !this.wantHeader && rows.length === 0) {
      for (; g < found.length; g += 4) {
        const start = found[g] as number;
        const stop = found[g + 1] as number;
        if (stop === start) continue; // blank line
        const row = this.rowNumber + 1;
        if (!taker(b, start, stop, ((found[g + 3] as number) & ROW_COMPLEX) !== 0, row, this.bufOffset + (found[g + 2] as number))) break;
        this.rowNumber = row;
      }
    }
    for (; g < found.length; ) {
      const from = found[g] as number;
      let end = g + 4;
      while (end < found.length && (found[end + 1] as number) - from <= DECODE_GROUP_BYTES) end += 4;
      const to = found[end - 3] as number;
      const group = b.subarray(from, to);
      let text: string | undefined;
      try {
        const decoded = this.decoder.decode(group);
        if (decoded.length === to - from) text = decoded;
      } catch {
        text = undefined;
      }
      // A tab is a field's character unless it is the delimiter; then only a quoted row can hold one.
      const noBackslash = group.indexOf(0x5c) === -1;
      const tabDelimited = this.delim === TAB;
      const noTab = tabDelimited || group.indexOf(TAB) === -1;
      for (let k = g; k < end; k += 4) {
        const start = found[k] as number;
        const stop = found[k + 1] as number;
        const flags = found[k + 3] as number;
        const complex = (flags & ROW_COMPLEX) !== 0;
        const plain = noBackslash && noTab && (flags & ROW_LF_IN_QUOTES) === 0 && !(tabDelimited && complex);
        this.emit(rows, b, start, stop, found[k + 2] as number, complex, text?.slice(start - from, stop - from), plain);
      }
      g = end;
    }
    found.length = 0;
  }

  private emit(
    rows: ParsedRow[],
    b: Uint8Array,
    start: number,
    stop: number,
    termEnd: number,
    complex: boolean,
    decoded?: string,
    plain = false,
  ): void {
    if (stop === start) return; // blank line: skipped, as the original's reader did
    const rowNo = this.wantHeader ? 0 : this.rowNumber + 1;
    let text: string;
    let encodingError: string | undefined;
    try {
      text = decoded ?? this.decoder.decode(b.subarray(start, stop));
    } catch {
      const message = `${rowNo === 0 ? 'the header row' : `data row ${rowNo}`} is not valid ${this.decoder.encoding} text (set the resource's "encoding")`;
      if (rowNo === 0 || !this.lenientDecoder) throw new CsvError(message, rowNo);
      encodingError = message;
      text = this.lenientDecoder.decode(b.subarray(start, stop));
    }
    const fields = complex ? this.splitComplex(text) : text.split(this.delimStr);
    if (this.wantHeader) {
      this.wantHeader = false;
      this.header = fields;
      this.expectFields ??= fields.length;
      return;
    }
    this.rowNumber = rowNo;
    if (this.expectFields === undefined) this.expectFields = fields.length;
    else if (fields.length !== this.expectFields && !this.passBadRows) {
      throw new CsvError(
        `data row ${rowNo} has ${fields.length} fields but the ${this.header ? 'header has' : 'file has'} ${this.expectFields} (check the delimiter and quoting)`,
        rowNo,
      );
    }
    const row: ParsedRow = { fields, end: this.bufOffset + termEnd, row: rowNo };
    if (encodingError !== undefined) row.encodingError = encodingError;
    else if (plain) row.plain = true;
    rows.push(row);
  }

  /** Field splitting for a decoded row that contains quotes, escapes or skipped spaces. */
  private splitComplex(text: string): string[] {
    const fields: string[] = [];
    const q = this.quoteStr;
    const d = this.delimStr;
    const e = this.escapeStr;
    const n = text.length;
    let i = 0;
    for (;;) {
      if (this.skipInitialSpace) while (text[i] === ' ') i++;
      let value = '';
      if (text[i] === q) {
        i++;
        for (;;) {
          const next = text.indexOf(q, i);
          const esc = e === undefined ? -1 : text.indexOf(e, i);
          if (esc !== -1 && (next === -1 || esc < next)) {
            value += text.slice(i, esc) + text.charAt(esc + 1);
            i = esc + 2;
            continue;
          }
          if (next === -1) {
            value += text.slice(i);
            i = n;
            break;
          }
          value += text.slice(i, next);
          i = next + 1;
          if (this.doubleQuote && text[i] === q) {
            value += q;
            i++;
            continue;
          }
          break;
        }
      }
      // Unquoted text (or text after a closing quote, kept as the original's reader did).
      for (;;) {
        let stop = text.indexOf(d, i);
        if (stop === -1) stop = n;
        const esc = e === undefined ? -1 : text.indexOf(e, i);
        if (esc !== -1 && esc < stop) {
          value += text.slice(i, esc) + text.charAt(esc + 1);
          i = esc + 2;
          continue;
        }
        value += text.slice(i, stop);
        i = stop;
        break;
      }
      fields.push(value);
      if (i >= n) return fields;
      i++; // the delimiter
    }
  }
}
