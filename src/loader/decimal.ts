/**
 * Exact decimal text arithmetic for measure values: numbers go to NUMERIC
 * columns as text, and the original's `factor` multiplication must not pick
 * up binary floating-point noise (0.1 * 3 = 0.30000000000000004).
 */

/** A decimal as sign-less digits scaled by 10^-scale. */
export interface Decimal {
  negative: boolean;
  digits: bigint;
  scale: number;
}

const DECIMAL_RE = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d{1,6}))?$/;

/** Largest accepted exponent magnitude (Postgres NUMERIC allows 131072 integer digits; stay far below). */
const MAX_EXPONENT = 1000;

/** Parses plain decimal text (`-12.50`, `.5`, `1e3`); null when it is not one. */
export function parseDecimal(text: string): Decimal | null {
  const m = DECIMAL_RE.exec(text);
  if (!m) return null;
  const intPart = m[2] ?? '';
  const fracPart = m[3] ?? '';
  if (intPart === '' && fracPart === '') return null;
  const exponent = m[4] === undefined ? 0 : Number(m[4]);
  if (Math.abs(exponent) > MAX_EXPONENT || intPart.length + fracPart.length > 2000) return null;
  return { negative: m[1] === '-', digits: BigInt(intPart + fracPart || '0'), scale: fracPart.length - exponent };
}

/** Product of two decimals, exact. */
export function multiplyDecimal(a: Decimal, b: Decimal): Decimal {
  return { negative: a.negative !== b.negative, digits: a.digits * b.digits, scale: a.scale + b.scale };
}

/** Canonical text (no exponent), e.g. `-1234.50`; scale below zero is expanded with zeros. */
export function formatDecimal(d: Decimal): string {
  let digits = d.digits.toString();
  let scale = d.scale;
  if (scale < 0) {
    digits = d.digits === 0n ? '0' : digits + '0'.repeat(-scale);
    scale = 0;
  }
  let text: string;
  if (scale === 0) text = digits;
  else {
    digits = digits.padStart(scale + 1, '0');
    text = `${digits.slice(0, digits.length - scale)}.${digits.slice(digits.length - scale)}`;
  }
  return d.negative && d.digits !== 0n ? `-${text}` : text;
}

/** Whether the decimal has no fractional part (trailing zeros allowed). */
export function isIntegral(d: Decimal): boolean {
  return d.scale <= 0 || d.digits % 10n ** BigInt(d.scale) === 0n;
}

/** The decimal rescaled to scale 0 (only valid when integral). */
export function toIntegerText(d: Decimal): string {
  const value = d.scale <= 0 ? d.digits * 10n ** BigInt(-d.scale) : d.digits / 10n ** BigInt(d.scale);
  return (d.negative && value !== 0n ? -value : value).toString();
}
