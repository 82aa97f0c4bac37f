import { describe, expect, it } from 'vitest';
import { checkFetchUrl, ownsStatusKey, policyFromConfig, type UrlPolicy } from './url-policy.ts';

const policy: UrlPolicy = policyFromConfig({
  OS_S3_HOSTNAME: 'store.example',
  OS_S3_PORT: 443,
  OS_S3_SCHEME: 'https',
  OS_STORAGE_BUCKET_NAME: 'bucket',
  OS_UPLOAD_ALLOWED_ORIGINS: ['http://127.0.0.1:9000', 'not a url'],
});

describe('checkFetchUrl', () => {
  const cases: Array<[string, string, boolean, string]> = [
    ['https://store.example:443/bucket/u1/pkg/datapackage.json', 'u1', true, 'own datastore folder (upload_url form with :443)'],
    ['https://store.example/bucket/u1/pkg/datapackage.json', 'u1', true, 'own datastore folder without the default port'],
    ['https://store.example/bucket/u2/pkg/datapackage.json', 'u1', false, "someone else's folder"],
    ['https://store.example/bucket/u1', 'u1', false, 'the folder itself is no file'],
    ['https://store.example/other/u1/pkg/datapackage.json', 'u1', false, 'another bucket'],
    ['http://store.example/bucket/u1/pkg/datapackage.json', 'u1', false, 'another scheme is another origin'],
    ['https://store.example:8443/bucket/u1/pkg/datapackage.json', 'u1', false, 'another port is another origin'],
    ['https://store.example/bucket/u1/../u2/datapackage.json', 'u1', false, 'parent step (normalised away by URL)'],
    ['https://store.example/bucket/u1/%2e%2e/u2/datapackage.json', 'u1', false, 'encoded parent step'],
    ['https://store.example/bucket/u1/a%5c..%5cb.json', 'u1', false, 'encoded backslash'],
    ['http://127.0.0.1:9000/any/path/datapackage.json', 'u1', true, 'allow-listed origin'],
    ['http://127.0.0.1:9001/any/path/datapackage.json', 'u1', false, 'other port of an allow-listed host'],
    ['http://169.254.169.254/latest/meta-data', 'u1', false, 'cloud metadata endpoint'],
    ['file:///etc/passwd', 'u1', false, 'not http'],
    ['https://u1:pw@store.example/bucket/u1/p.json', 'u1', false, 'credentials in the URL'],
    ['datapackage.json', 'u1', false, 'relative URL'],
  ];
  it.each(cases)('%s for %s -> %s (%s)', (url, user, ok) => {
    expect(checkFetchUrl(url, user, policy).ok).toBe(ok);
  });

  it('names the reason when refusing', () => {
    const r = checkFetchUrl('https://evil.example/x.json', 'u1', policy);
    expect(r).toEqual({ ok: false, error: 'URL https://evil.example is not an allowed datapackage location' });
  });

  it('allows nothing from the datastore when it is not configured', () => {
    const none = policyFromConfig({
      OS_S3_SCHEME: 'https',
      OS_S3_HOSTNAME: undefined,
      OS_S3_PORT: undefined,
      OS_STORAGE_BUCKET_NAME: undefined,
      OS_UPLOAD_ALLOWED_ORIGINS: [],
    });
    expect(checkFetchUrl('https://store.example/bucket/u1/p/datapackage.json', 'u1', none).ok).toBe(false);
  });
});

describe('ownsStatusKey', () => {
  const cases: Array<[string, string, boolean, string]> = [
    ['https://store.example/bucket/u1/p/datapackage.json', 'u1', true, 'a URL in the own folder'],
    ['https://store.example/bucket/u2/p/datapackage.json', 'u1', false, "another user's folder"],
    ['https://store.example/bucket/u1/../u2/p/datapackage.json', 'u1', false, 'a parent step out of the folder'],
    ['u2:package', 'u1', false, 'a package id'],
    ['https://elsewhere.example/bucket/u1/p/datapackage.json', 'u1', false, 'another host'],
    ['https://store.example/bucket/u1/', 'u1', false, 'the folder itself'],
  ];
  it.each(cases)('%s as %s: %s (%s)', (raw, userid, owned) => {
    expect(ownsStatusKey(raw, userid, policy)).toBe(owned);
  });
});
