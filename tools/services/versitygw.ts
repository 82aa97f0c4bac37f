/**
 * A second real S3-compatible server for the tests: Versity's S3 gateway
 * (versitygw, Apache-2.0, Go) with its posix backend, on a loopback port.
 *
 * Why this one: the multipart endpoints need ListParts, AbortMultipartUpload,
 * ListMultipartUploads and CompleteMultipartUpload that refuses parts under
 * 5 MiB (EntityTooSmall), none of which s3rver has, and it verifies SigV4 in
 * headers and in presigned queries (expiry, signed Content-MD5) and answers
 * BadDigest for a body that does not match its Content-MD5. It is permissively
 * licensed (MinIO's server is AGPL) and one `go install` of a pinned version
 * (gofakes3 verifies no signature). It runs beside s3rver, which keeps the
 * production bucket's public reads and CORS for the other datastore tests.
 *
 * Built once through the Go module proxy into .cache/versitygw (about two
 * minutes on the 2-core VM; then cached).
 */
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { AwsV4Signer } from 'aws4fetch';
import { freePort, stopChild, waitFor } from './util.ts';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const MODULE = 'github.com/versity/versitygw/cmd/versitygw';
export const VERSITYGW_VERSION = 'v1.8.0';
const DIR = join(ROOT, '.cache', 'versitygw');
const BINARY = join(DIR, 'bin', 'versitygw');
const STAMP = join(DIR, 'version');
/** Where a Go toolchain is looked for besides PATH (the official tarball's place). */
const GO_DIRS = ['/usr/local/go/bin'];

/** PATH with the Go folders appended. */
function goPath(): string {
  return [...(process.env.PATH ?? '').split(delimiter).filter(Boolean), ...GO_DIRS].join(delimiter);
}

export function versitygwBuilt(): boolean {
  return existsSync(BINARY) && existsSync(STAMP) && readFileSync(STAMP, 'utf8').trim() === VERSITYGW_VERSION;
}

/** `go install` of the pinned version into .cache/versitygw/bin (module cache as usual). */
export async function buildVersitygw(log: (line: string) => void = () => {}): Promise<void> {
  if (versitygwBuilt()) return;
  mkdirSync(DIR, { recursive: true });
  log(`versitygw: building ${MODULE}@${VERSITYGW_VERSION} into .cache/versitygw (first run only, a few minutes)`);
  await run('go', ['install', `${MODULE}@${VERSITYGW_VERSION}`], {
    env: { ...process.env, PATH: goPath(), GOBIN: join(DIR, 'bin'), GOFLAGS: '-buildvcs=false' },
    maxBuffer: 16 * 1024 * 1024,
    timeout: 20 * 60_000,
  });
  writeFileSync(STAMP, `${VERSITYGW_VERSION}\n`);
}

export interface VersitygwOptions {
  accessKeyId: string;
  secretAccessKey: string;
  bucket: string;
  region: string;
}

export interface LocalVersitygw {
  hostname: string;
  port: number;
  stop(): Promise<void>;
}

/** Starts the gateway on a fresh folder and creates the bucket (a signed CreateBucket). */
export async function startVersitygw(options: VersitygwOptions): Promise<LocalVersitygw> {
  if (!versitygwBuilt()) throw new Error('versitygw is not built: run `npm run provision`');
  const root = mkdtempSync(join(tmpdir(), 'os-versitygw-'));
  const hostname = '127.0.0.1';
  const port = await freePort();
  const child = spawn(
    BINARY,
    ['--access', options.accessKeyId, '--secret', options.secretAccessKey, '--region', options.region, '--port', `${hostname}:${port}`, '--quiet', 'posix', root],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let output = '';
  child.stderr.on('data', (chunk: Buffer) => (output = (output + chunk.toString()).slice(-4000)));
  const base = `http://${hostname}:${port}`;
  await waitFor(
    async () => {
      if (child.exitCode !== null) throw new Error(`versitygw exited (${child.exitCode}): ${output}`);
      return fetch(base, { signal: AbortSignal.timeout(1000) }).then(
        () => true,
        () => false,
      );
    },
    20_000,
    'versitygw',
  );
  const signer = new AwsV4Signer({
    method: 'PUT',
    url: `${base}/${options.bucket}`,
    accessKeyId: options.accessKeyId,
    secretAccessKey: options.secretAccessKey,
    service: 's3',
    region: options.region,
  });
  const signed = await signer.sign();
  const created = await fetch(signed.url, { method: signed.method, headers: signed.headers });
  if (!created.ok) throw new Error(`versitygw: creating bucket ${options.bucket} failed: ${created.status} ${await created.text()}`);
  return {
    hostname,
    port,
    async stop() {
      await stopChild(child);
      rmSync(root, { recursive: true, force: true });
    },
  };
}
