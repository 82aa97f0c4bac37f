/**
 * CSV dialect detection, as the original's reader did it: tabulator read the
 * first 100 lines and ran Python's `csv.Sniffer().sniff(sample, ',\t;|')`
 * (the declared delimiter, when there is one, as the only candidate); when
 * the sniffer gave up it used the excel dialect (`,` and `"`), and every key
 * the descriptor declares overrides what was sniffed. Pure: bytes in, dialect
 * out.
 */
import { CsvError, CsvParser } from './csv';
import { DEFAULT_DIALECT, type CsvDialect } from './types';

/** Delimiters the original tried, in its order. */
export const SNIFF_DELIMITERS: readonly string[] = [',', '\t', ';', '|'];
/** Lines of the sample (tabulator's CSV_SAMPLE_LINES). */
export const SAMPLE_LINES = 100;
/**
 * Bytes of the sample at most. The quote search is quadratic in the worst
 * case, so a sample of 100 very long lines is cut here (Workers' CPU limit).
 */
export const SAMPLE_BYTES = 32 * 1024;

/** What the sniffer found. */
export interface Sniffed {
  delimiter: string;
  quoteChar: string;
  skipInitialSpace: boolean;
}

/** The dialect keys that can come from the sample. */
export const DETECTED_KEYS = ['delimiter', 'quoteChar', 'skipInitialSpace'] as const satisfies ReadonlyArray<keyof Sniffed>;
export type DetectedKey = (typeof DETECTED_KEYS)[number];

/** Python's csv.Sniffer preference order among equally good delimiters. */
const PREFERRED = [',', '\t', ';', ' ', ':'];

/**
 * The sample as the original saw it: decoded, BOM removed, line ends as
 * `\n` (Python's universal newlines), at most {@link SAMPLE_LINES} lines.
 * With `truncated` (the bytes stop inside the file) the last, partial line
 * is dropped when there is a complete one.
 */
export function sampleText(bytes: Uint8Array, encoding: string, truncated: boolean): string {
  let text = new TextDecoder(encoding).decode(bytes.subarray(0, SAMPLE_BYTES));
  if (text.startsWith('\ufeff')) text = text.slice(1);
  text = text.replace(/\r\n?/g, '\n');
  if (truncated || bytes.byteLength > SAMPLE_BYTES) {
    const lastEnd = text.lastIndexOf('\n');
    if (lastEnd >= 0) text = text.slice(0, lastEnd + 1);
  }
  const lines = text.split('\n');
  return lines.length > SAMPLE_LINES ? lines.slice(0, SAMPLE_LINES).join('\n') + '\n' : text;
}

// csv.Sniffer's patterns for a quoted field between delimiters, tried in
// order until one matches: ,"x",   "x", at a line start   ,"x" at a line end
// "x" alone on a line. Python's \w is Unicode-aware: letters, digits, `_`.
const QUOTED_PATTERNS = [
  String.raw`(?<delim>[^\p{L}\p{N}_\n"'])(?<space> ?)(?<quote>["']).*?\k<quote>\k<delim>`,
  String.raw`(?:^|\n)(?<quote>["']).*?\k<quote>(?<delim>[^\p{L}\p{N}_\n"'])(?<space> ?)`,
  String.raw`(?<delim>[^\p{L}\p{N}_\n"'])(?<space> ?)(?<quote>["']).*?\k<quote>(?:$|\n)`,
  String.raw`(?:^|\n)(?<quote>["']).*?\k<quote>(?:$|\n)`,
].map((source) => new RegExp(source, 'gmsu'));

/** The key with the largest count; the first one seen among equals. */
function mostFrequent(counts: Map<string, number>): string | undefined {
  let best: string | undefined;
  let bestCount = -1;
  for (const [key, count] of counts) {
    if (count > bestCount) {
      best = key;
      bestCount = count;
    }
  }
  return best;
}

/** csv.Sniffer._guess_quote_and_delimiter. */
function guessQuoteAndDelimiter(
  data: string,
  delimiters: readonly string[],
): { quoteChar: string; delimiter: string; skipInitialSpace: boolean } {
  let matches: RegExpMatchArray[] = [];
  for (const pattern of QUOTED_PATTERNS) {
    matches = [...data.matchAll(pattern)];
    if (matches.length > 0) break;
  }
  if (matches.length === 0) return { quoteChar: '', delimiter: '', skipInitialSpace: false };
  const quotes = new Map<string, number>();
  const delims = new Map<string, number>();
  let spaces = 0;
  for (const m of matches) {
    const groups = m.groups ?? {};
    const quote = groups.quote;
    if (quote) quotes.set(quote, (quotes.get(quote) ?? 0) + 1);
    const delim = groups.delim;
    if (delim && delimiters.includes(delim)) delims.set(delim, (delims.get(delim) ?? 0) + 1);
    if (groups.space) spaces++;
  }
  const quoteChar = mostFrequent(quotes) ?? '';
  const delimiter = mostFrequent(delims) ?? '';
  return { quoteChar, delimiter, skipInitialSpace: delimiter !== '' && delims.get(delimiter) === spaces };
}

const count = (line: string, what: string): number => line.split(what).length - 1;

/**
 * csv.Sniffer._guess_delimiter: the candidate that occurs the same number of
 * times on (nearly) every line, judged on growing chunks of 10 lines.
 */
function guessDelimiter(data: string, delimiters: readonly string[]): { delimiter: string; skipInitialSpace: boolean } {
  const lines = data.split('\n').filter((line) => line !== '');
  const chunkLength = Math.min(10, lines.length);
  // Per candidate: how many lines had each frequency (insertion-ordered like the original's dicts).
  const frequencies = new Map<string, Map<number, number>>(delimiters.map((d) => [d, new Map()]));
  const delims = new Map<string, [number, number]>();
  const skipFor = (d: string): boolean => count(lines[0] as string, d) === count(lines[0] as string, `${d} `);
  let iteration = 0;
  for (let start = 0, end = chunkLength; start < lines.length; start = end, end += chunkLength) {
    iteration++;
    for (const line of lines.slice(start, end)) {
      for (const d of delimiters) {
        const meta = frequencies.get(d) as Map<number, number>;
        const freq = count(line, d);
        meta.set(freq, (meta.get(freq) ?? 0) + 1);
      }
    }
    const modes = new Map<string, [number, number]>();
    for (const [d, meta] of frequencies) {
      const items = [...meta];
      if (items.length === 1 && items[0]?.[0] === 0) continue;
      let mode = items[0] as [number, number];
      for (const item of items) if (item[1] > mode[1]) mode = item;
      const others = items.reduce((sum, item) => (item === mode ? sum : sum + item[1]), 0);
      modes.set(d, [mode[0], mode[1] - others]);
    }
    const total = Math.min(chunkLength * iteration, lines.length);
    // The same float steps as the original (1.0, 0.99, ... down to 0.9).
    for (let consistency = 1.0; delims.size === 0 && consistency >= 0.9; consistency -= 0.01) {
      for (const [d, [freq, hits]] of modes) {
        if (freq > 0 && hits > 0 && hits / total >= consistency) delims.set(d, [freq, hits]);
      }
    }
    if (delims.size === 1) {
      const delimiter = [...delims.keys()][0] as string;
      return { delimiter, skipInitialSpace: skipFor(delimiter) };
    }
  }
  if (delims.size === 0) return { delimiter: '', skipInitialSpace: false };
  for (const d of PREFERRED) if (delims.has(d)) return { delimiter: d, skipInitialSpace: skipFor(d) };
  // Largest (frequency, hits, character), as the original's sorted tuples.
  const [delimiter] = [...delims].sort(([ka, a], [kb, b]) => a[0] - b[0] || a[1] - b[1] || (ka < kb ? -1 : 1)).at(-1) as [
    string,
    unknown,
  ];
  return { delimiter, skipInitialSpace: skipFor(delimiter) };
}

/**
 * csv.Sniffer().sniff(sample, delimiters): the delimiter, quote character
 * and initial-space rule, or null when no delimiter can be told (the
 * original then fell back to the excel dialect).
 */
export function sniffDialect(sample: string, delimiters: readonly string[] = SNIFF_DELIMITERS): Sniffed | null {
  const quoted = guessQuoteAndDelimiter(sample, delimiters);
  let { delimiter, skipInitialSpace } = quoted;
  if (!delimiter) ({ delimiter, skipInitialSpace } = guessDelimiter(sample, delimiters));
  if (!delimiter) return null;
  return { delimiter, quoteChar: quoted.quoteChar || '"', skipInitialSpace };
}

/** The dialect a load uses, and which of its keys came from the sample. */
export interface ResolvedDialect {
  dialect: CsvDialect;
  /** Keys taken from the sample (none when all are declared or the sniffer gave up: then the defaults hold). */
  detected: DetectedKey[];
}

/** The keys `resources[0].dialect` declares, from the descriptor as given. */
export function declaredDialectKeys(descriptor: Record<string, unknown>): Set<string> {
  const resources = descriptor.resources;
  const first: unknown = Array.isArray(resources) ? resources[0] : undefined;
  const raw = first !== null && typeof first === 'object' ? (first as Record<string, unknown>).dialect : undefined;
  return new Set(raw !== null && typeof raw === 'object' ? Object.keys(raw) : []);
}

/**
 * Completes the declared dialect (`parsed`, defaults filled in, with the
 * `declared` key names) from a sample of the file's first bytes. A declared
 * key always wins; only missing keys are detected.
 */
export function resolveDialect(
  parsed: CsvDialect,
  declared: ReadonlySet<string>,
  sample: Uint8Array,
  encoding: string,
  truncated: boolean,
): ResolvedDialect {
  const missing = DETECTED_KEYS.filter((key) => !declared.has(key));
  if (missing.length === 0) return { dialect: parsed, detected: [] };
  const candidates = declared.has('delimiter') ? [parsed.delimiter] : SNIFF_DELIMITERS;
  const text = sampleText(sample, encoding, truncated);
  const sniffed = sniffDialect(text, candidates);
  if (!sniffed) return { dialect: parsed, detected: [] };
  const dialect = { ...parsed };
  const detected: DetectedKey[] = [];
  for (const key of missing) {
    const value = sniffed[key];
    // A quote the sniffer saw must not clash with a declared delimiter.
    if (key === 'quoteChar' && value === dialect.delimiter) continue;
    Object.assign(dialect, { [key]: value });
    detected.push(key);
  }
  // The sniffer takes two apostrophes around a comma for quoting even when
  // the fields are quoted with `"` (real packages have such text). Where the
  // sample only parses with the default quote, keep it: a departure from the
  // original, which then failed on every such file.
  if (detected.includes('quoteChar') && dialect.quoteChar !== DEFAULT_DIALECT.quoteChar) {
    const withDefault = { ...dialect, quoteChar: DEFAULT_DIALECT.quoteChar };
    if (withDefault.delimiter !== withDefault.quoteChar && !parses(dialect, text) && parses(withDefault, text)) {
      return { dialect: withDefault, detected: detected.filter((key) => key !== 'quoteChar') };
    }
  }
  return { dialect, detected };
}

/** Whether `text` parses as CSV with `dialect` (every row as wide as the first). */
function parses(dialect: CsvDialect, text: string): boolean {
  try {
    const parser = new CsvParser(dialect);
    parser.push(new TextEncoder().encode(text));
    parser.end();
    return true;
  } catch (err) {
    if (err instanceof CsvError) return false;
    throw err;
  }
}

/** What the load status and the log show of the dialect in use. */
export interface DialectView {
  delimiter: string;
  quoteChar: string;
  skipInitialSpace: boolean;
  /** The keys taken from the file's first lines. */
  detected: DetectedKey[];
}

export function dialectView({ dialect, detected }: ResolvedDialect): DialectView {
  return { delimiter: dialect.delimiter, quoteChar: dialect.quoteChar, skipInitialSpace: dialect.skipInitialSpace, detected };
}
