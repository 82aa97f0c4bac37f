import { describe, expect, it } from 'vitest';
import { mergePermissions } from './permissions.ts';

describe('mergePermissions: everyone row (or default) first, then the user row', () => {
  const cases: Array<[string, Parameters<typeof mergePermissions>, Record<string, unknown>]> = [
    ['nothing anywhere gives no permissions', [undefined, undefined, undefined], {}],
    ['the default applies when there is no everyone row', [undefined, undefined, { up: true }], { up: true }],
    ['an everyone row replaces the default', [{ read: true }, undefined, { up: true }], { read: true }],
    ['an empty everyone row still replaces the default', [{}, undefined, { up: true }], {}],
    ['the user row adds keys', [{ read: true }, { up: true }, undefined], { read: true, up: true }],
    ['the user row overrides a key', [{ up: true }, { up: false }, undefined], { up: false }],
    ['the user row overrides the default too', [undefined, { up: false }, { up: true, x: true }], { up: false, x: true }],
    ['a stored "false" string does not grant', [{ up: 'false' }, undefined, undefined], { up: false }],
    ['a stored "true" string does not grant either', [undefined, { up: 'true' }, undefined], { up: false }],
    ['1, "yes", null, {} and [] do not grant', [{ a: 1, b: 'yes', c: null, d: {}, e: [] }, undefined, undefined], { a: false, b: false, c: false, d: false, e: false }],
    ['a user row "false" string revokes an everyone grant', [{ up: true }, { up: 'false' }, undefined], { up: false }],
  ];
  it.each(cases)('%s', (_name, args, expected) => {
    expect(mergePermissions(...args)).toEqual(expected);
  });
});
