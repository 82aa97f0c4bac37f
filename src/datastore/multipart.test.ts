import { describe, expect, it } from 'vitest';
import {
  MAX_MULTIPART_OBJECT_BYTES,
  MAX_PART_BYTES,
  MAX_PARTS,
  MIN_PART_BYTES,
  multipartLengthProblem,
  partRange,
  partRanges,
  partsToSend,
  planParts,
  storedPartsProblem,
  usesMultipart,
  type PartSeen,
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

describe('storedPartsProblem and partsToSend', () => {
  // 12 MiB: parts of 5, 5 and 2 MiB.
  const plan = planParts(12 * MIB);
  const full: PartSeen[] = [
    { partNumber: 1, size: 5 * MIB },
    { partNumber: 2, size: 5 * MIB },
    { partNumber: 3, size: 2 * MIB },
  ];
  const without = (n: number) => full.filter((p) => p.partNumber !== n);
  const resized = (n: number, size: number) => full.map((p) => (p.partNumber === n ? { ...p, size } : p));
  // [what, stored, problem (null: completable), parts still to send]
  const cases: Array<[string, PartSeen[], { partNumber: number; error: string } | null, number[]]> = [
    ['every part as planned', full, null, []],
    ['stored out of order', [...full].reverse(), null, []],
    ['nothing stored', [], { partNumber: 1, error: 'part 1 is missing' }, [1, 2, 3]],
    ['the middle part missing', without(2), { partNumber: 2, error: 'part 2 is missing' }, [2]],
    ['the last part missing', without(3), { partNumber: 3, error: 'part 3 is missing' }, [3]],
    ['a short middle part', resized(2, 1024), { partNumber: 2, error: `part 2 has 1024 bytes, the plan says ${5 * MIB}` }, [2]],
    ['a long last part', resized(3, 5 * MIB), { partNumber: 3, error: `part 3 has ${5 * MIB} bytes, the plan says ${2 * MIB}` }, [3]],
    ['an empty first part', resized(1, 0), { partNumber: 1, error: `part 1 has 0 bytes, the plan says ${5 * MIB}` }, [1]],
    ['a part beyond the plan', [...full, { partNumber: 4, size: 1 }], { partNumber: 4, error: 'part 4 is not in the plan (3 parts)' }, []],
  ];
  it.each(cases)('%s', (_what, stored, problem, toSend) => {
    expect(storedPartsProblem(plan, stored)).toEqual(problem);
    expect(partsToSend(plan, stored)).toEqual(toSend);
  });

  it('checks a 5 TiB plan of 9,987 parts, naming the one short part', () => {
    const big = planParts(5 * TIB);
    const stored = partRanges(big).map((r) => ({ partNumber: r.partNumber, size: r.end - r.start }));
    expect(storedPartsProblem(big, stored)).toBeNull();
    stored[4711] = { partNumber: 4712, size: big.partSize - 1 };
    expect(storedPartsProblem(big, stored)?.partNumber).toBe(4712);
    expect(partsToSend(big, stored)).toEqual([4712]);
  });

  it('an empty file is one empty part', () => {
    expect(storedPartsProblem(planParts(0), [{ partNumber: 1, size: 0 }])).toBeNull();
    expect(partsToSend(planParts(0), [])).toEqual([1]);
  });
});
