/**
 * What `progress` means in /package/status. The original README and
 * os-admin read it as records loaded; os-packager (`upload.progress * 100`)
 * and the vulekamali automation (`int(float(progress) * 100)`) read it as
 * the fraction 0..1 the original's last release sent. OS_STATUS_PROGRESS
 * picks one; both figures are always given under their own names too.
 * Pure: no I/O.
 */

export const PROGRESS_MODES = ['records', 'fraction'] as const;

export type ProgressMode = (typeof PROGRESS_MODES)[number];

/** The figures a status body carries. */
export interface ProgressFigures {
  /** The figure of the configured mode. */
  progress: number;
  /** Records loaded so far. */
  records: number;
  /** Share of the load done: 0..1, exactly 1 when done, 0 while unknown. */
  fraction: number;
}

/** What the policy reads of a load status. */
export interface ProgressInput {
  status: string;
  /** Records loaded so far. */
  progress: number;
  /** Share of the work done as the loader measured it (bytes read), when known. */
  fraction: number | null;
}

/**
 * @example progressFigures({ status: 'loading-data', progress: 500, fraction: 0.25 }, 'fraction')
 *   // { progress: 0.25, records: 500, fraction: 0.25 }
 */
export function progressFigures(view: ProgressInput, mode: ProgressMode): ProgressFigures {
  const records = Number.isFinite(view.progress) && view.progress > 0 ? Math.floor(view.progress) : 0;
  let fraction: number;
  if (view.status === 'done') fraction = 1;
  else if (view.fraction === null || !Number.isFinite(view.fraction)) fraction = 0;
  else fraction = Math.min(1, Math.max(0, view.fraction));
  return { progress: mode === 'fraction' ? fraction : records, records, fraction };
}
