/**
 * Postgres access through @neondatabase/serverless. A connection must never
 * outlive the request or queue invocation that opened it (workerd forbids
 * I/O objects crossing requests), so every use goes through `withDb`.
 */
import { Client } from '@neondatabase/serverless';
import type { Config } from '../config.ts';
import { withTimeout } from '../http/timeout.ts';

export type Db = Pick<Client, 'query'>;

/** Longest wait for a connection. */
const CONNECT_TIMEOUT_MS = 10_000;
/** Longest wait for the connection to close. */
const CLOSE_TIMEOUT_MS = 2_000;
/**
 * Longest wait for one query's answer (a load's batch included); lock waits
 * are bounded more tightly where they can happen (lock_timeout).
 */
const QUERY_TIMEOUT_MS = 300_000;

function newClient(config: Pick<Config, 'OS_CONDUCTOR_ENGINE' | 'OS_DB_WS_PROXY'>): Client {
  const client = new Client({
    connectionString: config.OS_CONDUCTOR_ENGINE,
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    query_timeout: QUERY_TIMEOUT_MS,
  });
  const proxy = config.OS_DB_WS_PROXY;
  if (proxy) {
    // Local stack: plain Postgres behind tools/services/ws-proxy.ts.
    client.neonConfig.wsProxy = (host, port) => `${proxy}/v1?address=${host}:${port}`;
    client.neonConfig.useSecureWebSocket = false;
    client.neonConfig.pipelineTLS = false;
    client.neonConfig.pipelineConnect = false;
  }
  return client;
}

/** Opens a connection, runs `fn`, and always closes the connection. */
export async function withDb<T>(
  config: Pick<Config, 'OS_CONDUCTOR_ENGINE' | 'OS_DB_WS_PROXY'>,
  fn: (db: Client) => Promise<T>,
): Promise<T> {
  const client = newClient(config);
  // Errors after end() (the socket closing) have no one to report to;
  // errors during use reject the pending query instead.
  client.on('error', () => undefined);
  await client.connect();
  try {
    return await fn(client);
  } finally {
    // After the connection was lost the driver's end() may never settle.
    await withTimeout(client.end(), CLOSE_TIMEOUT_MS, 'the connection did not close').catch(() => undefined);
  }
}

/** Runs `fn` inside a transaction on `db`. */
export async function transaction<T>(db: Client, fn: () => Promise<T>): Promise<T> {
  await db.query('BEGIN');
  try {
    const result = await fn();
    await db.query('COMMIT');
    return result;
  } catch (err) {
    await db.query('ROLLBACK').catch(() => undefined);
    throw err;
  }
}
