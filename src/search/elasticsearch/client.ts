/**
 * A tiny typed HTTP client for ElasticSearch/OpenSearch over plain `fetch`
 * (runs in workerd and in Node alike; no vendor client).
 *
 * Credentials in the base URL (`https://user:pass@host`) become a Basic
 * Authorization header, since fetch refuses URLs that carry them. Error
 * messages carry the method, path, status and the server's error type and
 * reason; never a request body, never the credentials. Every request has a
 * timeout (DEFAULT_TIMEOUT_MS unless the caller gives one).
 */

/** An HTTP error answered by the search server (or a network failure, status 0). */
export class EsError extends Error {
  constructor(
    message: string,
    readonly status: number,
    /** The server's error type, e.g. `index_not_found_exception`. */
    readonly type?: string,
  ) {
    super(message);
    this.name = 'EsError';
  }
}

/** Options of one request. */
export interface EsRequestOptions {
  /** Body as JSON (objects) or NDJSON (array of lines, for `_bulk`). */
  body?: unknown;
  ndjson?: unknown[];
  /** Statuses answered as a value instead of an EsError (e.g. 404 on delete). */
  accept?: number[];
  /** Give up after this long (status 0, like an unreachable server). */
  timeoutMs?: number;
  /**
   * Reads a successful answer instead of JSON.parse of its text (e.g.
   * openHits, which streams it; the timeout still bounds the body).
   */
  read?: (res: Response) => Promise<unknown>;
}

/** The status and parsed JSON body (null when there is none). */
export interface EsResponse<T> {
  status: number;
  body: T;
}

export interface EsClient {
  /** The base URL without credentials, for messages. */
  readonly origin: string;
  request<T = unknown>(method: string, path: string, opts?: EsRequestOptions): Promise<EsResponse<T>>;
}

const MAX_REASON = 300;
/** Long enough for a refreshing single-document write on a busy node, short enough to keep a request alive. */
export const DEFAULT_TIMEOUT_MS = 10_000;

/** Builds a client for `url` (http(s) base URL, optionally with user:password). */
export function createEsClient(url: string, fetchImpl: typeof fetch = (input, init) => fetch(input, init)): EsClient {
  const parsed = new URL(url);
  let authorization: string | undefined;
  if (parsed.username || parsed.password) {
    authorization = 'Basic ' + btoa(`${decodeURIComponent(parsed.username)}:${decodeURIComponent(parsed.password)}`);
    parsed.username = '';
    parsed.password = '';
  }
  const base = parsed.toString().replace(/\/+$/, '');
  return {
    origin: base,
    async request<T>(method: string, path: string, opts: EsRequestOptions = {}): Promise<EsResponse<T>> {
      const headers: Record<string, string> = { accept: 'application/json' };
      if (authorization) headers.authorization = authorization;
      let body: string | undefined;
      if (opts.ndjson) {
        headers['content-type'] = 'application/x-ndjson';
        body = opts.ndjson.map((line) => JSON.stringify(line)).join('\n') + '\n';
      } else if (opts.body !== undefined) {
        headers['content-type'] = 'application/json';
        body = JSON.stringify(opts.body);
      }
      const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
      const signal = AbortSignal.timeout(timeoutMs);
      let res: Response;
      let text: string;
      const unreachable = (err: unknown) => {
        const why = signal.aborted ? `no answer within ${timeoutMs / 1000} s` : (err as Error).message;
        return new EsError(`search index unreachable: ${method} ${path}: ${why}`, 0);
      };
      try {
        res = await fetchImpl(base + path, { method, headers, body, signal });
      } catch (err) {
        throw unreachable(err);
      }
      if (res.ok && opts.read) {
        try {
          return { status: res.status, body: (await opts.read(res)) as T };
        } catch (err) {
          if (signal.aborted) throw unreachable(err);
          throw new EsError(`search index: ${method} ${path}: ${(err as Error).message}`, res.status);
        }
      }
      try {
        text = method === 'HEAD' ? '' : await res.text();
      } catch (err) {
        throw unreachable(err);
      }
      let json: unknown = null;
      if (text) {
        try {
          json = JSON.parse(text);
        } catch {
          json = null;
        }
      }
      if (res.ok || opts.accept?.includes(res.status)) return { status: res.status, body: json as T };
      const error = (json as { error?: { type?: string; reason?: string } | string } | null)?.error;
      const type = typeof error === 'object' ? error?.type : undefined;
      const reason = typeof error === 'object' ? error?.reason : typeof error === 'string' ? error : undefined;
      const detail = [type, reason?.slice(0, MAX_REASON)].filter(Boolean).join(': ');
      throw new EsError(`search index: ${method} ${path} -> ${res.status}${detail ? ` ${detail}` : ''}`, res.status, type);
    },
  };
}
