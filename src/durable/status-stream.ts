/**
 * The wire forms of a load status: the polling body of /package/status
 * (unchanged for today's clients) and the Server-Sent Events of its live
 * stream, which carry that body plus the figures the status page draws
 * (bytes, step start, clock). Pure: the PackageStatus object and the route
 * use it, the tests pin it.
 */
import { progressFigures, type ProgressMode } from '../loader/progress.ts';
import type { DialectView } from '../loader/dialect.ts';
import { TERMINAL, type LoadStatus } from './status-machine.ts';

/** What the stream and the polling body are made of (a StatusView's public part). */
export interface StatusSnapshot {
  status: LoadStatus;
  progress: number;
  total: number | null;
  fraction: number | null;
  error: string | null;
  dialect: DialectView | null;
  steps: Partial<Record<LoadStatus, number>>;
  startedAt: number;
  updatedAt: number;
  /** Number of the change within the job (1 for its first status). */
  seq: number;
  /** Bytes of the data file read so far, and its size, when known. */
  bytes: number | null;
  bytesTotal: number | null;
  /**
   * Since when the current step's time is not yet in `steps` (each update
   * adds the time up to it): the step has run `steps[status] + (now - stepStartedAt)`.
   */
  stepStartedAt: number;
}

/** The polling body of /package/status. */
export interface StatusBody {
  status: LoadStatus;
  progress: number;
  records: number;
  fraction: number;
  error?: string;
  total?: number;
  steps?: Record<string, number>;
  dialect?: DialectView;
}

/** The public view of a status (no job id, key or private metadata); `progress` as `mode` says. */
export function statusBody(view: StatusSnapshot, mode: ProgressMode): StatusBody {
  const body: StatusBody = { status: view.status, ...progressFigures(view, mode) };
  if (view.status === 'fail') body.error = view.error ?? 'load failed';
  if (view.total !== null) body.total = view.total;
  body.steps = view.steps as Record<string, number>;
  if (view.dialect) body.dialect = view.dialect;
  return body;
}

/** What one stream event's data holds: the polling body plus the page's figures. */
export interface StreamData extends StatusBody {
  bytes: number | null;
  bytesTotal: number | null;
  startedAt: number;
  stepStartedAt: number;
  updatedAt: number;
  /** The server's clock when the event was made (the page times the running step with it). */
  now: number;
}

/**
 * The event id: the upload (its start time) and the change number, so ids
 * grow within a job and an id of an earlier upload never matches.
 */
export function eventId(view: Pick<StatusSnapshot, 'startedAt' | 'seq'>): string {
  return `${view.startedAt}-${view.seq}`;
}

/** One `status` event, ready to write to every watcher. */
export function statusEvent(view: StatusSnapshot, mode: ProgressMode, now: number): string {
  const data: StreamData = {
    ...statusBody(view, mode),
    bytes: view.bytes,
    bytesTotal: view.bytesTotal,
    startedAt: view.startedAt,
    stepStartedAt: view.stepStartedAt,
    updatedAt: view.updatedAt,
    now,
  };
  // JSON has no raw line breaks, so one `data:` line carries it.
  return `id: ${eventId(view)}\nevent: status\ndata: ${JSON.stringify(data)}\n\n`;
}

/** A comment line: keeps proxies from closing an idle stream; EventSource ignores it. */
export const HEARTBEAT = ': heartbeat\n\n';

/** How long EventSource waits before reconnecting after a dropped stream. */
export const RETRY_MS = 2000;

/** The first bytes of every stream: the reconnection delay. */
export const STREAM_PREAMBLE = `retry: ${RETRY_MS}\n\n`;

/**
 * What a (re)connecting watcher gets first, given the id of the last event
 * it saw (`Last-Event-ID`) and the current status:
 * - `end`: it has seen the final event already (answer 204, which stops
 *   EventSource from reconnecting);
 * - `wait`: it has seen the current state; only later changes are sent;
 * - `send`: the current state first (it subsumes every change missed).
 */
export function resumeFrom(lastEventId: string | null, view: Pick<StatusSnapshot, 'startedAt' | 'seq' | 'status'>): 'end' | 'wait' | 'send' {
  if (lastEventId === null || lastEventId.trim() !== eventId(view)) return 'send';
  return TERMINAL.has(view.status) ? 'end' : 'wait';
}

/** Whether a request asks for the event stream rather than the polling JSON. */
export function wantsEventStream(accept: string | undefined): boolean {
  if (!accept) return false;
  return accept
    .split(',')
    .map((part) => part.split(';')[0]?.trim().toLowerCase())
    .includes('text/event-stream');
}

/**
 * Progress changes are sent to watchers at most once per interval: one
 * encoded event for all of them, whatever the loader's tick rate. The
 * interval grows with the watchers (1 ms each, from 250 ms up to 2 s), so
 * the object writes at most about 1,000 progress events a second however
 * many watch: its time is shared with the loader's updates. An end goes out
 * at once.
 */
export function fanoutIntervalMs(watchers: number): number {
  return Math.min(2000, Math.max(250, watchers));
}
