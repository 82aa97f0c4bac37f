import { describe, expect, it } from 'vitest';
import { formatDecimal, isIntegral, multiplyDecimal, parseDecimal, toIntegerText } from './decimal';

describe('decimal text arithmetic is exact', () => {
  it.each([
    ['0.1', '3', '0.3'],
    ['51710223.38', '100', '5171022338.00'],
    ['-2.5', '0.001', '-0.0025'],
    ['1e3', '1', '1000'],
    ['12.5e-3', '10', '0.1250'],
    ['-0', '5', '0'],
    ['9223372036854775807', '1000', '9223372036854775807000'],
  ])('%s x %s = %s', (a, b, product) => {
    expect(formatDecimal(multiplyDecimal(parseDecimal(a)!, parseDecimal(b)!))).toBe(product);
  });

  it.each(['', '.', '-', '1.2.3', '1e', 'NaN', 'Infinity', '0x10', '1,5', '1e1001', ' 1'])('rejects %j', (text) => {
    expect(parseDecimal(text)).toBeNull();
  });

  it.each([
    ['100.00', true, '100'],
    ['-12e2', true, '-1200'],
    ['1.50', false, null],
  ])('%s integral=%s', (text, integral, asInteger) => {
    const d = parseDecimal(text)!;
    expect(isIntegral(d)).toBe(integral);
    if (asInteger !== null) expect(toIntegerText(d)).toBe(asInteger);
  });
});
