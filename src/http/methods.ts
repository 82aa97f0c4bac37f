/**
 * 405 Method Not Allowed for a known path asked with a method it does not
 * have (RFC 9110 §15.5.6: with an Allow header), instead of a 404 that
 * would say the resource does not exist.
 */

export interface RouteEntry {
  method: string;
  path: string;
}

/**
 * From the app's routes (Hono syntax, `:param` segments), a lookup of the
 * methods a request path supports; empty for an unknown path. GET implies
 * HEAD, and every path answers CORS preflights (OPTIONS).
 */
export function allowedMethodsOf(routes: readonly RouteEntry[]): (path: string) => string[] {
  const byPattern = new Map<string, { pattern: RegExp; methods: Set<string> }>();
  for (const { method, path } of routes) {
    if (method === 'ALL' || path.includes('*')) continue;
    const source = '^' + path.split('/').map((s) => (s.startsWith(':') ? '[^/]+' : s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))).join('/') + '$';
    const entry = byPattern.get(source) ?? { pattern: new RegExp(source), methods: new Set<string>() };
    entry.methods.add(method.toUpperCase());
    if (method.toUpperCase() === 'GET') entry.methods.add('HEAD');
    byPattern.set(source, entry);
  }
  const order = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'];
  return (path) => {
    const methods = new Set<string>();
    for (const { pattern, methods: m } of byPattern.values()) if (pattern.test(path)) m.forEach((x) => methods.add(x));
    if (methods.size === 0) return [];
    methods.add('OPTIONS');
    return order.filter((m) => methods.has(m));
  };
}
