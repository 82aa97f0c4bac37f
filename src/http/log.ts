/**
 * Structured JSON logs, one object per line, always with the request id.
 * Secrets never reach a log line: `redactUrl` strips credentials from URLs
 * and `redact` drops any field whose name looks like a secret.
 */
export type Logger = (level: 'info' | 'warn' | 'error', msg: string, fields?: Record<string, unknown>) => void;

const SECRET_PARAMS = /^(jwt|token|code|state|x-amz-signature|x-amz-credential|signature|api[-_]?key|password|secret)$/i;
const SECRET_FIELD = /(jwt|token|secret|password|api[-_]?key|authorization|signature|cookie)/i;

/** Longest URL written to a log line; the rest is cut (parameters can be large). */
const MAX_LOGGED_URL = 512;

/** Replaces the values of secret-bearing query parameters with "REDACTED". */
export function redactUrl(url: string): string {
  const redacted = redactUrlParams(url);
  return redacted.length > MAX_LOGGED_URL ? `${redacted.slice(0, MAX_LOGGED_URL)}…(cut)` : redacted;
}

function redactUrlParams(url: string): string {
  try {
    const u = new URL(url);
    for (const key of [...u.searchParams.keys()]) {
      if (SECRET_PARAMS.test(key)) u.searchParams.set(key, 'REDACTED');
    }
    u.username = '';
    u.password = '';
    return u.toString();
  } catch {
    return '(unparseable url)';
  }
}

export function redact(fields: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(fields)) {
    out[k] = SECRET_FIELD.test(k) ? 'REDACTED' : v;
  }
  return out;
}

export function createLogger(requestId: string): Logger {
  return (level, msg, fields = {}) => {
    const line = JSON.stringify({ level, msg, requestId, time: new Date().toISOString(), ...redact(fields) });
    if (level === 'error') console.error(line);
    else if (level === 'warn') console.warn(line);
    else console.log(line);
  };
}
