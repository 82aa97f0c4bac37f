/**
 * Where a login may send the browser (and its new token) afterwards.
 *
 * The original redirected to any `next` and appended the user token: an open
 * redirect that handed tokens to any site. Here `next` must be an absolute
 * http(s) URL whose origin is OS_BASE_URL's, a configured frontend origin,
 * a loopback IP literal over http (command-line clients, unless turned off),
 * or (development only) any loopback origin. Pure: no I/O.
 */
import { parseHttpUrl } from '../http/urls.ts';

/** What the allow-list is built from (a subset of Config). */
export interface RedirectPolicy {
  baseUrl: string;
  frontendOrigins: readonly string[];
  devMode: boolean;
  /**
   * `http://127.0.0.1:<port>` and `http://[::1]:<port>` (any port and path)
   * accepted: RFC 8252 §7.3 loopback redirects for native apps such as gobble,
   * which listens on a local port for its token. Names such as `localhost`
   * are not included: they can resolve elsewhere (RFC 8252 §8.3).
   */
  loopbackLiterals: boolean;
}

/** Longest `next` we consider; real ones are well under 1 KiB. */
export const MAX_NEXT_LENGTH = 2048;

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

/** Loopback IP literals as the URL parser spells them (`[0:0::1]` becomes `[::1]`). */
const LOOPBACK_LITERALS = new Set(['127.0.0.1', '[::1]']);

function originOf(value: string): string | null {
  try {
    const url = new URL(value);
    return url.protocol === 'http:' || url.protocol === 'https:' ? url.origin : null;
  } catch {
    return null;
  }
}

/** The set of allowed origins, normalised by the URL parser (case, default ports). */
export function allowedOrigins(policy: RedirectPolicy): Set<string> {
  const out = new Set<string>();
  for (const v of [policy.baseUrl, ...policy.frontendOrigins]) {
    const o = originOf(v);
    if (o) out.add(o);
  }
  return out;
}

/**
 * The parsed `next` when it may receive a token, else null.
 *
 * Anything the URL parser would silently "repair" (whitespace, control
 * characters, backslashes) is refused outright: browsers and servers disagree
 * on such input, which is how allow-lists get bypassed.
 *
 * @example safeNext('https://openspending.org:443/packager/logged-in', policy) // URL
 * @example safeNext('//evil.example', policy) // null
 */
export function safeNext(next: string | undefined | null, policy: RedirectPolicy): URL | null {
  if (!next || next.length > MAX_NEXT_LENGTH) return null;
  // eslint-disable-next-line no-control-regex
  if (/[\s\\\u0000-\u001f\u007f]/.test(next)) return null;
  if (!/^https?:\/\//i.test(next)) return null;
  const url = parseHttpUrl(next);
  if (!url) return null;
  if (allowedOrigins(policy).has(url.origin)) return url;
  if (policy.loopbackLiterals && url.protocol === 'http:' && LOOPBACK_LITERALS.has(url.hostname)) return url;
  if (policy.devMode && LOOPBACK_HOSTS.has(url.hostname)) return url;
  return null;
}

/**
 * `url` with `jwt=<token>` in its query (before any fragment), replacing any
 * existing `jwt` and leaving every other parameter byte-for-byte as it was,
 * repeated keys included (the original collapsed them).
 *
 * @example withJwt(new URL('http://127.0.0.1:8001'), 't') // 'http://127.0.0.1:8001/?jwt=t'
 */
export function withJwt(url: URL, token: string): string {
  const kept = url.search
    .replace(/^\?/, '')
    .split('&')
    .filter((part) => part !== '' && decodeKey(part) !== 'jwt');
  kept.push(`jwt=${encodeURIComponent(token)}`);
  const out = new URL(url.href);
  out.search = '?' + kept.join('&');
  return out.href;
}

function decodeKey(part: string): string {
  const key = part.split('=', 1)[0] ?? '';
  try {
    return decodeURIComponent(key.replace(/\+/g, ' '));
  } catch {
    return key;
  }
}
