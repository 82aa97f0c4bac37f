/**
 * Vitest global setup (runs in Node, outside workerd): first brings what the
 * machine lacks (tools/provision: system packages, the OpenSearch launcher),
 * then starts the real servers the tests talk to on loopback and hands their
 * addresses to the Worker bindings through `provide`.
 */
import type { TestProject } from 'vitest/node';
import { migrate } from '../src/db/migrations/index.ts';
import { connectNode } from '../tools/lib/db.ts';
import { encodeSecrets, generateRsaKeyPair } from '../tools/lib/secrets.ts';
import { provision } from '../tools/provision/provision.ts';
import { startPostgres } from '../tools/services/postgres.ts';
import { startWsProxy } from '../tools/services/ws-proxy.ts';
import { startTestServices } from './services.ts';

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  // Here rather than in a pretest script, so `npx vitest run <file>` gets it too; a no-op when all is present.
  const programs = await provision();
  const stops: Array<() => Promise<void>> = [];
  const external = process.env.OS_TEST_DATABASE_URL;
  let dbUrl: string;
  if (external) {
    dbUrl = external;
  } else {
    const pg = await startPostgres();
    stops.push(() => pg.stop());
    dbUrl = pg.url;
  }
  const proxy = await startWsProxy();
  stops.push(() => proxy.close());

  const db = await connectNode(dbUrl, proxy.hostPort);
  await migrate(db.client);
  await db.close();

  const keys = generateRsaKeyPair();
  const secrets = encodeSecrets({
    'private.pem': keys.privatePem,
    'public.pem': keys.publicPem,
    'google.key': 'test-client',
    'google.secret.key': 'test-client-secret',
  });

  const bindings: Record<string, string> = {
    OS_CONDUCTOR_ENGINE: dbUrl,
    OS_DB_WS_PROXY: proxy.hostPort,
    // Workers code cannot read process.env: tests that must not skip in CI read this.
    OS_TEST_CI: process.env.CI === 'true' ? 'true' : 'false',
    // The browser the provisioning found (or OS_TEST_CHROMIUM), for test/node/browser-login.test.ts.
    OS_TEST_CHROMIUM: programs.chromium ?? '',
    ...secrets,
  };
  const services = await startTestServices(bindings);
  stops.push(...services.stops);
  Object.assign(bindings, services.bindings);

  project.provide('bindings', bindings);
  project.provide('publicPem', keys.publicPem);

  return async () => {
    for (const stop of stops.reverse()) await stop().catch((e: Error) => console.error(e.message));
  };
}

declare module 'vitest' {
  export interface ProvidedContext {
    bindings: Record<string, string>;
    publicPem: string;
  }
}
