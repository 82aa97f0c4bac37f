import { describe, expect, it } from 'vitest';
import { withTimeout } from './timeout.ts';

const later = <T>(ms: number, value: T): Promise<T> => new Promise((resolve) => setTimeout(() => resolve(value), ms));

describe('withTimeout', () => {
  it('answers what the call answers in time', async () => {
    expect(await withTimeout(later(5, 'ok'), 1000, 'too slow')).toBe('ok');
  });

  it('passes the call’s own rejection on', async () => {
    await expect(withTimeout(Promise.reject(new Error('refused')), 1000, 'too slow')).rejects.toThrow('refused');
  });

  it('rejects with its message when the call does not settle in time', async () => {
    await expect(withTimeout(new Promise(() => undefined), 20, 'too slow')).rejects.toThrow('too slow');
  });
});
