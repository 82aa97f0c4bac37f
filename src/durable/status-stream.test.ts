import { describe, expect, it } from 'vitest';
import { eventId, fanoutIntervalMs, resumeFrom, statusEvent, wantsEventStream, type StatusSnapshot } from './status-stream.ts';

const view: StatusSnapshot = {
  status: 'loading-data',
  progress: 500,
  total: null,
  fraction: 0.25,
  error: null,
  dialect: null,
  steps: { queued: 5, 'loading-data': 100 },
  startedAt: 1700000000000,
  updatedAt: 1700000001000,
  seq: 7,
  bytes: 1000,
  bytesTotal: 4000,
  stepStartedAt: 1700000001000,
};

describe('wantsEventStream', () => {
  it.each([
    [undefined, false],
    ['', false],
    ['application/json', false],
    ['*/*', false],
    ['text/event-stream', true],
    ['Text/Event-Stream', true],
    ['application/json, text/event-stream;q=0.9', true],
    ['text/event-streams', false],
  ])('%s -> %s', (accept, wanted) => {
    expect(wantsEventStream(accept)).toBe(wanted);
  });
});

describe('resumeFrom', () => {
  const id = eventId(view);
  it.each([
    [null, 'loading-data', 'send'],
    ['', 'loading-data', 'send'],
    ['1700000000000-6', 'loading-data', 'send'],
    ['1600000000000-7', 'loading-data', 'send'],
    [id, 'loading-data', 'wait'],
    [` ${id} `, 'loading-data', 'wait'],
    [id, 'done', 'end'],
    [id, 'fail', 'end'],
    ['1700000000000-6', 'done', 'send'],
  ] as const)('Last-Event-ID %s while %s -> %s', (last, status, action) => {
    expect(resumeFrom(last, { ...view, status })).toBe(action);
  });
});

describe('statusEvent', () => {
  it('is one event with the id, the status event name and the polling body plus the stream figures on one data line', () => {
    const text = statusEvent(view, 'fraction', 1700000002000);
    const lines = text.split('\n');
    expect(lines.slice(0, 2)).toEqual(['id: 1700000000000-7', 'event: status']);
    expect(lines.slice(3)).toEqual(['', '']);
    expect(JSON.parse((lines[2] as string).replace(/^data: /, ''))).toEqual({
      status: 'loading-data',
      progress: 0.25,
      records: 500,
      fraction: 0.25,
      steps: { queued: 5, 'loading-data': 100 },
      bytes: 1000,
      bytesTotal: 4000,
      startedAt: 1700000000000,
      stepStartedAt: 1700000001000,
      updatedAt: 1700000001000,
      now: 1700000002000,
    });
  });

  it('keeps an error with line breaks on one data line', () => {
    const text = statusEvent({ ...view, status: 'fail', error: 'line one\nline two\r\n' }, 'records', 1);
    expect(text.split('\n').filter((l) => l.startsWith('data: '))).toHaveLength(1);
    expect(text.endsWith('\n\n')).toBe(true);
  });
});

describe('fanoutIntervalMs', () => {
  it.each([
    [1, 250],
    [250, 250],
    [600, 600],
    [1000, 1000],
    [2000, 2000],
    [5000, 2000],
  ])('with %i watchers sends progress at most every %i ms', (watchers, ms) => {
    expect(fanoutIntervalMs(watchers)).toBe(ms);
  });
});
