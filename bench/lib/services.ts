/** Starts bench/lib/service-child.ts in a child Node process and waits for its address. */
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export interface ServiceChild<T> {
  info: T;
  pid: number;
  /** Sets the round trip the service adds from now on (see service-child.ts). */
  setRtt(ms: number): Promise<void>;
  stop(): Promise<void>;
}

export async function startServiceChild<T>(kind: 's3' | 'ws-proxy', options: object = {}): Promise<ServiceChild<T>> {
  const child = fork(fileURLToPath(new URL('./service-child.ts', import.meta.url)), [kind, JSON.stringify(options)], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const info = await new Promise<T>((resolve, reject) => {
    child.once('message', (m) => resolve(m as T));
    child.once('exit', (code) => reject(new Error(`${kind} exited (${code})`)));
  });
  return {
    info,
    pid: child.pid ?? 0,
    setRtt(ms: number) {
      return new Promise<void>((resolve) => {
        const acked = (m: unknown) => {
          if (typeof m === 'object' && m !== null && (m as { rttSet?: unknown }).rttSet === ms) {
            child.off('message', acked);
            resolve();
          }
        };
        child.on('message', acked);
        child.send({ rtt: ms });
      });
    },
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.send('stop');
      await exited;
    },
  };
}
