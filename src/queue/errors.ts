/**
 * How the loader decides between "fail the load" and "try again later".
 * Pure; the consumer acks or retries the queue message accordingly.
 */

/** A problem with the package itself: retrying cannot help. */
export class PermanentError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PermanentError';
  }
}

/** Postgres says a newer upload of the same package took over: this job ends `superseded`. */
export class SupersededError extends Error {
  constructor() {
    super('superseded by a newer upload');
    this.name = 'SupersededError';
  }
}

/** Another delivery of the same job already moved it on (or something ended it): this delivery stops. */
export class CheckpointConflictError extends Error {
  constructor() {
    super('checkpoint moved by another delivery');
    this.name = 'CheckpointConflictError';
  }
}

export type ErrorKind = 'permanent' | 'transient' | 'superseded' | 'conflict';

/** Error names of the pure loader core that describe bad input. */
const INPUT_ERRORS = new Set(['DescriptorError', 'CastError', 'CsvError', 'PermanentError']);

/**
 * Classifies an error. Bad input (descriptor, CSV, cast errors) and Postgres
 * data or integrity errors (SQLSTATE classes 22 and 23, e.g. a value out of
 * range) are permanent; network trouble, 5xx answers and lost connections
 * are transient.
 */
export function classifyError(err: unknown): ErrorKind {
  if (err instanceof SupersededError) return 'superseded';
  if (err instanceof CheckpointConflictError) return 'conflict';
  if (err instanceof Error && INPUT_ERRORS.has(err.name)) return 'permanent';
  const code = typeof err === 'object' && err !== null ? (err as { code?: unknown }).code : undefined;
  if (typeof code === 'string' && /^(22|23|42)/.test(code)) return 'permanent';
  return 'transient';
}

/** Delay before the n-th retry (1-based), in seconds: 5, 10, 20, … capped at 300. */
export function retryDelaySeconds(attempt: number): number {
  return Math.min(300, 5 * 2 ** Math.max(0, attempt - 1));
}

/** A short, user-facing message for an error (no stack, bounded length). */
export function errorMessage(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  return text.length > 1000 ? text.slice(0, 1000) + '…' : text;
}
