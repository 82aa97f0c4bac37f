/**
 * Runs one loopback service (the S3-compatible server or the WebSocket proxy)
 * in a process of its own for the load bench, so its CPU is measured apart
 * and the bench's own memory (a generated CSV) does not slow its garbage
 * collector. Started by bench/lib/services.ts; stops on "stop" or disconnect.
 */
import { startS3Server, type S3ServerOptions } from '../../tools/services/s3.ts';
import { startWsProxy } from '../../tools/services/ws-proxy.ts';

async function main(): Promise<void> {
  const kind = process.argv[2];
  let stop: () => Promise<void>;
  if (kind === 's3') {
    const options = JSON.parse(process.argv[3] ?? '{}') as S3ServerOptions;
    const s3 = await startS3Server(options);
    stop = () => s3.stop();
    process.send?.({ hostname: s3.hostname, port: s3.port });
  } else if (kind === 'ws-proxy') {
    const proxy = await startWsProxy();
    stop = () => proxy.close();
    process.send?.({ hostPort: proxy.hostPort });
  } else {
    throw new Error(`unknown service ${kind}`);
  }
  const end = () => void stop().finally(() => process.exit(0));
  process.on('message', (m) => m === 'stop' && end());
  process.on('disconnect', end);
}

main().catch((err: Error) => {
  console.error(`service child: ${err.message}`);
  process.exit(1);
});
