/**
 * Names the loader gives to things, exactly as the original era-A loader did
 * (loader.md §2.3): the package id, the fact table name and column names.
 * These names are stored facts that os-viewer URLs embed, so they must not
 * drift.
 */
import { md5Hex } from './md5';
import { UNIDECODE_SECTIONS } from './unidecode-table';

/** Parsed sections of {@link UNIDECODE_SECTIONS}, split on first use. */
const sections = new Map<number, readonly string[]>();

/**
 * Unidecode's ASCII form of one code point, as awesome-slugify sees it
 * (punctuation folded to a space by the generator; the slug cannot tell).
 * ASCII passes through; code points Unidecode has no entry for give ''.
 */
function unidecodeCodePoint(cp: number): string {
  if (cp < 0x80) return String.fromCodePoint(cp);
  if (cp > 0xeffff) return '';
  const key = cp >> 8;
  let entries = sections.get(key);
  if (entries === undefined) {
    entries = UNIDECODE_SECTIONS[key]?.split('|') ?? [];
    sections.set(key, entries);
  }
  return entries[cp & 0xff] ?? '';
}

/**
 * ASCII transliteration of `text`, code point by code point, with the table
 * of the original's Unidecode 0.04.21 (generated from it, see
 * tools/golden/slugify). No Unicode normalisation first: the original had none.
 */
export function transliterate(text: string): string {
  let out = '';
  for (const ch of text) out += unidecodeCodePoint(ch.codePointAt(0) as number);
  return out;
}

// awesome-slugify's UPPER_TO_UPPER_LETTERS_RE: the upper-case letters whose
// transliteration is upper-cased whole ("ШИ" -> "SHI", not "ShI"). A run is
// broken by a lower-case letter, "…" or terminal punctuation other than the
// commas , ، ﹐ ，.
const RUN_BREAK = String.raw`(?:(?![,\u060c\ufe50\uff0c])[\u2026\p{Term}])`;
const RUN_KEEP = String.raw`(?:[,\u060c\ufe50\uff0c]|[^\p{Ll}\u2026\p{Term}])`;
const UPPER_TO_UPPER = new RegExp(
  String.raw`(\p{Lu}{2,}|\p{Lu}(?=${RUN_KEEP}+\p{Lu}{2})|(?<=\p{Lu}{2}${RUN_KEEP}+)\p{Lu}(?!\p{Ll}|${RUN_BREAK}\p{Lu}))`,
  'u',
);

/** Options of {@link slugify}. */
export interface SlugifyOptions {
  /** Word separator (default `_`). */
  separator?: string;
  /** Maximum length; words that would overflow are skipped, later shorter ones still fit. */
  maxLength?: number;
  /** Lower-case the result (default false: case is kept). */
  toLower?: boolean;
}

/**
 * The original's slug (awesome-slugify 1.6.5 `Slugify.__call__`): transliterate
 * (upper-casing the transliteration of upper-case runs unless lower-casing),
 * remove apostrophes, split on every run of non letters/digits (`_` included)
 * and join with the separator. With `maxLength` a word is appended only if the
 * result stays within the limit (otherwise it is skipped and later words are
 * still tried), then the result is cut to the limit.
 */
export function slugify(text: string, options: SlugifyOptions = {}): string {
  const separator = options.separator ?? '_';
  let t: string;
  if (options.toLower) {
    t = transliterate(text).toLowerCase();
  } else {
    // split() with a capturing group puts the matched runs at odd indexes.
    t = text
      .split(UPPER_TO_UPPER)
      .map((part, i) => (i % 2 === 1 ? transliterate(part).toUpperCase() : transliterate(part)))
      .join('');
  }
  const words = t.replace(/'/g, '').split(/[^A-Za-z0-9]+/).filter((w) => w.length > 0);
  if (words.length === 0) return '';
  const max = options.maxLength;
  if (max === undefined || max <= 0) return words.join(separator);
  let slug = words[0] as string;
  for (const word of words.slice(1)) {
    const next = slug + separator + word;
    if (next.length <= max) slug = next;
  }
  return slug.slice(0, max);
}

const stripUnderscores = (s: string): string => s.replace(/^_+|_+$/g, '');

/**
 * The original `database_name`: a slug of at most 30 characters (case kept),
 * `fallback` when the slug is empty, and `_2`, `_3`, ... suffixes against the
 * names already `taken`. Does not add the result to `taken`.
 */
export function databaseName(name: string, taken: ReadonlySet<string>, fallback = 'column'): string {
  const base = stripUnderscores(slugify(name, { maxLength: 30 })) || fallback;
  let candidate = base;
  for (let i = 2; taken.has(candidate); i++) candidate = `${base}_${i}`;
  return candidate;
}

/**
 * Fact table name of a package: `fdp__<owner[:16]>__<name[:22]>__<md5[:8]>`
 * where owner and name are slugs and the md5 is over `owner/name` (slugs).
 * At most 55 characters, under Postgres's 63.
 */
export function factTableName(owner: string, name: string): string {
  const o = stripUnderscores(slugify(owner));
  const n = stripUnderscores(slugify(name));
  const hash = md5Hex(`${o}/${n}`).slice(0, 8);
  return `fdp__${stripUnderscores(o.slice(0, 16))}__${stripUnderscores(n.slice(0, 22))}__${hash}`;
}

/**
 * Column names for the schema fields, in order: `databaseName` of each field
 * name, de-duplicated with `_2`, `_3`, ... (the leading `_id` column is NOT
 * included; it is reserved so no field can take it).
 */
export function columnNames(fieldNames: readonly string[]): string[] {
  const taken = new Set<string>(['_id']);
  return fieldNames.map((fieldName) => {
    const column = databaseName(fieldName, taken, 'column');
    taken.add(column);
    return column;
  });
}

/**
 * Package id `<owner>:<name>`, the one rule shared by upload, status, search
 * and the registry. The name is used as given (era A), which is what clients
 * compute; descriptor validation restricts names to `[-a-z0-9._/]` so the id
 * needs no further slugging.
 */
export function packageId(owner: string, name: string): string {
  return `${owner}:${name}`;
}

/**
 * Python's `str.title()`: a cased letter is upper-cased when the previous
 * character is not a cased letter, lower-cased otherwise.
 */
export function pythonTitle(text: string): string {
  let out = '';
  let prevCased = false;
  for (const ch of text) {
    const cased = ch.toLowerCase() !== ch.toUpperCase();
    out += cased ? (prevCased ? ch.toLowerCase() : ch.toUpperCase()) : ch;
    prevCased = cased;
  }
  return out;
}
