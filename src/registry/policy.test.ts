import { describe, expect, it } from 'vitest';
import { isPackageId, mayManagePackage, parsePublishMode } from './policy.ts';

describe('mayManagePackage', () => {
  it.each([
    ['abc', 'abc:budget', true],
    ['abc', 'abcd:budget', false],
    ['abc', 'ab:c:budget', false],
    ['abc', 'xyz:abc', false],
    ['', ':budget', false],
    ['abc', 'abc', false],
  ])('user %s may manage %s: %s', (userid, id, expected) => {
    expect(mayManagePackage(userid, id)).toBe(expected);
  });
});

describe('parsePublishMode', () => {
  it.each([
    ['true', 'true'],
    ['True', 'true'],
    ['FALSE', 'false'],
    ['Toggle', 'toggle'],
    ['yes', null],
    ['', null],
    [undefined, null],
    ['true ', null],
  ])('reads %j as %j', (value, expected) => {
    expect(parsePublishMode(value)).toBe(expected);
  });
});

describe('isPackageId', () => {
  it.each([
    ['abc:budget', true],
    ['abc:', false],
    [':budget', false],
    ['budget', false],
    ['a:' + 'x'.repeat(600), false],
  ])('%s is a package id: %s', (id, expected) => {
    expect(isPackageId(id)).toBe(expected);
  });
});
