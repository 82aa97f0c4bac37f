import { describe, expect, it } from 'vitest';
import { safeNext, withJwt, type RedirectPolicy } from './redirect.ts';

const policy: RedirectPolicy = {
  baseUrl: 'https://openspending.org',
  frontendOrigins: ['https://viewer.example.org', 'http://admin.example.org:8080'],
  devMode: false,
};
const dev: RedirectPolicy = { ...policy, devMode: true };

describe('safeNext: only allow-listed origins may receive a token', () => {
  const accepted: Array<[string, RedirectPolicy]> = [
    ['https://openspending.org/admin', policy],
    ['https://openspending.org:443/packager/logged-in', policy], // os-packager's explicit :443
    ['HTTPS://OpenSpending.ORG/viewer?x=1#frag', policy], // scheme and host are case-insensitive
    ['https://viewer.example.org/', policy],
    ['http://admin.example.org:8080/datasets', policy],
    ['http://127.0.0.1:8001', dev], // gobble's local capture server, development only
    ['http://localhost:3000/', dev],
    ['http://[::1]:9000/', dev],
  ];
  it.each(accepted)('accepts %s', (next, p) => {
    expect(safeNext(next, p)).toBeInstanceOf(URL);
  });

  const refused: Array<[string | undefined, RedirectPolicy, string]> = [
    [undefined, policy, 'missing'],
    ['', policy, 'empty'],
    ['//evil.example', policy, 'scheme-relative'],
    ['/relative/path', policy, 'relative'],
    ['https://evil.example/', policy, 'foreign origin'],
    ['https://openspending.org@evil.example/', policy, 'allowed host as userinfo'],
    ['https://ok@openspending.org/', policy, 'userinfo on an allowed host'],
    ['https://openspending.org.evil.example/', policy, 'allowed host as a prefix'],
    ['https://evil.example/https://openspending.org', policy, 'allowed URL in the path'],
    ['javascript:alert(1)//https://openspending.org', policy, 'javascript: scheme'],
    ['JavaScript:alert(1)', policy, 'javascript: in mixed case'],
    ['data:text/html,hi', policy, 'data: scheme'],
    [' https://openspending.org/', policy, 'leading whitespace'],
    ['https://openspending.org/\n', policy, 'newline'],
    ['https://open\tspending.org/', policy, 'tab inside the host'],
    ['https:\\\\evil.example', policy, 'backslashes'],
    ['https://openspending.org\\@evil.example', policy, 'backslash before @'],
    ['http://openspending.org/', policy, 'right host, wrong scheme'],
    ['https://openspending.org:8443/', policy, 'right host, wrong port'],
    ['http://admin.example.org/', policy, 'frontend without its port'],
    ['http://127.0.0.1:8001', policy, 'loopback outside development'],
    ['http://localhost/', policy, 'localhost outside development'],
    ['https://openspending.org/' + 'a'.repeat(3000), policy, 'oversized'],
  ];
  it.each(refused)('refuses %s (%s)', (next, p) => {
    expect(safeNext(next, p)).toBeNull();
  });
});

describe('withJwt: the token goes into the query, before the fragment', () => {
  const cases: Array<[string, string]> = [
    ['http://127.0.0.1:8001', 'http://127.0.0.1:8001/?jwt=TOKEN'],
    ['https://h.org/p', 'https://h.org/p?jwt=TOKEN'],
    ['https://h.org/p?a=1#/view', 'https://h.org/p?a=1&jwt=TOKEN#/view'],
    ['https://h.org/p?jwt=old&a=1', 'https://h.org/p?a=1&jwt=TOKEN'],
    ['https://h.org/p?jwt=old&jwt=older', 'https://h.org/p?jwt=TOKEN'],
    ['https://h.org/p?columns[]=a&columns[]=b', 'https://h.org/p?columns[]=a&columns[]=b&jwt=TOKEN'],
    ['https://h.org/p?q=a%20b&e=', 'https://h.org/p?q=a%20b&e=&jwt=TOKEN'],
    ['https://h.org/p?%6Awt=old', 'https://h.org/p?jwt=TOKEN'],
  ];
  it.each(cases)('%s -> %s', (next, expected) => {
    expect(withJwt(new URL(next), 'TOKEN')).toBe(expected);
  });
});
