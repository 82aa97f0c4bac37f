/**
 * The load status protocol (README decision 1): the original README's 13
 * status names, and which moves between them a load may make. Pure: the
 * PackageStatus Durable Object applies it, the tests pin it.
 */

/** Every status a load can report, in the README's order. */
export const STATUSES = [
  'queued',
  'initializing',
  'loading-datapackage',
  'validating-datapackage',
  'loading-resource',
  'deleting-table',
  'creating-table',
  'loading-data-ready',
  'loading-data',
  'creating-babbage-model',
  'saving-metadata',
  'done',
  'fail',
] as const;

export type LoadStatus = (typeof STATUSES)[number];

/** Statuses after which nothing more happens until a new upload. */
export const TERMINAL: ReadonlySet<LoadStatus> = new Set<LoadStatus>(['done', 'fail']);

/** True for a known status name. */
export function isLoadStatus(value: unknown): value is LoadStatus {
  return typeof value === 'string' && (STATUSES as readonly string[]).includes(value);
}

/**
 * Forward moves of a healthy load. `deleting-table` is optional (only when a
 * previous table exists); `validating-datapackage` may jump to
 * `saving-metadata` when an unchanged package skips its data load.
 */
const FORWARD: Record<LoadStatus, readonly LoadStatus[]> = {
  queued: ['initializing'],
  initializing: ['loading-datapackage'],
  'loading-datapackage': ['validating-datapackage'],
  'validating-datapackage': ['loading-resource', 'saving-metadata'],
  'loading-resource': ['deleting-table', 'creating-table'],
  'deleting-table': ['creating-table'],
  'creating-table': ['loading-data-ready'],
  'loading-data-ready': ['loading-data'],
  'loading-data': ['creating-babbage-model'],
  'creating-babbage-model': ['saving-metadata'],
  'saving-metadata': ['done'],
  done: [],
  fail: [],
};

/**
 * Whether a load may move from `from` to `to`:
 * - the forward moves above;
 * - staying in a non-terminal status (progress updates, a redelivered chunk);
 * - any non-terminal status to `fail` (errors and the liveness alarm);
 * - `queued` from anywhere: a new upload restarts, also after done or fail.
 * Never backwards: a redelivered or duplicated message reports steps the job
 * is already past; those are refused (and the job goes on), so the status
 * of a job only moves forward.
 */
export function canTransition(from: LoadStatus | null, to: LoadStatus): boolean {
  if (to === 'queued') return true;
  if (from === null) return false;
  if (TERMINAL.has(from)) return false;
  if (to === 'fail' || to === from) return true;
  return FORWARD[from].includes(to);
}
