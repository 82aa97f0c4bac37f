/**
 * Embedded Postgres for the zero-install dev stack: PGlite (Postgres compiled
 * to WASM) behind the Postgres wire protocol on a loopback port, persisted in
 * a folder. Reached through the same WebSocket proxy and Neon driver as a
 * real server.
 */
import { mkdirSync } from 'node:fs';
import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import { freePort } from './util.ts';

export interface EmbeddedPostgres {
  url: string;
  stop(): Promise<void>;
}

export async function startEmbeddedPostgres(options: { dataDir: string; port?: number }): Promise<EmbeddedPostgres> {
  mkdirSync(options.dataDir, { recursive: true });
  const db = await PGlite.create(options.dataDir);
  const port = options.port ?? (await freePort());
  // Queries from concurrent connections are serialised by the socket server,
  // which keeps a transaction's statements together.
  const server = new PGLiteSocketServer({ db, port, host: '127.0.0.1', maxConnections: 64 });
  await server.start();
  return {
    url: `postgresql://postgres@127.0.0.1:${port}/postgres`,
    async stop() {
      await server.stop();
      await db.close();
    },
  };
}
