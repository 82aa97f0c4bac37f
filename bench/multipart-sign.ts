/**
 * Multipart signing benchmark (npm run bench:multipart -- [--parts N,N,...] [--runs K]):
 * the wall time and answer size of signing N UploadPart URLs of one upload
 * (presign.ts presignUploadPart, one signing-key cache as /datastore/authorize
 * shares across a request), in Node. Node's WebCrypto has more per-call
 * overhead than workerd's: read the figures as an upper bound and as a
 * scale, not as the Worker's CPU time. Each figure is the best of K runs.
 */
import { presignUploadPart, type StorageTarget } from '../src/datastore/presign.ts';

function option(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? (process.argv[i + 1] ?? fallback) : fallback;
}

const counts = option('parts', '20,1000,10000').split(',').map(Number);
const runs = Number(option('runs', '3'));
const target: StorageTarget = {
  scheme: 'https',
  hostname: 's3.example.org',
  bucket: 'datastore',
  region: 'us-east-1',
  accessKeyId: 'AKIDEXAMPLE',
  secretAccessKey: 'bench-secret',
};

for (const count of counts) {
  let best = Infinity;
  let bytes = 0;
  for (let run = 0; run < runs; run++) {
    const cache = new Map<string, ArrayBuffer>();
    const now = new Date();
    const started = performance.now();
    const parts = await Promise.all(
      Array.from({ length: count }, (_, i) =>
        presignUploadPart(target, { key: 'owner/dataset/big.csv', uploadId: 'u'.repeat(64), partNumber: i + 1, expiresIn: 3600, now, cache }),
      ),
    );
    best = Math.min(best, performance.now() - started);
    bytes = JSON.stringify(parts).length;
  }
  console.log(`${count} part URLs: ${best.toFixed(0)} ms (best of ${runs}), ${(bytes / 1e6).toFixed(2)} MB of JSON`);
}
