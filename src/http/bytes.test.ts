import { describe, expect, it } from 'vitest';
import { concatBytes } from './bytes.ts';

describe('concatBytes', () => {
  it('joins parts in order', () => {
    expect(concatBytes([new Uint8Array([1, 2]), new Uint8Array(0), new Uint8Array([3])])).toEqual(new Uint8Array([1, 2, 3]));
  });
  it('gives an empty array for no parts, and a single part as it is', () => {
    expect(concatBytes([])).toEqual(new Uint8Array(0));
    const only = new Uint8Array([7]);
    expect(concatBytes([only])).toBe(only);
  });
});
