/**
 * npm run dev — the whole service on this machine with no external services:
 * an embedded Postgres (PGlite), a local S3-compatible server, a local OpenID
 * provider with a development login, development signing keys, and the
 * Worker under `wrangler dev` (with its local Durable Objects and queues).
 *
 * Every embedded part is replaced by the real one when its OS_* setting is
 * given (environment or .env): OS_CONDUCTOR_ENGINE, OS_S3_HOSTNAME,
 * OS_OIDC_ISSUER / OS_CONDUCTOR_SECRETS_*.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { migrate } from '../src/db/migrations/index.ts';
import { connectNode } from './lib/db.ts';
import { loadDotEnv } from './lib/dotenv.ts';
import { encodeSecrets, generateRsaKeyPair, type ConductorSecrets } from './lib/secrets.ts';
import { startOidcProvider } from './services/oidc.ts';
import { startEmbeddedPostgres } from './services/pglite.ts';
import { startS3Server } from './services/s3.ts';
import { isLoopbackHost, startWsProxy } from './services/ws-proxy.ts';

const ROOT = resolve(import.meta.dirname, '..');
// OS_DEV_STATE_DIR lets tests run a stack without touching the developer's .dev/.
const STATE = resolve(process.env.OS_DEV_STATE_DIR ?? join(ROOT, '.dev'));

const HELP = `Usage: npm run dev

Starts os-conductor locally on http://localhost:8787 (PORT overrides) with:
  - an embedded Postgres (PGlite) in .dev/pglite      unless OS_CONDUCTOR_ENGINE is set
  - a local S3-compatible server, data in .dev/s3      unless OS_S3_HOSTNAME is set
  - a local OpenID provider (any name logs in)         unless OS_OIDC_ISSUER is set
  - development signing keys in .dev/secrets.json      unless OS_CONDUCTOR_SECRETS_0 is set
OS_* settings are read from the environment and from .env (the environment wins).`;

type Vars = Record<string, string>;

function devSecrets(): ConductorSecrets {
  const file = join(STATE, 'secrets.json');
  if (existsSync(file)) return JSON.parse(readFileSync(file, 'utf8')) as ConductorSecrets;
  const keys = generateRsaKeyPair();
  const secrets: ConductorSecrets = {
    'private.pem': keys.privatePem,
    'public.pem': keys.publicPem,
    'google.key': 'os-conductor-dev',
    'google.secret.key': 'DEVELOPMENT-ONLY-not-a-secret',
  };
  writeFileSync(file, JSON.stringify(secrets, null, 2), { mode: 0o600 });
  console.log('[dev] generated development signing keys in .dev/secrets.json (never use them in production)');
  return secrets;
}

async function main(): Promise<void> {
  if (process.argv.includes('--help')) {
    console.log(HELP);
    return;
  }
  mkdirSync(STATE, { recursive: true });
  loadDotEnv(join(ROOT, '.env'));
  const env = process.env;
  const port = Number(env.PORT ?? 8787);
  const base = env.OS_BASE_URL ?? `http://localhost:${port}`;
  const stops: Array<() => Promise<void>> = [];
  const vars: Vars = { OS_BASE_URL: base, OS_DEV_MODE: 'true' };

  // Postgres
  let dbUrl = env.OS_CONDUCTOR_ENGINE;
  if (!dbUrl) {
    console.log('[dev] starting embedded Postgres (PGlite) in .dev/pglite …');
    const pg = await startEmbeddedPostgres({ dataDir: join(STATE, 'pglite') });
    stops.push(() => pg.stop());
    dbUrl = pg.url;
    // PGlite's socket server wedges on COPY FROM STDIN: load with INSERT … unnest.
    vars.OS_LOADER_INSERT_METHOD = 'unnest';
  }
  vars.OS_CONDUCTOR_ENGINE = dbUrl;
  if (isLoopbackHost(new URL(dbUrl).hostname)) {
    const proxy = await startWsProxy();
    stops.push(() => proxy.close());
    vars.OS_DB_WS_PROXY = proxy.hostPort;
  }
  const db = await connectNode(dbUrl, vars.OS_DB_WS_PROXY);
  const applied = await migrate(db.client);
  await db.close();
  console.log(`[dev] database ready${applied.length ? ` (applied ${applied.join(', ')})` : ''}`);

  // Signing keys and OAuth client
  if (!env.OS_CONDUCTOR_SECRETS_0) Object.assign(vars, encodeSecrets(devSecrets()));

  // S3-compatible datastore
  if (!env.OS_S3_HOSTNAME) {
    const s3Port = Number(env.OS_DEV_S3_PORT ?? 8788);
    const s3 = await startS3Server({
      port: s3Port,
      directory: join(STATE, 's3'),
      accessKeyId: 'dev-access-key',
      secretAccessKey: 'dev-secret-key',
      bucket: 'datastore',
    });
    stops.push(() => s3.stop());
    Object.assign(vars, {
      OS_ACCESS_KEY_ID: 'dev-access-key',
      OS_SECRET_ACCESS_KEY: 'dev-secret-key',
      OS_S3_HOSTNAME: '127.0.0.1',
      OS_S3_PORT: String(s3Port),
      OS_S3_SCHEME: 'http',
      OS_STORAGE_BUCKET_NAME: 'datastore',
    });
    console.log(`[dev] local S3 server on http://127.0.0.1:${s3Port}/datastore (data in .dev/s3)`);
  }

  // OpenID provider with a development login
  if (!env.OS_OIDC_ISSUER) {
    const oidcPort = Number(env.OS_DEV_OIDC_PORT ?? 8789);
    const oidc = await startOidcProvider({
      port: oidcPort,
      clients: [
        {
          client_id: 'os-conductor-dev',
          client_secret: 'DEVELOPMENT-ONLY-not-a-secret',
          redirect_uris: [`${base}/oauth/google_callback`],
        },
      ],
    });
    stops.push(() => oidc.stop());
    Object.assign(vars, {
      OS_OIDC_ISSUER: oidc.issuer,
      OS_OIDC_CLIENT_ID: 'os-conductor-dev',
      OS_OIDC_CLIENT_SECRET: 'DEVELOPMENT-ONLY-not-a-secret',
    });
    console.log(`[dev] local OpenID provider at ${oidc.issuer} (log in with any name; e-mail <name>@example.org)`);
  }

  // The user's own OS_* settings win over the embedded defaults.
  for (const [k, v] of Object.entries(env)) {
    if (k.startsWith('OS_') && v !== undefined && !(k in vars && k === 'OS_DB_WS_PROXY')) vars[k] = v;
  }
  vars.OS_CONDUCTOR_ENGINE = dbUrl;

  const varsFile = join(STATE, 'dev.vars');
  writeFileSync(
    varsFile,
    Object.entries(vars)
      .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
      .join('\n') + '\n',
    { mode: 0o600 },
  );

  console.log(`[dev] starting the Worker on ${base} …`);
  const wrangler = spawn(
    join(ROOT, 'node_modules', '.bin', 'wrangler'),
    ['dev', '--port', String(port), '--ip', '127.0.0.1', '--env-file', varsFile, '--persist-to', join(STATE, 'wrangler'), '--show-interactive-dev-session=false'],
    { cwd: ROOT, stdio: 'inherit', env: { ...process.env, WRANGLER_SEND_METRICS: 'false' } },
  );

  let stopping = false;
  const shutdown = async (code: number) => {
    if (stopping) return;
    stopping = true;
    if (wrangler.exitCode === null) wrangler.kill('SIGINT');
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
    process.exit(code);
  };
  process.on('SIGINT', () => void shutdown(0));
  process.on('SIGTERM', () => void shutdown(0));
  wrangler.on('exit', (code) => void shutdown(code ?? 0));
}

main().catch((err: Error) => {
  console.error(`[dev] ${err.message}`);
  process.exit(1);
});
