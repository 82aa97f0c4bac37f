/**
 * Postgres from Node tools, through the same Neon driver the Worker uses.
 * A loopback database is reached through an in-process WebSocket proxy;
 * anything else (Neon) directly over secure WebSockets.
 */
import { Client, neonConfig } from '@neondatabase/serverless';
import { WebSocket } from 'ws';
import { isLoopbackHost, startWsProxy, type WsProxy } from '../services/ws-proxy.ts';

neonConfig.webSocketConstructor = WebSocket;

export interface NodeDb {
  client: Client;
  close(): Promise<void>;
}

export async function connectNode(connectionString: string, proxyHostPort?: string): Promise<NodeDb> {
  const host = new URL(connectionString).hostname;
  let proxy: WsProxy | undefined;
  const client = new Client({ connectionString });
  if (isLoopbackHost(host) || proxyHostPort) {
    let hostPort = proxyHostPort;
    if (!hostPort) {
      proxy = await startWsProxy();
      hostPort = proxy.hostPort;
    }
    client.neonConfig.wsProxy = (h, p) => `${hostPort}/v1?address=${h}:${p}`;
    client.neonConfig.useSecureWebSocket = false;
    client.neonConfig.pipelineTLS = false;
    client.neonConfig.pipelineConnect = false;
  }
  await client.connect();
  return {
    client,
    async close() {
      await client.end().catch(() => undefined);
      await proxy?.close();
    },
  };
}
