import { describe, expect, it } from 'vitest';
import { safeNext, withJwt, type RedirectPolicy } from './redirect.ts';

const policy: RedirectPolicy = {
  baseUrl: 'https://openspending.org',
  frontendOrigins: ['https://viewer.example.org', 'http://admin.example.org:8080'],
  devMode: false,
  loopbackLiterals: false,
};
const dev: RedirectPolicy = { ...policy, devMode: true };
/** Production defaults: loopback IP literals on (OS_LOGIN_LOOPBACK_NEXT), no development mode. */
const prod: RedirectPolicy = { ...policy, loopbackLiterals: true };

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
    // RFC 8252 §7.3 loopback IP literals, outside development (OS_LOGIN_LOOPBACK_NEXT on).
    ['http://127.0.0.1:8001', prod], // gobble, exactly
    ['http://127.0.0.1:49152/callback?x=1', prod],
    ['http://127.0.0.1/', prod], // default port
    ['http://[::1]:8001/', prod],
    ['http://[0:0:0:0:0:0:0:1]:8001/', prod], // the parser spells it [::1]
    ['https://openspending.org/admin', prod], // the allow-list still applies
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
    // Loopback literals allowed: only the literals themselves, over http.
    ['http://localhost:8001/', prod, 'localhost is a name, not a literal'],
    ['http://localhost./', prod, 'localhost. (trailing dot)'],
    ['http://127.0.0.1.evil.example/', prod, 'loopback literal as a label prefix'],
    ['http://localhost.evil.example/', prod, 'localhost as a label prefix'],
    ['http://127.0.0.1@evil.example/', prod, 'loopback literal as userinfo'],
    ['https://127.0.0.1@evil.example/', prod, 'loopback literal as userinfo over https'],
    ['http://127.0.0.1:8001@evil.example/', prod, 'loopback literal and port as userinfo'],
    ['http://user:pw@127.0.0.1:8001/', prod, 'userinfo on a loopback literal'],
    ['http://evil.example/#@127.0.0.1:8001', prod, 'loopback literal in the fragment'],
    ['http://evil.example/?next=http://127.0.0.1:8001', prod, 'loopback literal in the query'],
    ['http://127.0.0.1%2eevil.example/', prod, 'percent-encoded dot'],
    ['http://127.0.0.2:8001/', prod, 'another 127/8 address'],
    ['http://[::ffff:127.0.0.1]:8001/', prod, 'IPv4-mapped IPv6'],
    ['https://127.0.0.1:8001/', prod, 'https to a loopback literal (RFC 8252 uses http)'],
    ['ftp://127.0.0.1:8001/', prod, 'ftp scheme'],
    ['ws://127.0.0.1:8001/', prod, 'ws scheme'],
    ['file://127.0.0.1/etc/passwd', prod, 'file scheme'],
    ['javascript://127.0.0.1/%0aalert(1)', prod, 'javascript scheme'],
    ['//127.0.0.1:8001/', prod, 'scheme-relative loopback'],
    ['http:127.0.0.1:8001', prod, 'no slashes'],
    ['http://127.0.0.1:8001', policy, 'loopback literals turned off'],
    ['http://[::1]:8001/', policy, 'IPv6 loopback turned off'],
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
