import { describe, expect, it } from 'vitest';
import { redact, redactUrl } from './log.ts';

describe('log redaction', () => {
  it('removes tokens, signatures and credentials from URLs', () => {
    const out = redactUrl('https://u:p@host/package/upload?datapackage=x&jwt=secret.jwt.value&X-Amz-Signature=abc');
    expect(out).not.toContain('secret.jwt.value');
    expect(out).not.toContain('abc');
    expect(out).not.toContain('u:p@');
    expect(out).toContain('datapackage=x');
  });

  it('cuts very long URLs', () => {
    const out = redactUrl(`https://host/user/check?next=${'x'.repeat(5000)}`);
    expect(out.length).toBeLessThan(600);
    expect(out.endsWith('…(cut)')).toBe(true);
  });

  it('drops fields whose names look like secrets', () => {
    expect(redact({ token: 't', apiKey: 'k', authorization: 'a', status: 200 })).toEqual({
      token: 'REDACTED',
      apiKey: 'REDACTED',
      authorization: 'REDACTED',
      status: 200,
    });
  });
});
