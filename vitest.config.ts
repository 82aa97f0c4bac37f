import { cloudflareTest } from '@cloudflare/vitest-plugin';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  plugins: [
    cloudflareTest(({ inject }) => ({
      wrangler: { configPath: './wrangler.toml' },
      miniflare: {
        bindings: {
          ...inject('bindings'),
          OS_BASE_URL: 'http://conductor.test',
          OS_DEV_MODE: 'true',
        },
      },
    })),
  ],
  resolve: {
    // d3-time-format (via os-types) otherwise loads its ESM entry as CommonJS.
    mainFields: ['browser', 'module', 'main'],
  },
  test: {
    globalSetup: ['./test/global-setup.ts'],
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 120_000,
  },
});
