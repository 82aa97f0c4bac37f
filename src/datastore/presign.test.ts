import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '../config.ts';
import { bucketUrl, MAX_PRESIGN_SECONDS, storageTarget } from './presign.ts';

const BASE = {
  OS_BASE_URL: 'https://openspending.example',
  OS_CONDUCTOR_ENGINE: 'postgresql://u@h/db',
  OS_ACCESS_KEY_ID: 'AKIDEXAMPLE',
  OS_SECRET_ACCESS_KEY: 'secret',
  OS_S3_HOSTNAME: 's3.amazonaws.com',
  OS_STORAGE_BUCKET_NAME: 'datastore.openspending.org',
};

describe('storageTarget', () => {
  it('reads the settings, https and us-east-1 by default', () => {
    expect(storageTarget(parseConfig(BASE))).toEqual({
      scheme: 'https',
      hostname: 's3.amazonaws.com',
      port: undefined,
      bucket: 'datastore.openspending.org',
      region: 'us-east-1',
      accessKeyId: 'AKIDEXAMPLE',
      secretAccessKey: 'secret',
    });
  });

  it('takes an R2 endpoint with region auto', () => {
    const target = storageTarget(
      parseConfig({ ...BASE, OS_S3_HOSTNAME: '0123abcd.r2.cloudflarestorage.com', OS_S3_REGION: 'auto', OS_STORAGE_BUCKET_NAME: 'datastore' }),
    );
    expect(bucketUrl(target)).toBe('https://0123abcd.r2.cloudflarestorage.com/datastore');
    expect(target.region).toBe('auto');
  });

  const refused: Array<[string, Record<string, string>, RegExp]> = [
    ['no access key', { OS_ACCESS_KEY_ID: '' }, /OS_ACCESS_KEY_ID missing/],
    ['no secret', { OS_SECRET_ACCESS_KEY: '' }, /OS_SECRET_ACCESS_KEY missing/],
    ['no host', { OS_S3_HOSTNAME: '' }, /OS_S3_HOSTNAME missing/],
    ['no bucket', { OS_STORAGE_BUCKET_NAME: '' }, /OS_STORAGE_BUCKET_NAME missing/],
    ['a host with a scheme', { OS_S3_HOSTNAME: 'https://s3.amazonaws.com' }, /bare host name/],
    ['a host with a port', { OS_S3_HOSTNAME: 's3.amazonaws.com:443' }, /bare host name/],
    ['a host with a path', { OS_S3_HOSTNAME: 's3.amazonaws.com/x' }, /bare host name/],
    ['a bucket with a slash', { OS_STORAGE_BUCKET_NAME: 'a/b' }, /not a valid bucket name/],
    ['a bucket in upper case', { OS_STORAGE_BUCKET_NAME: 'Data' }, /not a valid bucket name/],
    ['a TTL over 7 days', { OS_UPLOAD_URL_TTL: String(MAX_PRESIGN_SECONDS + 1) }, /OS_UPLOAD_URL_TTL/],
    ['a read link TTL over 7 days', { OS_DATASTORE_READ_URL_TTL: String(MAX_PRESIGN_SECONDS + 1) }, /OS_DATASTORE_READ_URL_TTL/],
  ];
  it.each(refused)('refuses %s with a ConfigError (the app answers 503)', (_what, overrides, message) => {
    const config = parseConfig({ ...BASE, ...overrides });
    expect(() => storageTarget(config)).toThrow(ConfigError);
    expect(() => storageTarget(config)).toThrow(message);
  });
});

describe('bucketUrl', () => {
  const cases: Array<[Parameters<typeof bucketUrl>[0], string]> = [
    [{ scheme: 'https', hostname: 's3.amazonaws.com', bucket: 'b' }, 'https://s3.amazonaws.com/b'],
    [{ scheme: 'https', hostname: 's3.amazonaws.com', port: 443, bucket: 'b' }, 'https://s3.amazonaws.com/b'],
    [{ scheme: 'http', hostname: 'h', port: 80, bucket: 'b' }, 'http://h/b'],
    [{ scheme: 'http', hostname: '127.0.0.1', port: 4568, bucket: 'b' }, 'http://127.0.0.1:4568/b'],
    [{ scheme: 'https', hostname: 'h', port: 80, bucket: 'b' }, 'https://h:80/b'],
  ];
  it.each(cases)('%j -> %s (default ports left out, as browsers send Host)', (target, url) => {
    expect(bucketUrl(target)).toBe(url);
  });
});
