import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from './config.ts';

const minimal = { OS_BASE_URL: 'https://openspending.example/', OS_CONDUCTOR_ENGINE: 'postgresql://u@h/db' };

describe('configuration', () => {
  it('accepts the minimal settings and fills in defaults', () => {
    const config = parseConfig(minimal);
    expect(config.OS_BASE_URL).toBe('https://openspending.example');
    expect(config.OS_ES_PACKAGES_INDEX_NAME).toBe('packages');
    expect(config.OS_UPLOAD_URL_TTL).toBe(3600);
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

  it('splits comma-separated lists', () => {
    const config = parseConfig({ ...minimal, OS_FRONTEND_ORIGINS: 'https://a.example, https://b.example,' });
    expect(config.OS_FRONTEND_ORIGINS).toEqual(['https://a.example', 'https://b.example']);
  });

  it('ignores bindings that are not OS_* strings', () => {
    expect(() => parseConfig({ ...minimal, PACKAGE_STATUS: {}, OS_NUMBER: 5 })).not.toThrow();
  });
});
