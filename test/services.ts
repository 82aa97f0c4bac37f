/**
 * The loopback servers beyond Postgres that tests need (OIDC provider,
 * S3-compatible server, OpenSearch). Each returns the bindings that point the
 * Worker at it and a stop function.
 */
import { fileURLToPath } from 'node:url';
import { startOidcProvider } from '../tools/services/oidc.ts';
import { openSearchUnavailableReason, startOpenSearch } from '../tools/services/opensearch.ts';
import { startRedis } from '../tools/services/redis.ts';
import { startS3Server } from '../tools/services/s3.ts';
import { startS3FaultProxy } from '../tools/services/s3-faults.ts';
import { startWsProxy } from '../tools/services/ws-proxy.ts';
import { freePort } from '../tools/services/util.ts';
import { startStaticServer } from '../tools/services/static.ts';
import { startHookReceiver } from './package-admin/hook-receiver.ts';

export interface StartedServices {
  bindings: Record<string, string>;
  stops: Array<() => Promise<void>>;
}

export async function startTestServices(_base: Record<string, string>): Promise<StartedServices> {
  const started: StartedServices = { bindings: {}, stops: [] };
  for (const start of [startTestS3, startTestSoak, startTestFixtures, startTestOidc, startTestOpenSearch, startTestPipeline, startTestApiCache]) {
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
  soakS3Upstream = s3.port;
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
 * The fault soak's own proxies (test/soak/): a WebSocket proxy to Postgres
 * that drops chosen connections and an HTTP proxy in front of the S3 server
 * that spoils chosen reads. Only the soak points its env at them. Also passes
 * OS_SOAK_SCHEDULES / OS_SOAK_SEED (bench/soak.ts) to the soak.
 */
async function startTestSoak(): Promise<StartedServices> {
  const s3 = await startS3FaultProxy({ hostname: '127.0.0.1', port: soakS3Upstream });
  const db = await startWsProxy({ faults: true });
  const bindings: Record<string, string> = {
    OS_TEST_SOAK_S3_PORT: String(s3.port),
    OS_TEST_SOAK_DB_PROXY: db.hostPort,
  };
  if (process.env.OS_SOAK_SCHEDULES) bindings.OS_TEST_SOAK_SCHEDULES = process.env.OS_SOAK_SCHEDULES;
  if (process.env.OS_SOAK_SEED) bindings.OS_TEST_SOAK_SEED = process.env.OS_SOAK_SEED;
  return { bindings, stops: [() => s3.stop(), () => db.close()] };
}

/** Port of the test S3 server, for the soak's fault proxy in front of it. */
let soakS3Upstream = 0;

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

/** Development-only OAuth clients of the loopback OpenID provider (not secrets). */
export const TEST_OIDC = {
  /** Used by the workers tests, whose base URL is http://conductor.test. */
  workers: { client_id: 'conductor-test', client_secret: 'conductor-test-secret' },
  /** Used by node tests that run the Worker on a real loopback port (OS_TEST_BROWSER_BASE_URL). */
  browser: { client_id: 'conductor-browser-test', client_secret: 'conductor-browser-test-secret' },
};

/** Development-only API keys (OS_CLIENT_API_KEYS) for the identity tests; the first user never logs in. */
export const TEST_API_KEYS = [
  { key: 'test-api-key-automation-0001', userid: 'a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0' },
  { key: 'test-api-key-automation-0002', userid: 'b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1' },
];

/**
 * The real OpenID provider the login flow runs against. Bindings point the
 * Worker at it; OS_TEST_BROWSER_BASE_URL is the loopback URL node tests must
 * start their Worker on (its callback is registered with the provider).
 */
async function startTestOidc(): Promise<StartedServices> {
  const browserBase = `http://127.0.0.1:${await freePort()}`;
  const oidc = await startOidcProvider({
    clients: [
      { ...TEST_OIDC.workers, redirect_uris: ['http://conductor.test/oauth/google_callback'] },
      { ...TEST_OIDC.browser, redirect_uris: [`${browserBase}/oauth/google_callback`] },
    ],
  });
  return {
    bindings: {
      OS_OIDC_ISSUER: oidc.issuer,
      OS_OIDC_CLIENT_ID: TEST_OIDC.workers.client_id,
      OS_OIDC_CLIENT_SECRET: TEST_OIDC.workers.client_secret,
      OS_TEST_BROWSER_BASE_URL: browserBase,
      OS_CLIENT_API_KEYS: TEST_API_KEYS.map((k) => `${k.key}:${k.userid}`).join(','),
    },
    stops: [() => oidc.stop()],
  };
}

/**
 * A real OpenSearch 2.19 node. Its URL goes to OS_TEST_ELASTICSEARCH_URL
 * only: OS_ELASTICSEARCH_ADDRESS stays unset so the default search backend of
 * the Worker under test is Postgres; ES tests build their backend with the URL.
 * When it cannot run (OS_TEST_SKIP_OPENSEARCH=1, or Java/Maven missing outside
 * CI) OS_TEST_ELASTICSEARCH_SKIPPED says why and the ES tests are skipped;
 * with CI=true a failure to start fails the run.
 */
async function startTestOpenSearch(): Promise<StartedServices> {
  const ci = process.env.CI === 'true';
  const skip = (reason: string): StartedServices => {
    console.warn(`OpenSearch not started, ElasticSearch tests are skipped: ${reason}`);
    return { bindings: { OS_TEST_ELASTICSEARCH_SKIPPED: reason }, stops: [] };
  };
  if (process.env.OS_TEST_SKIP_OPENSEARCH === '1') return skip('OS_TEST_SKIP_OPENSEARCH=1');
  const missing = openSearchUnavailableReason();
  if (missing && !ci) return skip(missing);
  const node = await startOpenSearch({ log: (line) => console.log(line) });
  return { bindings: { OS_TEST_ELASTICSEARCH_URL: node.url }, stops: [() => node.stop()] };
}

/**
 * A pipeline endpoint for /package/run-hooks: OS_PIPELINE_URLS allows only
 * <receiver>/pipeline/allowed and /pipeline/redirect (which answers 307);
 * OS_TEST_HOOK_RECEIVER_URL lets tests read
 * what it received (GET /__received).
 */
async function startTestPipeline(): Promise<StartedServices> {
  const receiver = await startHookReceiver();
  return {
    bindings: {
      OS_PIPELINE_URLS: `${receiver.url}/pipeline/allowed,${receiver.url}/pipeline/redirect`,
      OS_TEST_HOOK_RECEIVER_URL: receiver.url,
    },
    stops: [() => receiver.stop()],
  };
}

/**
 * A real Redis standing in for os-api's cache (OS_API_CACHE), so tests can
 * see cache entries of a package being cleared. Without redis-server outside
 * CI the binding is left out and cache clearing is a no-op.
 */
async function startTestApiCache(): Promise<StartedServices> {
  try {
    const redis = await startRedis();
    return { bindings: { OS_API_CACHE: `127.0.0.1:${redis.port}` }, stops: [() => redis.stop()] };
  } catch (err) {
    if (process.env.CI === 'true') throw err;
    console.warn(`Redis not started, os-api cache tests are skipped: ${(err as Error).message}`);
    return { bindings: {}, stops: [] };
  }
}
