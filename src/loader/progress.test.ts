import { describe, expect, it } from 'vitest';
import { progressFigures, type ProgressInput, type ProgressMode } from './progress.ts';

const view = (status: string, progress: number, fraction: number | null): ProgressInput => ({ status, progress, fraction });

describe('progressFigures: progress is records or the fraction, and both are always given', () => {
  const cases: Array<[string, ProgressInput, ProgressMode, { progress: number; records: number; fraction: number }]> = [
    ['queued, records', view('queued', 0, null), 'records', { progress: 0, records: 0, fraction: 0 }],
    ['queued, fraction', view('queued', 0, null), 'fraction', { progress: 0, records: 0, fraction: 0 }],
    ['loading, records', view('loading-data', 25_000, 0.5), 'records', { progress: 25_000, records: 25_000, fraction: 0.5 }],
    ['loading, fraction', view('loading-data', 25_000, 0.5), 'fraction', { progress: 0.5, records: 25_000, fraction: 0.5 }],
    ['done, fraction is exactly 1', view('done', 50_000, 0.999), 'fraction', { progress: 1, records: 50_000, fraction: 1 }],
    ['done without a measured fraction', view('done', 7, null), 'fraction', { progress: 1, records: 7, fraction: 1 }],
    ['done, records', view('done', 50_000, 1), 'records', { progress: 50_000, records: 50_000, fraction: 1 }],
    ['a fraction above 1 is capped', view('loading-data', 10, 1.2), 'fraction', { progress: 1, records: 10, fraction: 1 }],
    ['a negative fraction is 0', view('loading-data', 10, -0.1), 'fraction', { progress: 0, records: 10, fraction: 0 }],
    ['a non-finite fraction is 0', view('loading-data', 10, Number.NaN), 'fraction', { progress: 0, records: 10, fraction: 0 }],
    ['fail keeps the last figures', view('fail', 300, 0.3), 'fraction', { progress: 0.3, records: 300, fraction: 0.3 }],
    ['fail before any data', view('fail', 0, null), 'records', { progress: 0, records: 0, fraction: 0 }],
  ];
  it.each(cases)('%s', (_what, input, mode, expected) => {
    expect(progressFigures(input, mode)).toEqual(expected);
  });
});
