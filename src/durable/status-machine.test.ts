import { describe, expect, it } from 'vitest';
import { STATUSES, canTransition, isLoadStatus, type LoadStatus } from './status-machine.ts';

describe('load status machine', () => {
  it('knows exactly the README statuses, in order', () => {
    expect(STATUSES).toEqual([
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
    ]);
    expect(isLoadStatus('loading-data')).toBe(true);
    expect(isLoadStatus('running')).toBe(false);
    expect(isLoadStatus(3)).toBe(false);
  });

  const cases: Array<[LoadStatus | null, LoadStatus, boolean, string]> = [
    [null, 'queued', true, 'a first upload creates the status'],
    [null, 'loading-data', false, 'no status appears without an upload'],
    ['queued', 'initializing', true, 'the loader picks a queued job up'],
    ['queued', 'loading-data', false, 'steps cannot be skipped'],
    ['initializing', 'loading-datapackage', true, 'forward step'],
    ['loading-datapackage', 'validating-datapackage', true, 'forward step'],
    ['validating-datapackage', 'loading-resource', true, 'forward step'],
    ['validating-datapackage', 'saving-metadata', true, 'an unchanged package skips the data load'],
    ['loading-resource', 'creating-table', true, 'no previous table: nothing to delete'],
    ['loading-resource', 'deleting-table', true, 'previous table present'],
    ['deleting-table', 'creating-table', true, 'forward step'],
    ['creating-table', 'loading-data-ready', true, 'forward step'],
    ['loading-data-ready', 'loading-data', true, 'forward step'],
    ['loading-data', 'loading-data', true, 'progress updates stay in loading-data'],
    ['loading-data', 'creating-babbage-model', true, 'forward step'],
    ['creating-babbage-model', 'saving-metadata', true, 'forward step'],
    ['saving-metadata', 'done', true, 'forward step'],
    ['loading-data', 'done', false, 'done only after the metadata is saved'],
    ['loading-data', 'validating-datapackage', false, 'no going back except to restart'],
    ['creating-table', 'initializing', false, 'a redelivered first message does not move the status back'],
    ['saving-metadata', 'loading-data', false, 'a duplicate chunk does not move a finishing job back'],
    ['loading-data', 'fail', true, 'any running step can fail'],
    ['queued', 'fail', true, 'a queued job can fail (liveness alarm)'],
    ['done', 'fail', false, 'a finished load cannot fail afterwards'],
    ['fail', 'done', false, 'a failed load cannot finish afterwards'],
    ['fail', 'loading-data', false, 'a failed load does not resume'],
    ['done', 'initializing', false, 'a finished load is not restarted by a stale message'],
    ['done', 'queued', true, 'a new upload restarts after done'],
    ['fail', 'queued', true, 'a new upload restarts after fail'],
    ['loading-data', 'queued', true, 'a new upload supersedes a running load'],
  ];

  it.each(cases)('%s -> %s is %s: %s', (from, to, allowed) => {
    expect(canTransition(from, to)).toBe(allowed);
  });
});
