import { cloudflareTest } from '@cloudflare/vitest-plugin';
import { defineConfig } from 'vitest/config';

/**
 * Two projects share one global setup (the real servers on loopback):
 * - workers: tests inside workerd, driving the Worker and its modules;
 * - node: tests that must run outside workerd (a real browser, the admin
 *   tools, the dev stack).
 */
export default defineConfig({
  test: {
    globalSetup: ['./test/global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 180_000,
    projects: [
      {
        plugins: [
          cloudflareTest(({ inject }) => ({
            wrangler: { configPath: './wrangler.toml' },
            miniflare: {
              bindings: {
                ...inject('bindings'),
                OS_BASE_URL: 'http://conductor.test',
                OS_DEV_MODE: 'true',
                // Short, so the stream tests see heartbeats.
                OS_STATUS_STREAM_HEARTBEAT: '1',
              },
            },
          })),
        ],
        resolve: {
          // d3-time-format (via os-types) otherwise loads its ESM entry as CommonJS.
          mainFields: ['browser', 'module', 'main'],
        },
        test: {
          name: 'workers',
          testTimeout: 30_000,
          hookTimeout: 180_000,
          include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
          exclude: ['test/node/**'],
        },
      },
      {
        test: {
          name: 'node',
          testTimeout: 30_000,
          hookTimeout: 180_000,
          environment: 'node',
          include: ['test/node/**/*.test.ts'],
        },
      },
    ],
  },
});
