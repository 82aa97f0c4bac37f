/**
 * Part arithmetic for multipart uploads, and the rule for which files get
 * one. Pure: no I/O, no clock.
 *
 * S3's limits (R2 has the same or looser ones): at most 10,000 parts, each
 * 5 MiB to 5 GiB except the last, which may be smaller; an object of at most
 * 5 TiB. The part size chosen is the smallest whole number of MiB that fits
 * the file in 10,000 parts, and never below 5 MiB: small parts make a dropped
 * connection cheap to resume.
 */

const MIB = 1024 * 1024;

/** Smallest part S3 accepts, except for the last one. */
export const MIN_PART_BYTES = 5 * MIB;
/** Largest part S3 accepts. */
export const MAX_PART_BYTES = 5 * 1024 * MIB;
/** Most parts in one upload. */
export const MAX_PARTS = 10_000;
/** Largest object S3 stores (its "5 TB"). */
export const MAX_MULTIPART_OBJECT_BYTES = 5 * 1024 ** 4;

/** How a file of `length` bytes is cut. */
export interface PartPlan {
  length: number;
  partSize: number;
  partCount: number;
}

/** One part: bytes [start, end) of the file, as Blob.slice and fs read streams take them. */
export interface PartRange {
  partNumber: number;
  start: number;
  end: number;
}

/**
 * Why `length` cannot be uploaded in parts, or null. A whole number of bytes
 * from 0 to MAX_MULTIPART_OBJECT_BYTES.
 */
export function multipartLengthProblem(length: number): string | null {
  if (!Number.isSafeInteger(length) || length < 0) return 'must be a whole number of bytes';
  if (length > MAX_MULTIPART_OBJECT_BYTES) return `is more than ${MAX_MULTIPART_OBJECT_BYTES} bytes (S3's 5 TB object limit)`;
  return null;
}

/**
 * The plan for a file of `length` bytes. An empty file is one empty part
 * (completing an upload needs at least one). Throws RangeError when
 * multipartLengthProblem finds a problem; callers validate first.
 */
export function planParts(length: number): PartPlan {
  const problem = multipartLengthProblem(length);
  if (problem) throw new RangeError(`length ${problem}`);
  const needed = Math.ceil(length / MAX_PARTS);
  const partSize = Math.max(MIN_PART_BYTES, Math.ceil(needed / MIB) * MIB);
  // 5 TiB / 10,000 parts is about 525 MiB, far below MAX_PART_BYTES.
  const partCount = Math.max(1, Math.ceil(length / partSize));
  return { length, partSize, partCount };
}

/** The byte range of part `partNumber` (1-based) of `plan`; RangeError outside 1..partCount. */
export function partRange(plan: PartPlan, partNumber: number): PartRange {
  if (!Number.isInteger(partNumber) || partNumber < 1 || partNumber > plan.partCount) {
    throw new RangeError(`part number must be from 1 to ${plan.partCount}`);
  }
  const start = (partNumber - 1) * plan.partSize;
  return { partNumber, start, end: Math.min(start + plan.partSize, plan.length) };
}

/** Every part of `plan`, in order. */
export function partRanges(plan: PartPlan): PartRange[] {
  return Array.from({ length: plan.partCount }, (_, i) => partRange(plan, i + 1));
}

/**
 * Whether a file is uploaded in parts: when its filedata entry asks for it
 * (`"multipart": true`) or it is larger than the threshold
 * (OS_MULTIPART_THRESHOLD, which config.ts keeps at most one PUT's 5 GiB, so
 * every file a single PUT cannot carry is above it).
 */
export function usesMultipart(length: number, asked: boolean | undefined, threshold: number): boolean {
  return asked === true || length > threshold;
}

/**
 * Part URLs signed per file in the /datastore/authorize answer: signing is
 * about 0.4 ms of CPU a URL (bench:multipart), so a 10,000-part plan signs
 * its first parts there and the rest come from resume.
 */
export const PART_URLS_PER_FILE = 100;
/** Most part URLs one answer signs (authorize for all its files, resume for its one). */
export const PART_URLS_PER_ANSWER = 1000;

/** A part the bucket holds, as far as the plan cares. */
export interface PartSeen {
  partNumber: number;
  size: number;
}

/**
 * The first way `stored` differs from `plan`, naming the part, or null when
 * the upload can be completed: every part 1..partCount present with its
 * planned size (partSize, the last one the rest), and no other part.
 */
export function storedPartsProblem(plan: PartPlan, stored: readonly PartSeen[]): { partNumber: number; error: string } | null {
  const byNumber = new Map(stored.map((p) => [p.partNumber, p]));
  for (let n = 1; n <= plan.partCount; n++) {
    const part = byNumber.get(n);
    const range = partRange(plan, n);
    const expected = range.end - range.start;
    if (!part) return { partNumber: n, error: `part ${n} is missing` };
    if (part.size !== expected) return { partNumber: n, error: `part ${n} has ${part.size} bytes, the plan says ${expected}` };
  }
  const extra = stored.find((p) => p.partNumber < 1 || p.partNumber > plan.partCount);
  if (extra) return { partNumber: extra.partNumber, error: `part ${extra.partNumber} is not in the plan (${plan.partCount} parts)` };
  return null;
}

/** The part numbers still to send, in order: those not stored, or stored with another size than planned. */
export function partsToSend(plan: PartPlan, stored: readonly PartSeen[]): number[] {
  const sizes = new Map(stored.map((p) => [p.partNumber, p.size]));
  const missing: number[] = [];
  for (const range of partRanges(plan)) {
    if (sizes.get(range.partNumber) !== range.end - range.start) missing.push(range.partNumber);
  }
  return missing;
}
