/**
 * A throw-away Redis server (Debian's redis-server) on a free loopback port,
 * standing in for os-api's cache in tests.
 */
import { spawn } from 'node:child_process';
import { connect } from 'node:net';
import { freePort, stopChild, waitFor } from './util.ts';

export interface LocalRedis {
  port: number;
  stop(): Promise<void>;
}

export async function startRedis(): Promise<LocalRedis> {
  const port = await freePort();
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
    stdio: 'ignore',
  });
  let failed: Error | undefined;
  child.on('error', (err) => (failed = err));
  await waitFor(
    () =>
      new Promise<boolean>((resolve, reject) => {
        if (failed) return reject(new Error(`redis-server could not start: ${failed.message} (install the Debian package redis-server)`));
        const s = connect({ port, host: '127.0.0.1' }, () => {
          s.end();
          resolve(true);
        });
        s.on('error', () => resolve(false));
      }),
    15_000,
    'redis-server',
  );
  return {
    port,
    async stop() {
      await stopChild(child);
    },
  };
}
