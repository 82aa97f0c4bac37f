/**
 * Runs one loopback service (the S3-compatible server or the WebSocket proxy)
 * in a process of its own for the load bench, so its CPU is measured apart
 * and the bench's own memory (a generated CSV) does not slow its garbage
 * collector. Started by bench/lib/services.ts; stops on "stop" or disconnect.
 * `{ rtt: ms }` sets the round trip the service adds (the WebSocket proxy's
 * delay lines; for S3, a TCP delay proxy in front of the server, started
 * with the `delay` option so that every setting has the same hops).
 */
import { startS3Server, type S3ServerOptions } from '../../tools/services/s3.ts';
import { startDelayProxy } from '../../tools/services/delay-line.ts';
import { startWsProxy } from '../../tools/services/ws-proxy.ts';

async function main(): Promise<void> {
  const kind = process.argv[2];
  let stop: () => Promise<void>;
  let setRtt: (ms: number) => void = () => {
    throw new Error(`${kind}: started without a delay`);
  };
  if (kind === 's3') {
    const options = JSON.parse(process.argv[3] ?? '{}') as S3ServerOptions & { delay?: boolean };
    const s3 = await startS3Server(options);
    if (options.delay) {
      const proxy = await startDelayProxy(s3);
      setRtt = (ms) => proxy.setRtt(ms);
      stop = () => proxy.stop().then(() => s3.stop());
      process.send?.({ hostname: proxy.hostname, port: proxy.port });
    } else {
      stop = () => s3.stop();
      process.send?.({ hostname: s3.hostname, port: s3.port });
    }
  } else if (kind === 'ws-proxy') {
    const proxy = await startWsProxy();
    setRtt = (ms) => proxy.setRtt(ms);
    stop = () => proxy.close();
    process.send?.({ hostPort: proxy.hostPort });
  } else {
    throw new Error(`unknown service ${kind}`);
  }
  const end = () => void stop().finally(() => process.exit(0));
  process.on('message', (m: unknown) => {
    if (m === 'stop') end();
    else if (typeof m === 'object' && m !== null && typeof (m as { rtt?: unknown }).rtt === 'number') {
      setRtt((m as { rtt: number }).rtt);
      process.send?.({ rttSet: (m as { rtt: number }).rtt });
    }
  });
  process.on('disconnect', end);
}

main().catch((err: Error) => {
  console.error(`service child: ${err.message}`);
  process.exit(1);
});
