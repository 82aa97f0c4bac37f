import { describe, expect, it } from 'vitest';
import { authorizationUrl, GOOGLE_METADATA, identityFromClaims, pkceChallenge, randomToken, resolveProvider } from './oidc.ts';

describe('pkceChallenge: RFC 7636 S256', () => {
  it('matches the RFC 7636 Appendix B example', async () => {
    expect(await pkceChallenge('dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk')).toBe(
      'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
    );
  });
  it('random tokens are URL-safe and distinct', () => {
    const a = randomToken();
    expect(a).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(randomToken()).not.toBe(a);
  });
});

describe('authorizationUrl: code flow with PKCE S256, state and nonce', () => {
  it('carries every parameter the provider needs', () => {
    const url = new URL(
      authorizationUrl(
        { authorizationEndpoint: 'https://idp.example/auth?tenant=x' },
        { clientId: 'cid', redirectUri: 'https://os.example/oauth/google_callback', state: 's', nonce: 'n', codeChallenge: 'c' },
      ),
    );
    expect(url.origin + url.pathname).toBe('https://idp.example/auth');
    expect(Object.fromEntries(url.searchParams)).toEqual({
      tenant: 'x',
      response_type: 'code',
      client_id: 'cid',
      redirect_uri: 'https://os.example/oauth/google_callback',
      scope: 'openid email profile',
      state: 's',
      nonce: 'n',
      code_challenge: 'c',
      code_challenge_method: 'S256',
    });
  });
});

describe('identityFromClaims: profile from the ID token, completed by userinfo', () => {
  it('takes the ID token claims', () => {
    expect(
      identityFromClaims({ sub: '42', email: 'A@x.org', name: 'Ada', picture: 'https://p/x.png' }, {}),
    ).toEqual({ sub: '42', email: 'A@x.org', name: 'Ada', picture: 'https://p/x.png' });
  });
  it('fills missing fields from userinfo of the same subject', () => {
    expect(identityFromClaims({ sub: '42' }, { sub: '42', email: 'a@x.org', email_verified: true })).toEqual({
      sub: '42',
      email: 'a@x.org',
      name: null,
      picture: null,
    });
  });
  it.each([
    ['no subject', {}, { email: 'a@x.org' }],
    ['userinfo of another subject', { sub: '42' }, { sub: '43', email: 'a@x.org' }],
    ['no e-mail', { sub: '42' }, {}],
    ['a malformed e-mail', { sub: '42', email: 'not an email' }, {}],
    ['an unverified e-mail', { sub: '42', email: 'a@x.org', email_verified: false }, {}],
  ])('refuses %s', (_name, claims, userinfo) => {
    expect(() => identityFromClaims(claims, userinfo)).toThrow();
  });
  it('drops a picture that is not an http(s) URL', () => {
    expect(identityFromClaims({ sub: '1', email: 'a@x.org', picture: 'javascript:alert(1)' }, {}).picture).toBeNull();
  });
});

describe('resolveProvider: configured endpoints win, Google needs no discovery', () => {
  const none = {
    OS_OIDC_AUTHORIZATION_ENDPOINT: undefined,
    OS_OIDC_TOKEN_ENDPOINT: undefined,
    OS_OIDC_USERINFO_ENDPOINT: undefined,
    OS_OIDC_JWKS_URI: undefined,
  };
  it("uses Google's published endpoints by default", async () => {
    expect(await resolveProvider({ OS_OIDC_ISSUER: 'https://accounts.google.com', ...none })).toEqual(GOOGLE_METADATA);
  });
  it('takes complete explicit endpoints without a discovery request (.invalid never resolves)', async () => {
    const meta = await resolveProvider({
      OS_OIDC_ISSUER: 'https://idp.invalid/',
      OS_OIDC_AUTHORIZATION_ENDPOINT: 'https://idp.invalid/authorize',
      OS_OIDC_TOKEN_ENDPOINT: 'https://idp.invalid/token',
      OS_OIDC_USERINFO_ENDPOINT: undefined,
      OS_OIDC_JWKS_URI: 'https://idp.invalid/jwks',
    });
    expect(meta).toEqual({
      issuer: 'https://idp.invalid',
      authorizationEndpoint: 'https://idp.invalid/authorize',
      tokenEndpoint: 'https://idp.invalid/token',
      userinfoEndpoint: undefined,
      jwksUri: 'https://idp.invalid/jwks',
      tokenAuth: 'client_secret_basic',
    });
  });
  it('overrides one Google endpoint', async () => {
    const meta = await resolveProvider({
      OS_OIDC_ISSUER: 'https://accounts.google.com',
      ...none,
      OS_OIDC_TOKEN_ENDPOINT: 'https://proxy.example/token',
    });
    expect(meta).toEqual({ ...GOOGLE_METADATA, tokenEndpoint: 'https://proxy.example/token' });
  });
  it('fails with a clear error when discovery is unreachable (nothing listens on the discard port)', async () => {
    await expect(resolveProvider({ OS_OIDC_ISSUER: 'http://127.0.0.1:9', ...none })).rejects.toThrow(/OIDC discovery failed/);
  });
});
