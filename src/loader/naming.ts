/**
 * Names the loader gives to things, exactly as the original era-A loader did
 * (loader.md §2.3): the package id, the fact table name and column names.
 * These names are stored facts that os-viewer URLs embed, so they must not
 * drift.
 */
import { md5Hex } from './md5';

/**
 * Transliterations for letters that Unicode decomposition does not reduce to
 * ASCII (the common cases of the original's unidecode step).
 */
const TRANSLIT: Record<string, string> = {
  ß: 'ss', Æ: 'AE', æ: 'ae', Ø: 'O', ø: 'o', Đ: 'D', đ: 'd', Ð: 'D', ð: 'd', Ł: 'L', ł: 'l', Þ: 'Th', þ: 'th',
  Œ: 'OE', œ: 'oe', ı: 'i', Ħ: 'H', ħ: 'h', Ŋ: 'Ng', ŋ: 'ng', ſ: 's', '€': 'EUR', '£': 'PS', '¥': 'Y',
  // Cyrillic (Russian, Ukrainian, Belarusian, Serbian, Macedonian, Bulgarian)
  А: 'A', Б: 'B', В: 'V', Г: 'G', Д: 'D', Е: 'E', Ё: 'Io', Ж: 'Zh', З: 'Z', И: 'I', Й: 'I', К: 'K', Л: 'L', М: 'M',
  Н: 'N', О: 'O', П: 'P', Р: 'R', С: 'S', Т: 'T', У: 'U', Ф: 'F', Х: 'Kh', Ц: 'Ts', Ч: 'Ch', Ш: 'Sh', Щ: 'Shch',
  Ъ: "'", Ы: 'Y', Ь: "'", Э: 'E', Ю: 'Iu', Я: 'Ia', Є: 'Ie', І: 'I', Ї: 'Yi', Ґ: 'G', Ў: 'U', Ђ: 'D', Ј: 'J',
  Љ: 'L', Њ: 'N', Ћ: 'C', Џ: 'D', Ѓ: 'G', Ќ: 'K', Ѕ: 'Z',
  а: 'a', б: 'b', в: 'v', г: 'g', д: 'd', е: 'e', ё: 'io', ж: 'zh', з: 'z', и: 'i', й: 'i', к: 'k', л: 'l', м: 'm',
  н: 'n', о: 'o', п: 'p', р: 'r', с: 's', т: 't', у: 'u', ф: 'f', х: 'kh', ц: 'ts', ч: 'ch', ш: 'sh', щ: 'shch',
  ъ: "'", ы: 'y', ь: "'", э: 'e', ю: 'iu', я: 'ia', є: 'ie', і: 'i', ї: 'yi', ґ: 'g', ў: 'u', ђ: 'd', ј: 'j',
  љ: 'l', њ: 'n', ћ: 'c', џ: 'd', ѓ: 'g', ќ: 'k', ѕ: 'z',
  // Greek
  Α: 'A', Β: 'B', Γ: 'G', Δ: 'D', Ε: 'E', Ζ: 'Z', Η: 'E', Θ: 'Th', Ι: 'I', Κ: 'K', Λ: 'L', Μ: 'M', Ν: 'N', Ξ: 'Ks',
  Ο: 'O', Π: 'P', Ρ: 'R', Σ: 'S', Τ: 'T', Υ: 'U', Φ: 'Ph', Χ: 'Kh', Ψ: 'Ps', Ω: 'O',
  α: 'a', β: 'b', γ: 'g', δ: 'd', ε: 'e', ζ: 'z', η: 'e', θ: 'th', ι: 'i', κ: 'k', λ: 'l', μ: 'm', ν: 'n', ξ: 'ks',
  ο: 'o', π: 'p', ρ: 'r', σ: 's', ς: 's', τ: 't', υ: 'u', φ: 'ph', χ: 'kh', ψ: 'ps', ω: 'o',
};

const isUpper = (ch: string | undefined): boolean =>
  ch !== undefined && ch !== ch.toLowerCase() && ch === ch.toUpperCase();

/**
 * ASCII transliteration of `text`. Characters with no known ASCII form are
 * dropped (they could not go into the ASCII-only table name either). A
 * multi-letter transliteration of an upper-case letter inside a run of
 * upper-case letters is upper-cased whole ("ШИ" -> "SHI"), as the original
 * does when it keeps case.
 */
export function transliterate(text: string): string {
  const chars = Array.from(text.normalize('NFC'));
  let out = '';
  for (let i = 0; i < chars.length; i++) {
    const ch = chars[i] as string;
    if (ch.charCodeAt(0) < 0x80) {
      out += ch;
      continue;
    }
    let t = TRANSLIT[ch];
    if (t === undefined) {
      // Latin letters with diacritics: decompose and drop the marks.
      t = ch.normalize('NFKD').replace(/\p{M}/gu, '');
      if (!/^[\x20-\x7e]*$/.test(t)) t = /[\p{Z}\p{P}\p{S}]/u.test(ch) ? ' ' : '';
    }
    if (t.length > 1 && isUpper(ch) && (isUpper(chars[i - 1]) || isUpper(chars[i + 1]))) t = t.toUpperCase();
    out += t;
  }
  return out;
}

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
 * The original's slug (awesome-slugify semantics): transliterate, remove
 * apostrophes, split on every run of non letters/digits (`_` included), and
 * join with the separator. With `maxLength` a word is appended only if the
 * result stays within the limit (otherwise it is skipped and later words are
 * still tried), then the result is cut to the limit.
 */
export function slugify(text: string, options: SlugifyOptions = {}): string {
  const separator = options.separator ?? '_';
  let t = transliterate(text).replace(/'/g, '');
  if (options.toLower) t = t.toLowerCase();
  const words = t.split(/[^\p{L}\p{N}]+/u).filter((w) => w.length > 0);
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
