import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from './config.ts';

const minimal = { OS_BASE_URL: 'https://openspending.example/', OS_CONDUCTOR_ENGINE: 'postgresql://u@h/db' };

describe('configuration', () => {
  it('accepts the minimal settings and fills in defaults', () => {
    const config = parseConfig(minimal);
    expect(config.OS_BASE_URL).toBe('https://openspending.example');
    expect(config.OS_ES_PACKAGES_INDEX_NAME).toBe('packages');
    expect(config.OS_UPLOAD_URL_TTL).toBe(3600);
    expect(config.OS_DATASTORE_PRIVATE).toBe(false);
    expect(config.OS_DATASTORE_READ_URL_TTL).toBe(300);
    expect(config.OS_DEFAULT_PERMISSIONS).toEqual({ 'os.datastore': { 'datapackage-upload': true } });
    expect(config.OS_FRONTEND_ORIGINS).toEqual([]);
  });

  it('names every missing required setting', () => {
    expect(() => parseConfig({})).toThrow(ConfigError);
    try {
      parseConfig({});
    } catch (err) {
      expect((err as Error).message).toContain('OS_BASE_URL');
      expect((err as Error).message).toContain('OS_CONDUCTOR_ENGINE');
    }
  });

  it('names an invalid setting and says what is wrong', () => {
    expect(() => parseConfig({ ...minimal, OS_S3_PORT: 'eighty' })).toThrow(/OS_S3_PORT/);
    expect(() => parseConfig({ ...minimal, OS_USER_TOKEN_TTL: '-5' })).toThrow(/OS_USER_TOKEN_TTL: must be a positive/);
    expect(() => parseConfig({ ...minimal, OS_DEFAULT_PERMISSIONS: '{not json' })).toThrow(/OS_DEFAULT_PERMISSIONS/);
    expect(() => parseConfig({ ...minimal, OS_CONDUCTOR_ENGINE: 'mysql://x' })).toThrow(/OS_CONDUCTOR_ENGINE/);
  });

  it('reads OS_USER_API_KEYS_MAX as a positive count (20 by default)', () => {
    expect(parseConfig(minimal).OS_USER_API_KEYS_MAX).toBe(20);
    expect(parseConfig({ ...minimal, OS_USER_API_KEYS_MAX: '5' }).OS_USER_API_KEYS_MAX).toBe(5);
    for (const bad of ['0', '-1', '2.5', 'many']) {
      expect(() => parseConfig({ ...minimal, OS_USER_API_KEYS_MAX: bad })).toThrow(/OS_USER_API_KEYS_MAX: must be a positive whole number$/);
    }
  });

  it('reads OS_MULTIPART_THRESHOLD in bytes (100 MB by default, at most one PUT\'s 5 GiB)', () => {
    expect(parseConfig(minimal).OS_MULTIPART_THRESHOLD).toBe(100_000_000);
    expect(parseConfig({ ...minimal, OS_MULTIPART_THRESHOLD: '5368709120' }).OS_MULTIPART_THRESHOLD).toBe(5 * 1024 ** 3);
    expect(() => parseConfig({ ...minimal, OS_MULTIPART_THRESHOLD: '5368709121' })).toThrow(/OS_MULTIPART_THRESHOLD: must be at most 5368709120/);
    for (const bad of ['0', '-1', '2.5', 'big']) {
      expect(() => parseConfig({ ...minimal, OS_MULTIPART_THRESHOLD: bad })).toThrow(/OS_MULTIPART_THRESHOLD: must be a positive whole number$/);
    }
  });

  it('reads OS_MULTIPART_MAX_AGE in seconds (a day by default)', () => {
    expect(parseConfig(minimal).OS_MULTIPART_MAX_AGE).toBe(86_400);
    expect(parseConfig({ ...minimal, OS_MULTIPART_MAX_AGE: '60' }).OS_MULTIPART_MAX_AGE).toBe(60);
    expect(() => parseConfig({ ...minimal, OS_MULTIPART_MAX_AGE: '0' })).toThrow(/OS_MULTIPART_MAX_AGE: must be a positive whole number of seconds$/);
  });

  it('splits comma-separated lists', () => {
    const config = parseConfig({ ...minimal, OS_FRONTEND_ORIGINS: 'https://a.example, https://b.example,' });
    expect(config.OS_FRONTEND_ORIGINS).toEqual(['https://a.example', 'https://b.example']);
  });

  it('ignores bindings that are not OS_* strings', () => {
    expect(() => parseConfig({ ...minimal, PACKAGE_STATUS: {}, OS_NUMBER: 5 })).not.toThrow();
  });

  it('resolves OS_EXTRA_TAXONOMIES: none by default, the built-in vulekamali, or one defined in OS_TAXONOMY_<NAME>', () => {
    expect(parseConfig(minimal).extraColumnTypes).toEqual({});
    expect(Object.keys(parseConfig({ ...minimal, OS_EXTRA_TAXONOMIES: 'vulekamali' }).extraColumnTypes)).toHaveLength(57);
    const own = { 'programme:code': { dataType: 'string', dimensionType: 'classification', uniqueIdentifier: true } };
    const config = parseConfig({ ...minimal, OS_EXTRA_TAXONOMIES: 'vulekamali, programmes', OS_TAXONOMY_PROGRAMMES: JSON.stringify(own) });
    expect(config.extraColumnTypes['programme:code']).toEqual(own['programme:code']);
    expect(Object.keys(config.extraColumnTypes)).toHaveLength(58);
  });

  it('refuses a broken taxonomy setting at start, naming the setting, the type and the problem', () => {
    const broken = {
      ...minimal,
      OS_EXTRA_TAXONOMIES: 'programmes',
      OS_TAXONOMY_PROGRAMMES: JSON.stringify({ 'programme:level2:code': { dataType: 'string', dimensionType: 'x', parent: 'programme:level1:code' } }),
    };
    expect(() => parseConfig(broken)).toThrow(ConfigError);
    expect(() => parseConfig(broken)).toThrow(
      'invalid configuration: OS_TAXONOMY_PROGRAMMES: type "programme:level2:code": parent "programme:level1:code" is not a known type',
    );
    expect(() => parseConfig({ ...minimal, OS_EXTRA_TAXONOMIES: 'programmes' })).toThrow(
      'OS_EXTRA_TAXONOMIES: "programmes" is neither a built-in taxonomy (vulekamali) nor defined in OS_TAXONOMY_PROGRAMMES',
    );
    expect(() => parseConfig({ ...minimal, OS_EXTRA_TAXONOMIES: 'p', OS_TAXONOMY_P: '{oops' })).toThrow(/OS_TAXONOMY_P: not valid JSON/);
  });

  it('reads OS_STATUS_PROGRESS and OS_LOGIN_LOOPBACK_NEXT, refusing values it does not know', () => {
    expect(parseConfig(minimal)).toMatchObject({ OS_STATUS_PROGRESS: 'records', OS_LOGIN_LOOPBACK_NEXT: true });
    expect(parseConfig({ ...minimal, OS_STATUS_PROGRESS: 'fraction', OS_LOGIN_LOOPBACK_NEXT: 'off' })).toMatchObject({
      OS_STATUS_PROGRESS: 'fraction',
      OS_LOGIN_LOOPBACK_NEXT: false,
    });
    expect(() => parseConfig({ ...minimal, OS_STATUS_PROGRESS: 'percent' })).toThrow(/OS_STATUS_PROGRESS/);
    expect(() => parseConfig({ ...minimal, OS_LOGIN_LOOPBACK_NEXT: 'maybe' })).toThrow(/OS_LOGIN_LOOPBACK_NEXT: must be on or off/);
  });
});
