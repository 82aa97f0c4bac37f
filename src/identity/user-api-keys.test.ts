import { describe, expect, it } from 'vitest';
import { expiryFrom, generateApiKey, hashApiKey, isUserApiKey, isValidKeyName, MAX_EXPIRY_DAYS } from './user-api-keys.ts';

describe('isValidKeyName: 1-64 letters, digits, space . _ -, no space at either end', () => {
  it.each([
    ['ci', true],
    ['x', true],
    ['nightly upload 2024', true],
    ['deploy_bot.v2-prod', true],
    ['n'.repeat(64), true],
    ['n'.repeat(65), false],
    ['', false],
    [' lead', false],
    ['trail ', false],
    ['tab\there', false],
    ['new\nline', false],
    ['<script>', false],
    ['ünï', false],
    ['a/b', false],
  ])('%j -> %j', (name, expected) => {
    expect(isValidKeyName(name)).toBe(expected);
  });
});

describe('expiryFrom: whole days from 1 to the maximum, or none', () => {
  const now = new Date('2030-01-01T00:00:00Z');
  const day = 24 * 3600 * 1000;
  it.each([
    [undefined, null],
    ['', null],
    ['1', new Date(now.getTime() + day)],
    ['30', new Date(now.getTime() + 30 * day)],
    [String(MAX_EXPIRY_DAYS), new Date(now.getTime() + MAX_EXPIRY_DAYS * day)],
    [String(MAX_EXPIRY_DAYS + 1), 'invalid'],
    ['0', 'invalid'],
    ['-1', 'invalid'],
    ['1.5', 'invalid'],
    ['1e2', 'invalid'],
    [' 7', 'invalid'],
    ['0x10', 'invalid'],
    ['99999999999999999999', 'invalid'],
    ['never', 'invalid'],
  ])('%j -> %j', (days, expected) => {
    expect(expiryFrom(days, now)).toEqual(expected);
  });
});

describe('generateApiKey: prefixed, 256 random bits, base64url', () => {
  it('has the recognisable shape and never repeats', () => {
    const keys = new Set(Array.from({ length: 200 }, () => generateApiKey()));
    expect(keys.size).toBe(200);
    for (const key of keys) {
      expect(key).toMatch(/^osk_[A-Za-z0-9_-]{43}$/);
      expect(isUserApiKey(key)).toBe(true);
      // 43 base64url characters carry 258 bits: the last one holds 2 spare bits, always zero for 32 bytes.
      expect(atob(key.slice(4).replace(/-/g, '+').replace(/_/g, '/') + '=').length).toBe(32);
    }
  });

  it.each([
    [undefined, false],
    ['', false],
    ['osk_', false],
    ['osk_' + 'A'.repeat(42), false],
    ['osk_' + 'A'.repeat(44), false],
    ['OSK_' + 'A'.repeat(43), false],
    ['osk_' + 'A'.repeat(42) + '=', false],
    ['test-api-key-automation-0001', false],
    ['osk_' + 'A'.repeat(43), true],
  ])('isUserApiKey(%j) -> %j', (presented, expected) => {
    expect(isUserApiKey(presented)).toBe(expected);
  });
});

describe('hashApiKey', () => {
  it('is the SHA-256 hex of the key (the FIPS 180-2 "abc" vector)', async () => {
    expect(await hashApiKey('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });
});
