import { describe, expect, it } from 'vitest';
import { isValidUsername } from './username.ts';

describe('isValidUsername: 3-40 safe characters starting with a letter or digit', () => {
  it.each(['abc', 'Ada_Lovelace', 'a.b-c_d', '123', 'x'.repeat(40)])('accepts %s', (name) => {
    expect(isValidUsername(name)).toBe(true);
  });
  it.each([
    ['', 'empty'],
    ['ab', 'too short'],
    ['x'.repeat(41), 'too long'],
    ['.hidden', 'leading dot'],
    ['-dash', 'leading dash'],
    ['with space', 'space'],
    ['<script>', 'markup'],
    ['ünïcode', 'non-ASCII'],
    ['a/b/c', 'slash'],
    ['name\n', 'trailing newline'],
    ['a:b', 'colon'],
  ])('refuses %j (%s)', (name) => {
    expect(isValidUsername(name)).toBe(false);
  });
});
