import { describe, expect, it } from 'vitest';
import {
  CheckpointConflictError,
  PermanentError,
  SupersededError,
  classifyError,
  errorMessage,
  retryDelaySeconds,
} from './errors.ts';

function named(name: string, message = 'x'): Error {
  const e = new Error(message);
  e.name = name;
  return e;
}

function pgError(code: string): Error {
  return Object.assign(new Error('pg'), { code });
}

describe('classifyError', () => {
  const cases: Array<[string, unknown, string]> = [
    ['a bad descriptor fails the load', named('DescriptorError'), 'permanent'],
    ['a cast error fails the load', named('CastError'), 'permanent'],
    ['unparseable CSV fails the load', named('CsvError'), 'permanent'],
    ['our own permanent errors fail the load', new PermanentError('404'), 'permanent'],
    ['a numeric overflow in Postgres fails the load', pgError('22003'), 'permanent'],
    ['a unique violation fails the load', pgError('23505'), 'permanent'],
    ['an undefined column fails the load', pgError('42703'), 'permanent'],
    ['a lost connection is retried', pgError('08006'), 'transient'],
    ['a lock wait that timed out is retried', pgError('55P03'), 'transient'],
    ['a network error is retried', new TypeError('fetch failed'), 'transient'],
    ['anything unknown is retried', 'boom', 'transient'],
    ['a superseded job stops', new SupersededError(), 'superseded'],
    ['a moved checkpoint stops this delivery', new CheckpointConflictError(), 'conflict'],
  ];
  it.each(cases)('%s', (_rule, err, kind) => {
    expect(classifyError(err)).toBe(kind);
  });
});

describe('retryDelaySeconds', () => {
  it('backs off exponentially and caps at five minutes', () => {
    expect([1, 2, 3, 4, 10].map(retryDelaySeconds)).toEqual([5, 10, 20, 40, 300]);
  });
});

describe('errorMessage', () => {
  it('keeps messages short', () => {
    expect(errorMessage(new Error('a'.repeat(5000))).length).toBe(1001);
    expect(errorMessage('plain')).toBe('plain');
  });
});
