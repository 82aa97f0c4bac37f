import { describe, expect, it } from 'vitest';
import { historyAccess } from './history';

describe('historyAccess', () => {
  /** [rule, userid, package id, published (null: not in the registry), access] */
  const cases: Array<[string, string | null, string, boolean | null, ReturnType<typeof historyAccess>]> = [
    ['the owner sees everything of a private package', 'u1', 'u1:budget', false, 'full'],
    ['the owner sees the loads of a package never loaded', 'u1', 'u1:budget', null, 'full'],
    ['the owner of a published package too', 'u1', 'u1:budget', true, 'full'],
    ['anyone sees the public part of a published package', null, 'u1:budget', true, 'public'],
    ['another user the same', 'u2', 'u1:budget', true, 'public'],
    ['a private package is not found for anyone else', 'u2', 'u1:budget', false, null],
    ['nor anonymously', null, 'u1:budget', false, null],
    ['an unknown package neither', null, 'u1:budget', null, null],
    ['an empty user id owns nothing', '', ':budget', false, null],
  ];
  it.each(cases)('%s', (_rule, userid, id, published, access) => {
    expect(historyAccess(userid, id, published)).toBe(access);
  });
});
