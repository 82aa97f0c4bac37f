/**
 * The loopback servers beyond Postgres that tests need (OIDC provider,
 * S3-compatible server, OpenSearch). Each returns the bindings that point the
 * Worker at it and a stop function.
 */
import { fileURLToPath } from 'node:url';
import { startS3Server } from '../tools/services/s3.ts';
import { startStaticServer } from '../tools/services/static.ts';

export interface StartedServices {
  bindings: Record<string, string>;
  stops: Array<() => Promise<void>>;
}

export async function startTestServices(_base: Record<string, string>): Promise<StartedServices> {
  const started: StartedServices = { bindings: {}, stops: [] };
  for (const start of [startTestS3, startTestFixtures]) {
    const one = await start();
    Object.assign(started.bindings, one.bindings);
    started.stops.push(...one.stops);
  }
  return started;
}

/** Development-only credentials of the throw-away S3 server (not secrets). */
export const TEST_S3 = {
  accessKeyId: 'TESTACCESSKEY',
  secretAccessKey: 'test-secret-key-for-the-loopback-s3-server',
  bucket: 'os-datastore-test',
  region: 'us-east-1',
};

/** The S3-compatible server the datastore signs upload URLs for. */
async function startTestS3(): Promise<StartedServices> {
  const s3 = await startS3Server(TEST_S3);
  return {
    bindings: {
      OS_ACCESS_KEY_ID: TEST_S3.accessKeyId,
      OS_SECRET_ACCESS_KEY: TEST_S3.secretAccessKey,
      OS_S3_HOSTNAME: s3.hostname,
      OS_S3_PORT: String(s3.port),
      OS_S3_SCHEME: 'http',
      OS_S3_REGION: TEST_S3.region,
      OS_STORAGE_BUCKET_NAME: TEST_S3.bucket,
    },
    stops: [() => s3.stop()],
  };
}

/**
 * The real fiscal data packages (the shared fixtures folder beside the repo,
 * or OS_TEST_FIXTURES_DIR) over loopback HTTP: workerd cannot read files.
 * Binding OS_TEST_FIXTURES_URL is its base URL (no trailing slash).
 */
async function startTestFixtures(): Promise<StartedServices> {
  const root = process.env.OS_TEST_FIXTURES_DIR ?? fileURLToPath(new URL('../../shared/fixtures', import.meta.url));
  const server = await startStaticServer(root);
  return { bindings: { OS_TEST_FIXTURES_URL: server.url }, stops: [() => server.stop()] };
}
