/**
 * Pure search policy (no I/O): turning /search/package parameters into a
 * `SearchQuery`, and who may see which package. Both backends build their
 * queries from what this module decides, so they answer the same.
 */
import { z } from 'zod';
import { hasLoneSurrogate } from '../http/text.ts';
import type { SearchFilter, SearchQuery } from './types.ts';

/** Default page size (the original's). */
export const DEFAULT_SIZE = 100;
/** Largest page (and largest from + size): ElasticSearch's result window. */
export const MAX_RESULT_WINDOW = 10_000;
/** Filters are `<path>=<JSON>` whose first path segment is one of these (the returned fields). */
export const FILTER_ROOTS = ['id', 'model', 'package', 'origin_url', 'loaded', 'last_update'] as const;
/** Parameters with a meaning of their own, never filters. */
const RESERVED = new Set(['q', 'size', 'from', 'sort', 'jwt', 'callback']);
const MAX_FILTERS = 32;
const MAX_PATH_SEGMENTS = 12;
const MAX_ANY_OF = 100;
const MAX_Q_LENGTH = 1000;
const MAX_FILTER_VALUE_LENGTH = 4096;

/**
 * Paths matched as whole values (keyword fields in the index mapping, where
 * the original used not_analyzed). Other string fields are matched word by
 * word (any word), as an ElasticSearch `match` on a text field does.
 */
export const KEYWORD_PATHS = new Set(['id', 'origin_url', 'package.owner', 'package.author', 'package.cityCode']);

/** Paths stored but not indexed (`enabled: false` in the mapping): filters on them match nothing. */
export function isUnsearchablePath(path: string): boolean {
  return ['model', 'package.model', 'package.resources.schema'].some((p) => path === p || path.startsWith(p + '.'));
}

export type ParsedSearch =
  | { ok: true; query: Omit<SearchQuery, 'userid'>; jwt: string | undefined }
  | { ok: false; error: string };

type RawParams = Record<string, string | string[] | undefined>;

function first(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

/** `q=` and an empty filter are the same as none (the document lets clients send them). */
function firstText(v: string | string[] | undefined): string | undefined {
  const value = first(v);
  return value === '' ? undefined : value;
}

/**
 * True when a parsed parameter value (a string, or a list of values) holds
 * NUL or an unpaired surrogate: text no backend can match, refused (400)
 * rather than failing there.
 */
export function hasUnsafeText(value: unknown): boolean {
  const unsafe = (v: unknown) => typeof v === 'string' && (v.includes('\0') || hasLoneSurrogate(v));
  return unsafe(value) || (Array.isArray(value) && value.some(unsafe));
}

// Old clients JSON-encoded every parameter, numbers included (`size="100"`).
function unquote(v: string): string {
  const t = v.trim();
  return t.length >= 2 && t.startsWith('"') && t.endsWith('"') ? t.slice(1, -1) : t;
}

const wholeNumber = z.string().regex(/^\+?\d{1,9}$/, 'must be a whole number').transform(Number);

const sortSchema = z
  .string()
  .regex(/^(last_update|title|id)(:(asc|desc))?$/, 'must be last_update, title or id, optionally with :asc or :desc')
  .transform((v) => {
    const [field, order] = v.split(':') as ['last_update' | 'title' | 'id', 'asc' | 'desc' | undefined];
    // Newest first is what a catalogue wants by default.
    return { field, order: order ?? (field === 'last_update' ? 'desc' : 'asc') } as const;
  });

const scalar = z.union([z.string(), z.number(), z.boolean()]);
const filterValue = z.union([scalar, z.array(scalar).min(1).max(MAX_ANY_OF)]);

function parseJson(name: string, raw: string): { ok: true; value: unknown } | { ok: false; error: string } {
  try {
    return { ok: true, value: JSON.parse(raw) };
  } catch {
    return { ok: false, error: `invalid JSON in parameter ${name}: values must be JSON-encoded, e.g. ${name}="text"` };
  }
}

/**
 * Parses /search/package query parameters (repeated keys: first value only,
 * as the original). Invalid JSON, a bad size/from/sort, or a page beyond the
 * 10000-result window are errors (400); unknown parameters are ignored.
 */
export function parseSearchParams(params: RawParams): ParsedSearch {
  let q: string | undefined;
  const rawQ = firstText(params.q);
  if (rawQ !== undefined) {
    const parsed = parseJson('q', rawQ);
    if (!parsed.ok) return parsed;
    if (hasUnsafeText(parsed.value)) return { ok: false, error: 'q must not contain NUL or unpaired surrogates' };
    const value = scalar.safeParse(parsed.value);
    if (!value.success) return { ok: false, error: 'q must be a JSON string' };
    q = String(value.data).trim();
    if (q.length > MAX_Q_LENGTH) return { ok: false, error: `q is longer than ${MAX_Q_LENGTH} characters` };
    if (q === '') q = undefined;
  }

  let size = DEFAULT_SIZE;
  const rawSize = first(params.size);
  if (rawSize !== undefined) {
    const r = wholeNumber.safeParse(unquote(rawSize));
    if (!r.success) return { ok: false, error: 'size must be a whole number' };
    size = r.data;
  }
  if (size > MAX_RESULT_WINDOW) return { ok: false, error: `size must be at most ${MAX_RESULT_WINDOW}` };

  let from = 0;
  const rawFrom = first(params.from);
  if (rawFrom !== undefined) {
    const r = wholeNumber.safeParse(unquote(rawFrom));
    if (!r.success) return { ok: false, error: 'from must be a whole number' };
    from = r.data;
  }
  if (from > MAX_RESULT_WINDOW) return { ok: false, error: `from must be at most ${MAX_RESULT_WINDOW}` };
  // A page reaching past the result window is cut at it (ElasticSearch cannot page beyond).
  size = Math.min(size, MAX_RESULT_WINDOW - from);

  let sort: SearchQuery['sort'];
  const rawSort = first(params.sort);
  if (rawSort !== undefined) {
    const r = sortSchema.safeParse(unquote(rawSort));
    if (!r.success) return { ok: false, error: `sort ${r.error.issues[0]?.message ?? 'is invalid'}` };
    sort = r.data;
  }

  const filters: SearchFilter[] = [];
  for (const [key, raw] of Object.entries(params)) {
    if (RESERVED.has(key)) continue;
    const segments = key.split('.');
    if (!(FILTER_ROOTS as readonly string[]).includes(segments[0] ?? '')) continue;
    const rawValue = firstText(raw);
    if (rawValue === undefined) continue;
    if (segments.length > MAX_PATH_SEGMENTS || segments.some((s) => s === '' || s.length > 100)) {
      return { ok: false, error: `invalid filter name ${key.slice(0, 100)}` };
    }
    if (rawValue.length > MAX_FILTER_VALUE_LENGTH) {
      return { ok: false, error: `filter ${key} is longer than ${MAX_FILTER_VALUE_LENGTH} characters` };
    }
    if (hasUnsafeText(key)) return { ok: false, error: 'filter names must not contain NUL or unpaired surrogates' };
    const parsed = parseJson(key, rawValue);
    if (!parsed.ok) return parsed;
    if (hasUnsafeText(parsed.value)) {
      return { ok: false, error: `filter ${key} must not contain NUL or unpaired surrogates` };
    }
    const value = filterValue.safeParse(parsed.value);
    if (!value.success) {
      return { ok: false, error: `filter ${key} must be a JSON string, number, boolean or a list of them` };
    }
    filters.push({ path: key, value: value.data });
    if (filters.length > MAX_FILTERS) return { ok: false, error: `at most ${MAX_FILTERS} filters` };
  }

  const jwt = first(params.jwt);
  return { ok: true, query: { q, filters, size, from, sort }, jwt: jwt || undefined };
}

/** The fields visibility depends on. */
export interface VisibilityFacts {
  loaded?: unknown;
  package?: { private?: unknown; owner?: unknown } | null;
}

/**
 * Who sees a package: everyone when it is public (`package.private` false or
 * absent) and loaded (`loaded` not false); its owner (`package.owner`)
 * always.
 */
export function isVisibleTo(doc: VisibilityFacts, userid: string | null): boolean {
  const isPublic = doc.package?.private !== true && doc.loaded !== false;
  return isPublic || (userid !== null && userid !== '' && doc.package?.owner === userid);
}
