/**
 * Load benchmark (npm run bench:load -- --rows N): generates a fiscal data
 * package of N rows x 12 columns, loads it through the service exactly as a
 * client does (authorize -> PUT to a local S3 server -> /package/upload ->
 * poll /package/status until done) with the Worker under `wrangler dev`
 * (workerd, local queues and Durable Objects), then loads the same CSV into
 * the same Postgres with `psql \copy`, and prints rows/s, MB/s, the ratio
 * and the peak resident memory of the workerd process.
 *
 * Everything runs on loopback: a throw-away Postgres, the WebSocket proxy the
 * Neon driver needs locally, and the S3-compatible server.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { migrate } from '../src/db/migrations/index.ts';
import { connectNode } from '../tools/lib/db.ts';
import { encodeSecrets, generateRsaKeyPair } from '../tools/lib/secrets.ts';
import { startPostgres } from '../tools/services/postgres.ts';
import { startS3Server } from '../tools/services/s3.ts';
import { freePort } from '../tools/services/util.ts';
import { startWsProxy } from '../tools/services/ws-proxy.ts';

/** Development-only API key of the throw-away bench stack (not a secret). */
const API_KEY = 'bench-api-key-development-only';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? Number(process.argv[i + 1]) : fallback;
  if (!Number.isInteger(v) || v <= 0) throw new Error(`--${name} must be a positive whole number`);
  return v;
}

/** A small deterministic PRNG so every run loads the same data. */
export function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/** Schema fields of the generated CSV. */
export const FIELDS = [
  { name: 'year', type: 'integer' },
  { name: 'admin_code', type: 'string' },
  { name: 'admin_label', type: 'string' },
  { name: 'econ_code', type: 'string' },
  { name: 'econ_label', type: 'string' },
  { name: 'func_code', type: 'string' },
  { name: 'func_label', type: 'string' },
  { name: 'date', type: 'date' },
  { name: 'approved', type: 'number' },
  { name: 'executed', type: 'number' },
  { name: 'transactions', type: 'integer' },
  { name: 'capital', type: 'boolean' },
];

/** Header line of the generated CSV. */
export const CSV_HEADER =
  'year,admin_code,admin_label,econ_code,econ_label,func_code,func_label,date,approved,executed,transactions,capital\n';

const WORDS = ['Health', 'Education', 'Transport', 'Defence', 'Culture', 'Housing', 'Water', 'Energy'];

/** Data line `i` (0-based) of the generated CSV; `rnd` is a {@link prng} advanced row by row. */
export function csvRow(i: number, rnd: () => number): string {
  const a = Math.floor(rnd() * 200);
  const e = Math.floor(rnd() * 60);
  const f = Math.floor(rnd() * 40);
  const month = 1 + Math.floor(rnd() * 12);
  const day = 1 + Math.floor(rnd() * 28);
  return (
    `${2010 + (i % 10)},A${a},"${WORDS[a % 8]} agency ${a}",E${e},${WORDS[e % 8]} spending ${e},F${f},"${WORDS[f % 8]}, function ${f}",` +
    `${2010 + (i % 10)}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')},${(rnd() * 1e6).toFixed(2)},${(rnd() * 1e6).toFixed(2)},${Math.floor(rnd() * 1000)},${rnd() < 0.3 ? 'true' : 'false'}\n`
  );
}

function generateCsv(path: string, rows: number): number {
  const rnd = prng(42);
  const parts: string[] = [CSV_HEADER];
  let size = 0;
  const out: Buffer[] = [];
  for (let i = 0; i < rows; i++) {
    parts.push(csvRow(i, rnd));
    if (parts.length >= 10000) {
      const b = Buffer.from(parts.join(''));
      out.push(b);
      size += b.length;
      parts.length = 0;
    }
  }
  const b = Buffer.from(parts.join(''));
  out.push(b);
  size += b.length;
  writeFileSync(path, Buffer.concat(out));
  return size;
}

/** The datapackage.json of the generated CSV, owned by `owner`. */
export function descriptor(owner: string): Record<string, unknown> {
  return {
    name: 'bench-budget',
    title: 'Benchmark budget',
    owner,
    author: 'Bench Mark <bench@example.org>',
    resources: [{ name: 'budget', path: 'budget.csv', format: 'csv', schema: { fields: FIELDS } }],
    model: {
      measures: {
        approved: { source: 'approved', currency: 'EUR' },
        executed: { source: 'executed', currency: 'EUR' },
      },
      dimensions: {
        date: { dimensionType: 'datetime', primaryKey: ['year'], attributes: { year: { source: 'year' } } },
        administrative: {
          dimensionType: 'classification',
          primaryKey: ['admin_code'],
          attributes: { admin_code: { source: 'admin_code' }, admin_label: { source: 'admin_label', labelfor: 'admin_code' } },
        },
        economic: {
          dimensionType: 'classification',
          primaryKey: ['econ_code'],
          attributes: { econ_code: { source: 'econ_code' }, econ_label: { source: 'econ_label', labelfor: 'econ_code' } },
        },
        functional: {
          dimensionType: 'classification',
          primaryKey: ['func_code'],
          attributes: { func_code: { source: 'func_code' }, func_label: { source: 'func_label', labelfor: 'func_code' } },
        },
      },
    },
  };
}

/** The parent pid of a process, from /proc (0 when unknown). */
function parentOf(pid: string): string {
  try {
    // `pid (comm) state ppid …`: comm may contain spaces, so split after the last ')'.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1] ?? '0';
  } catch {
    return '0';
  }
}

function descendsFrom(pid: string, root: number): boolean {
  for (let p = pid, i = 0; p !== '0' && p !== '1' && i < 20; p = parentOf(p), i++) {
    if (p === String(root)) return true;
  }
  return false;
}

/** Peak resident set (kB) of the workerd processes started by `root` (wrangler), from /proc. */
function workerdPeakKb(root: number): number {
  let peak = 0;
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      if (!cmd.includes('workerd') || !descendsFrom(pid, root)) continue;
      const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
      if (m) peak = Math.max(peak, Number(m[1]));
    } catch {
      // the process ended meanwhile
    }
  }
  return peak;
}

async function waitUp(url: string, child: ChildProcess): Promise<void> {
  const until = Date.now() + 60_000;
  while (Date.now() < until) {
    if (child.exitCode !== null) throw new Error('wrangler dev exited');
    try {
      const res = await fetch(url);
      if (res.status === 400) return;
    } catch {
      // not yet listening
    }
    await new Promise((r) => setTimeout(r, 300));
  }
  throw new Error('the Worker did not start');
}

async function main(): Promise<void> {
  const rows = arg('rows', 1_000_000);
  const work = mkdtempSync(join(tmpdir(), 'os-bench-'));
  const stops: Array<() => Promise<void> | void> = [() => rmSync(work, { recursive: true, force: true })];
  try {
    console.log(`generating ${rows} rows x ${FIELDS.length} columns …`);
    const csvPath = join(work, 'budget.csv');
    const bytes = generateCsv(csvPath, rows);
    console.log(`CSV: ${(bytes / 1e6).toFixed(1)} MB`);

    const pg = await startPostgres();
    stops.push(() => pg.stop());
    const proxy = await startWsProxy();
    stops.push(() => proxy.close());
    const db = await connectNode(pg.url, proxy.hostPort);
    await migrate(db.client);
    const s3 = await startS3Server({
      accessKeyId: 'bench-access-key',
      secretAccessKey: 'bench-secret-key-not-a-secret',
      bucket: 'datastore',
      directory: join(work, 's3'),
    });
    stops.push(() => s3.stop());
    const keys = generateRsaKeyPair();
    const owner = 'bench' + createHash('md5').update(String(Date.now())).digest('hex').slice(0, 16);
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const vars: Record<string, string> = {
      OS_BASE_URL: base,
      OS_DEV_MODE: 'true',
      OS_CONDUCTOR_ENGINE: pg.url,
      OS_DB_WS_PROXY: proxy.hostPort,
      OS_ACCESS_KEY_ID: 'bench-access-key',
      OS_SECRET_ACCESS_KEY: 'bench-secret-key-not-a-secret',
      OS_S3_HOSTNAME: s3.hostname,
      OS_S3_PORT: String(s3.port),
      OS_S3_SCHEME: 'http',
      OS_STORAGE_BUCKET_NAME: 'datastore',
      OS_CLIENT_API_KEYS: `${API_KEY}:${owner}`,
      // Loader settings may be overridden from the environment (e.g. OS_LOADER_CHUNK_SECONDS).
      ...Object.fromEntries(
        Object.entries(process.env).filter((e): e is [string, string] => e[0].startsWith('OS_LOADER_') && !!e[1]),
      ),
      ...encodeSecrets({
        'private.pem': keys.privatePem,
        'public.pem': keys.publicPem,
        'google.key': 'bench-unused',
        'google.secret.key': 'bench-unused',
      }),
    };
    const varsFile = join(work, 'bench.vars');
    writeFileSync(varsFile, Object.entries(vars).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join('\n') + '\n', {
      mode: 0o600,
    });
    const wrangler = spawn(
      join(ROOT, 'node_modules', '.bin', 'wrangler'),
      ['dev', '--port', String(port), '--ip', '127.0.0.1', '--env-file', varsFile, '--persist-to', join(work, 'wrangler'), '--show-interactive-dev-session=false', '--log-level', process.env.BENCH_VERBOSE ? 'info' : 'warn'],
      {
        cwd: ROOT,
        stdio: ['ignore', process.env.BENCH_VERBOSE ? 'inherit' : 'ignore', 'inherit'],
        env: { ...process.env, WRANGLER_SEND_METRICS: 'false' },
      },
    );
    stops.push(() => {
      if (wrangler.exitCode === null) wrangler.kill('SIGINT');
    });
    await waitUp(`${base}/package/status`, wrangler);

    // Tokens the way an automated client gets them: API key -> user token -> permission token.
    const apiAuth = await fetch(`${base}/user/authenticate_api_key`, { method: 'POST', headers: { 'x-api-key': API_KEY } });
    const userToken = ((await apiAuth.json()) as { token: string }).token;
    const authz = await fetch(`${base}/user/authorize?service=os.datastore&jwt=${encodeURIComponent(userToken)}`);
    const token = ((await authz.json()) as { token: string }).token;
    if (!token) throw new Error('could not get a permission token');
    const files: Record<string, Buffer> = {
      'budget.csv': readFileSync(csvPath),
      'datapackage.json': Buffer.from(JSON.stringify(descriptor(owner))),
    };
    const filedata: Record<string, { md5: string; name: string; length: number }> = {};
    for (const [p, b] of Object.entries(files)) {
      filedata[p] = { md5: createHash('md5').update(b).digest('base64'), name: p, length: b.length };
    }
    const auth = await fetch(`${base}/datastore/`, {
      method: 'POST',
      headers: { 'Auth-Token': token },
      body: JSON.stringify({ metadata: { owner, name: 'bench-budget' }, filedata }),
    });
    if (auth.status !== 200) throw new Error(`authorize: HTTP ${auth.status} ${await auth.text()}`);
    const grants = ((await auth.json()) as { filedata: Record<string, { upload_url: string; upload_query: Record<string, string[]>; md5: string }> }).filedata;
    for (const [p, b] of Object.entries(files)) {
      const g = grants[p];
      if (!g) throw new Error(`no grant for ${p}`);
      const q = new URLSearchParams(Object.entries(g.upload_query).map(([k, v]) => [k, v[0] ?? '']));
      const put = await fetch(`${g.upload_url}?${q}`, {
        method: 'PUT',
        body: new Uint8Array(b),
        headers: { 'Content-MD5': g.md5 },
      });
      if (put.status !== 200) throw new Error(`PUT ${p}: HTTP ${put.status}`);
    }
    const dpUrl = (grants['datapackage.json'] as { upload_url: string }).upload_url;

    console.log('loading through the service …');
    const t0 = performance.now();
    const up = await fetch(`${base}/package/upload?datapackage=${encodeURIComponent(dpUrl)}&jwt=${encodeURIComponent(token)}`, {
      method: 'POST',
    });
    const upBody = (await up.json()) as { status: string };
    if (upBody.status !== 'queued') throw new Error(`upload: ${JSON.stringify(upBody)}`);
    let last: { status: string; progress: number; error?: string } = { status: 'queued', progress: 0 };
    let peakKb = 0;
    let lastChange = Date.now();
    let lastSeen = '';
    while (last.status !== 'done' && last.status !== 'fail') {
      await new Promise((r) => setTimeout(r, 250));
      peakKb = Math.max(peakKb, workerdPeakKb(wrangler.pid ?? 0));
      const res = await fetch(`${base}/package/status?datapackage=${encodeURIComponent(dpUrl)}`);
      last = (await res.json()) as typeof last;
      const seen = `${last.status} ${last.progress}`;
      if (seen !== lastSeen) {
        lastSeen = seen;
        lastChange = Date.now();
        if (process.env.BENCH_VERBOSE) console.log(`  ${seen}`);
      } else if (Date.now() - lastChange > 600_000) {
        const activity = await db.client.query(
          `SELECT pid, state, wait_event_type, wait_event, left(query, 120) AS query FROM pg_stat_activity WHERE datname = current_database()`,
        );
        console.error(JSON.stringify(activity.rows, null, 1));
        throw new Error(`no progress for 10 minutes (${seen})`);
      }
    }
    const serviceSeconds = (performance.now() - t0) / 1000;
    peakKb = Math.max(peakKb, workerdPeakKb(wrangler.pid ?? 0));
    if (last.status !== 'done') throw new Error(`load failed: ${last.error}`);
    if (last.progress !== rows) throw new Error(`loaded ${last.progress} rows, expected ${rows}`);

    const fact = (await db.client.query(`SELECT target_table FROM load_jobs WHERE status_key = $1`, [dpUrl])).rows[0]
      ?.target_table as string;
    const n = Number((await db.client.query(`SELECT count(*)::int AS n FROM "${fact}"`)).rows[0]?.n);
    if (n !== rows) throw new Error(`table has ${n} rows`);

    console.log('loading the same CSV with psql \\copy …');
    await db.client.query(`CREATE TABLE bench_copy (LIKE "${fact}" INCLUDING ALL)`);
    await db.client.query('ALTER TABLE bench_copy ALTER COLUMN _id ADD GENERATED ALWAYS AS IDENTITY');
    const cols = FIELDS.map((f) => `"${f.name}"`).join(',');
    const t1 = performance.now();
    execFileSync('psql', [pg.url, '-v', 'ON_ERROR_STOP=1', '-c', `\\copy bench_copy(${cols}) FROM '${csvPath}' WITH (FORMAT csv, HEADER true)`], {
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    const copySeconds = (performance.now() - t1) / 1000;
    await db.close();

    const mb = bytes / 1e6;
    const line = (label: string, s: number) =>
      `${label.padEnd(30)} ${s.toFixed(1).padStart(7)} s ${Math.round(rows / s).toLocaleString('en').padStart(10)} rows/s ${(mb / s).toFixed(1).padStart(6)} MB/s`;
    console.log('');
    console.log(`rows: ${rows.toLocaleString('en')}, columns: ${FIELDS.length}, CSV ${mb.toFixed(1)} MB, ${statSync(csvPath).size} bytes`);
    console.log(line('service (upload -> done)', serviceSeconds));
    console.log(line('psql \\copy', copySeconds));
    console.log(`ratio service / \\copy: ${((copySeconds / serviceSeconds) * 100).toFixed(0)}%`);
    console.log(`peak RSS of workerd: ${(peakKb / 1024).toFixed(0)} MB`);
  } finally {
    for (const stop of stops.reverse()) await Promise.resolve(stop()).catch(() => undefined);
  }
}

// Run only as the entry point: bench/memory.ts imports the generator from here.
if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().then(
    () => process.exit(0),
    (err: Error) => {
      console.error(`bench: ${err.message}`);
      process.exit(1);
    },
  );
}
