import { describe, expect, it } from 'vitest';
import { parseHttpUrl } from './urls.ts';

describe('parseHttpUrl', () => {
  it.each([
    ['https://datastore.example/a/b.json', 'https://datastore.example/a/b.json'],
    ['HTTP://Example.ORG:80/x', 'http://example.org/x'],
  ])('accepts %s', (raw, href) => {
    expect(parseHttpUrl(raw)?.href).toBe(href);
  });

  it.each(['javascript:alert(1)', 'file:///etc/passwd', 'ftp://x/y', '//evil.example/', '/relative', 'https://user:pw@host/', 'https://user@host/', 'not a url'])(
    'refuses %s',
    (raw) => {
      expect(parseHttpUrl(raw)).toBeNull();
    },
  );
});
