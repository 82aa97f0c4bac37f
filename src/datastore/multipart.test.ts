import { describe, expect, it } from 'vitest';
import {
  MAX_MULTIPART_OBJECT_BYTES,
  MAX_PART_BYTES,
  MAX_PARTS,
  MIN_PART_BYTES,
  multipartLengthProblem,
  partRange,
  partRanges,
  planParts,
  usesMultipart,
} from './multipart.ts';

const MIB = 1024 * 1024;
const TIB = 1024 ** 4;

describe('planParts', () => {
  // [what, length, part size, part count, size of the last part]
  const cases: Array<[string, number, number, number, number]> = [
    ['0 bytes: one empty part', 0, 5 * MIB, 1, 0],
    ['1 byte', 1, 5 * MIB, 1, 1],
    ['just under one part', 5 * MIB - 1, 5 * MIB, 1, 5 * MIB - 1],
    ['exactly one part', 5 * MIB, 5 * MIB, 1, 5 * MIB],
    ['one byte over one part', 5 * MIB + 1, 5 * MIB, 2, 1],
    ['exactly 3 parts', 15 * MIB, 5 * MIB, 3, 5 * MIB],
    ['just under the 100 MB threshold', 99_999_999, 5 * MIB, 20, 99_999_999 - 19 * 5 * MIB],
    ['just over the 100 MB threshold', 100_000_001, 5 * MIB, 20, 100_000_001 - 19 * 5 * MIB],
    ['the largest file 5 MiB parts cover', 10_000 * 5 * MIB, 5 * MIB, 10_000, 5 * MIB],
    ['one byte more forces 6 MiB parts', 10_000 * 5 * MIB + 1, 6 * MIB, 8334, 10_000 * 5 * MIB + 1 - 8333 * 6 * MIB],
    ['5 GiB (one PUT\'s limit)', 5 * 1024 * MIB, 5 * MIB, 1024, 5 * MIB],
    ['100 GiB', 100 * 1024 * MIB, 11 * MIB, 9310, 100 * 1024 * MIB - 9309 * 11 * MIB],
    ['5 TiB, S3\'s object limit', 5 * TIB, 525 * MIB, 9987, 5 * TIB - 9986 * 525 * MIB],
  ];

  it.each(cases)('%s (%d bytes): parts of %d bytes, %d of them', (_what, length, partSize, partCount, lastSize) => {
    const plan = planParts(length);
    expect(plan).toEqual({ length, partSize, partCount });
    const last = partRange(plan, partCount);
    expect(last.end).toBe(length);
    expect(last.end - last.start).toBe(lastSize);
  });

  it.each(cases)('%s: within S3\'s limits, contiguous, covering every byte once', (_what, length) => {
    const plan = planParts(length);
    const ranges = partRanges(plan);
    expect(ranges).toHaveLength(plan.partCount);
    expect(plan.partCount).toBeLessThanOrEqual(MAX_PARTS);
    expect(plan.partSize).toBeGreaterThanOrEqual(MIN_PART_BYTES);
    expect(plan.partSize).toBeLessThanOrEqual(MAX_PART_BYTES);
    let next = 0;
    for (const [i, range] of ranges.entries()) {
      expect(range.partNumber).toBe(i + 1);
      expect(range.start).toBe(next);
      const size = range.end - range.start;
      if (i < ranges.length - 1) expect(size).toBe(plan.partSize);
      else expect(size).toBeLessThanOrEqual(plan.partSize);
      // Only an empty file has an empty part.
      if (length > 0) expect(size).toBeGreaterThan(0);
      next = range.end;
    }
    expect(next).toBe(length);
  });

  it.each([
    ['one byte over 5 TiB', MAX_MULTIPART_OBJECT_BYTES + 1, /5 TB object limit/],
    ['10 TiB', 10 * TIB, /5 TB object limit/],
    ['a negative length', -1, /whole number/],
    ['a fraction', 1.5, /whole number/],
    ['not a number', Number.NaN, /whole number/],
    ['beyond safe integers', 2 ** 53, /whole number/],
  ])('refuses %s', (_what, length, message) => {
    expect(multipartLengthProblem(length)).toMatch(message);
    expect(() => planParts(length)).toThrow(RangeError);
    expect(() => planParts(length)).toThrow(message);
  });

  it('accepts exactly 5 TiB', () => {
    expect(multipartLengthProblem(MAX_MULTIPART_OBJECT_BYTES)).toBeNull();
  });
});

describe('partRange', () => {
  const plan = planParts(12 * MIB);
  it.each([
    [1, 0, 5 * MIB],
    [2, 5 * MIB, 10 * MIB],
    [3, 10 * MIB, 12 * MIB],
  ])('part %d is bytes [%d, %d)', (partNumber, start, end) => {
    expect(partRange(plan, partNumber)).toEqual({ partNumber, start, end });
  });
  it.each([0, 4, -1, 1.5, Number.NaN])('refuses part number %s', (partNumber) => {
    expect(() => partRange(plan, partNumber)).toThrow(/part number must be from 1 to 3/);
  });
});

describe('usesMultipart', () => {
  const threshold = 100_000_000;
  it.each([
    ['0 bytes', 0, undefined, false],
    ['just under the threshold', threshold - 1, undefined, false],
    ['exactly the threshold', threshold, undefined, false],
    ['just over the threshold', threshold + 1, undefined, true],
    ['over the threshold, multipart false', threshold + 1, false, true],
    ['a small file that asks for it', 10, true, true],
    ['0 bytes that asks for it', 0, true, true],
    ['a small file that declines', 10, false, false],
  ] as const)('%s -> %s', (_what, length, asked, expected) => {
    expect(usesMultipart(length, asked, threshold)).toBe(expected);
  });
});
