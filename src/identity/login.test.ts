import { describe, expect, it } from 'vitest';
import { isWellFormedState, loginCookie, loginCookieName, loginHopUrl, readLoginCookie } from './login.ts';

const https = { OS_BASE_URL: 'https://openspending.org' };
const http = { OS_BASE_URL: 'http://localhost:8787' };
const value = 'a'.repeat(43);

describe('login cookie: __Host- on https, plain name without Secure on http development', () => {
  it.each([
    [https, '__Host-os_login', `__Host-os_login=${value}; Path=/; Max-Age=600; HttpOnly; Secure; SameSite=Lax`],
    [http, 'os_login', `os_login=${value}; Path=/; Max-Age=600; HttpOnly; SameSite=Lax`],
  ])('%j', (config, name, header) => {
    expect(loginCookieName(config)).toBe(name);
    expect(loginCookie(config, value)).toBe(header);
  });
});

describe('readLoginCookie: only a well-formed value under our exact name', () => {
  it.each([
    [`__Host-os_login=${value}`, value],
    [`a=1; __Host-os_login=${value}; b=2`, value],
    [`os_login=${value}`, undefined], // the development name is not accepted on https
    [`__Host-os_login=${value}x`, undefined],
    ['__Host-os_login=short', undefined],
    [`__host-os_login=${value}`, undefined],
    ['', undefined],
    [undefined, undefined],
  ])('%j -> %j', (header, expected) => {
    expect(readLoginCookie(https, header)).toBe(expected);
  });
});

describe('isWellFormedState: only the shape of a state we issue (43 base64url characters)', () => {
  it.each([
    ['A'.repeat(43), true],
    ['a_b-' + '0'.repeat(39), true],
    ['A'.repeat(42), false],
    ['A'.repeat(44), false],
    ['A'.repeat(42) + '=', false],
    ['A'.repeat(42) + '+', false],
    ['A'.repeat(42) + "'", false],
    ['', false],
    [undefined, false],
  ])('%j -> %j', (state, expected) => {
    expect(isWellFormedState(state)).toBe(expected);
  });
});

describe('loginHopUrl: providers.google.url points at the first-party hop on the base URL', () => {
  it.each([
    [https, 'https://openspending.org/oauth/google_login?state=' + value],
    [http, 'http://localhost:8787/oauth/google_login?state=' + value],
  ])('%j', (config, url) => {
    expect(loginHopUrl(config, value)).toBe(url);
  });
});
