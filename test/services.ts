/**
 * The loopback servers beyond Postgres that tests need (OIDC provider,
 * S3-compatible server, two OpenSearch nodes). Each returns the bindings that point the
 * Worker at it and a stop function.
 */
import { fileURLToPath } from 'node:url';
import { startOidcProvider } from '../tools/services/oidc.ts';
import { openSearchUnavailableReason, startOpenSearch, type LocalOpenSearch } from '../tools/services/opensearch.ts';
import { startRedis } from '../tools/services/redis.ts';
import { startS3Server } from '../tools/services/s3.ts';
import { startS3FaultProxy } from '../tools/services/s3-faults.ts';
import { startVersitygw } from '../tools/services/versitygw.ts';
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
  for (const start of [startTestS3, startTestMultipartS3, startTestSoak, startTestFixtures, startTestOidc, startTestOpenSearch, startTestPipeline, startTestApiCache]) {
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

/** Development-only credentials of the throw-away multipart S3 server (not secrets). */
export const TEST_MULTIPART_S3 = {
  accessKeyId: 'TESTMULTIPARTKEY',
  secretAccessKey: 'test-secret-key-for-the-loopback-multipart-s3',
  bucket: 'os-datastore-multipart',
  region: 'us-east-1',
};

/**
 * The S3 server with the whole multipart API (tools/services/versitygw.ts).
 * The datastore tests of complete, abort, resume and the cron point their
 * env's OS_S3_* settings at it (OS_TEST_MULTIPART_S3_*).
 */
async function startTestMultipartS3(): Promise<StartedServices> {
  const s3 = await startVersitygw(TEST_MULTIPART_S3);
  return {
    bindings: {
      OS_TEST_MULTIPART_S3_HOSTNAME: s3.hostname,
      OS_TEST_MULTIPART_S3_PORT: String(s3.port),
      OS_TEST_MULTIPART_S3_ACCESS_KEY_ID: TEST_MULTIPART_S3.accessKeyId,
      OS_TEST_MULTIPART_S3_SECRET_ACCESS_KEY: TEST_MULTIPART_S3.secretAccessKey,
      OS_TEST_MULTIPART_S3_BUCKET: TEST_MULTIPART_S3.bucket,
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
 * Two real OpenSearch nodes, started side by side: 2.19 (typeless, as
 * current deployments) at OS_TEST_ELASTICSEARCH_URL, and 1.3 (still serves
 * the typed URLs os-api's client reads) at OS_TEST_ELASTICSEARCH1_URL.
 * OS_ELASTICSEARCH_ADDRESS stays unset so the default search backend of the
 * Worker under test is Postgres; ES tests build their backend with a URL.
 * Java, Maven and the launchers are brought by the provisioning before; only
 * OS_TEST_SKIP_OPENSEARCH=1 (refused in CI) skips the ES tests, and
 * OS_TEST_ELASTICSEARCH_SKIPPED then says why.
 */
async function startTestOpenSearch(): Promise<StartedServices> {
  if (process.env.OS_TEST_SKIP_OPENSEARCH === '1') {
    const reason = 'OS_TEST_SKIP_OPENSEARCH=1 (unset it to run them)';
    console.warn(`OpenSearch not started, ElasticSearch tests are skipped: ${reason}`);
    return { bindings: { OS_TEST_ELASTICSEARCH_SKIPPED: reason }, stops: [] };
  }
  // E.g. an older java found first on PATH.
  const unusable = openSearchUnavailableReason(2) ?? openSearchUnavailableReason(1);
  if (unusable) throw new Error(`OpenSearch cannot start: ${unusable}`);
  const log = (line: string): void => console.log(line);
  const started = await Promise.allSettled([startOpenSearch({ log, line: 2 }), startOpenSearch({ log, line: 1 })]);
  const nodes = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
  const failed = started.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failed) {
    await Promise.all(nodes.map((n) => n.stop()));
    throw failed.reason;
  }
  const [two, one] = nodes as [LocalOpenSearch, LocalOpenSearch];
  return {
    bindings: { OS_TEST_ELASTICSEARCH_URL: two.url, OS_TEST_ELASTICSEARCH1_URL: one.url },
    stops: [() => two.stop(), () => one.stop()],
  };
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
 * see cache entries of a package being cleared (redis-server is brought by
 * the provisioning).
 */
async function startTestApiCache(): Promise<StartedServices> {
  const redis = await startRedis();
  return { bindings: { OS_API_CACHE: `127.0.0.1:${redis.port}` }, stops: [() => redis.stop()] };
}
