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
