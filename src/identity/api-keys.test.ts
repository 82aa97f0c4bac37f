import { describe, expect, it } from 'vitest';
import { matchApiKey, parseApiKeys } from './api-keys.ts';

describe('parseApiKeys: "key:userid,..."', () => {
  it.each([
    [undefined, []],
    ['', []],
    ['k1:u1', [{ key: 'k1', userid: 'u1' }]],
    [' k1 : u1 , k2:u2 ', [{ key: 'k1', userid: 'u1' }, { key: 'k2', userid: 'u2' }]],
    ['a:b:u1', [{ key: 'a:b', userid: 'u1' }]],
    ['nocolon,:u1,k:,k3:u3', [{ key: 'k3', userid: 'u3' }]],
  ])('%j', (setting, expected) => {
    expect(parseApiKeys(setting)).toEqual(expected);
  });
});

describe('matchApiKey: only an exact configured key maps to its user', () => {
  const entries = parseApiKeys('secret-one:user1,secret-two:user2');
  it.each([
    ['secret-one', 'user1'],
    ['secret-two', 'user2'],
    ['secret-on', null],
    ['secret-one ', null],
    ['SECRET-ONE', null],
    ['', null],
    [undefined, null],
    ['x'.repeat(10_000), null],
  ])('%j -> %j', async (presented, expected) => {
    expect(await matchApiKey(entries, presented)).toBe(expected);
  });
  it('matches nothing when no keys are configured', async () => {
    expect(await matchApiKey([], 'secret-one')).toBeNull();
  });
});
