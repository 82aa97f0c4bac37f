/**
 * One typed view of the service's settings. Everything is read from the
 * Worker environment (wrangler vars/secrets, `.dev.vars`/`.env` in
 * development) and validated here, so a wrong deployment fails with a message
 * naming the setting rather than somewhere deep inside a request.
 */
import { z } from 'zod';
import { PROGRESS_MODES } from './loader/progress.ts';
import { resolveTaxonomies, type OsTypeTable } from './loader/taxonomy.ts';

const csv = z
  .string()
  .optional()
  .transform((v) =>
    (v ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
  );

/** A positive whole number (of `unit`, when given), `fallback` when unset. */
const positiveInteger = (fallback: number, unit?: string) =>
  z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined || v === '') return fallback;
      const n = Number(v);
      if (!Number.isInteger(n) || n <= 0) {
        ctx.addIssue({ code: 'custom', message: `must be a positive whole number${unit ? ` of ${unit}` : ''}` });
        return z.NEVER;
      }
      return n;
    });

const seconds = (fallback: number) => positiveInteger(fallback, 'seconds');
/** A count, e.g. keys per user. */
const count = (fallback: number) => positiveInteger(fallback);

const optionalUrl = z
  .string()
  .optional()
  .transform((v) => (v ? v : undefined))
  .pipe(z.url().optional());

const flag = z
  .string()
  .optional()
  .transform((v) => ['1', 'true', 'yes', 'on'].includes((v ?? '').toLowerCase()));

/** A switch that is on unless set to an off value; anything unrecognised is an error. */
const switchedOn = z
  .string()
  .optional()
  .transform((v, ctx) => {
    const value = (v ?? '').trim().toLowerCase();
    if (value === '' || ['1', 'true', 'yes', 'on'].includes(value)) return true;
    if (['0', 'false', 'no', 'off'].includes(value)) return false;
    ctx.addIssue({ code: 'custom', message: 'must be on or off (true/false, yes/no, 1/0)' });
    return z.NEVER;
  });

export const ConfigSchema = z.object({
  /** Public base URL of this service, e.g. https://openspending.org */
  OS_BASE_URL: z.url().transform((v) => v.replace(/\/+$/, '')),
  /** postgresql://… connection string (Neon in production). */
  OS_CONDUCTOR_ENGINE: z.string().regex(/^postgres(ql)?:\/\//, 'must be a postgresql:// URL'),
  /** Local development/test only: host:port of a WebSocket-to-TCP proxy for the Neon driver. */
  OS_DB_WS_PROXY: z.string().optional(),
  OS_ELASTICSEARCH_ADDRESS: optionalUrl,
  OS_ES_PACKAGES_INDEX_NAME: z.string().regex(/^[a-z0-9][a-z0-9_.-]*$/).default('packages'),
  OS_CONDUCTOR_SECRETS_0: z.string().optional(),
  OS_CONDUCTOR_SECRETS_1: z.string().optional(),
  OS_CONDUCTOR_SECRETS_2: z.string().optional(),
  OS_CONDUCTOR_SECRETS_3: z.string().optional(),
  /** PEM of the previous signing key's public half, accepted during rotation. */
  OS_PREVIOUS_PUBLIC_KEY: z.string().optional(),
  OS_ACCESS_KEY_ID: z.string().optional(),
  OS_SECRET_ACCESS_KEY: z.string().optional(),
  OS_S3_HOSTNAME: z.string().optional(),
  OS_S3_PORT: z
    .string()
    .optional()
    .transform((v) => (v ? Number(v) : undefined))
    .pipe(z.number().int().min(1).max(65535).optional()),
  /** https (default) or http, for a local S3-compatible server. */
  OS_S3_SCHEME: z.enum(['http', 'https']).default('https'),
  OS_S3_REGION: z.string().default('us-east-1'),
  OS_STORAGE_BUCKET_NAME: z.string().optional(),
  /** Lifetime of presigned upload URLs (the original used 3 days). */
  OS_UPLOAD_URL_TTL: seconds(3600),
  /**
   * Files larger than this many bytes get a multipart plan from
   * /datastore/authorize (a file may also ask for one). At most 5 GiB, the
   * largest single PUT, so every file a PUT cannot carry is above it.
   */
  OS_MULTIPART_THRESHOLD: count(100_000_000).pipe(
    z.number().max(5 * 1024 ** 3, 'must be at most 5368709120 bytes (5 GiB, the largest single PUT)'),
  ),
  /**
   * Unfinished multipart uploads older than this are aborted by the cron;
   * their upload tokens expire at the same age.
   */
  OS_MULTIPART_MAX_AGE: seconds(86_400),
  /**
   * The bucket is not publicly readable: readers get package files through
   * GET /datastore/file (a redirect to a presigned GET). Off: the public-read
   * bucket of the original; /datastore/file works in both modes.
   */
  OS_DATASTORE_PRIVATE: flag,
  /** Lifetime of the presigned GET links /datastore/file redirects to. */
  OS_DATASTORE_READ_URL_TTL: seconds(300),
  OS_API_CACHE: z.string().optional(),
  OS_CLIENT_API_KEYS: z.string().optional(),
  /** Most unexpired named API keys (/user/api_keys) one user may hold. */
  OS_USER_API_KEYS_MAX: count(20),
  /** Frontend origins allowed as login `next` targets (CORS is OS_CORS_ORIGINS alone). */
  OS_FRONTEND_ORIGINS: csv,
  /** The one CORS setting: `*` (the default) echoes any origin, as the original did; `null` never. */
  OS_CORS_ORIGINS: csv,
  /** Extra origins /package/upload may fetch datapackages from. */
  OS_UPLOAD_ALLOWED_ORIGINS: csv,
  /** Pipeline URLs /package/run-hooks may post to. */
  OS_PIPELINE_URLS: csv,
  /** OpenID provider; Google unless set. */
  OS_OIDC_ISSUER: z.string().default('https://accounts.google.com'),
  OS_OIDC_AUTHORIZATION_ENDPOINT: optionalUrl,
  OS_OIDC_TOKEN_ENDPOINT: optionalUrl,
  OS_OIDC_USERINFO_ENDPOINT: optionalUrl,
  OS_OIDC_JWKS_URI: optionalUrl,
  OS_OIDC_CLIENT_ID: z.string().optional(),
  OS_OIDC_CLIENT_SECRET: z.string().optional(),
  OS_USER_TOKEN_TTL: seconds(14 * 24 * 3600),
  OS_API_KEY_TOKEN_TTL: seconds(24 * 3600),
  OS_PERMISSION_TOKEN_TTL: seconds(24 * 3600),
  /** JSON object of service -> permissions granted to every user (the '*' row default). */
  OS_DEFAULT_PERMISSIONS: z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (!v) return { 'os.datastore': { 'datapackage-upload': true } } as Record<string, Record<string, unknown>>;
      try {
        const parsed: unknown = JSON.parse(v);
        return z.record(z.string(), z.record(z.string(), z.unknown())).parse(parsed);
      } catch {
        ctx.addIssue({ code: 'custom', message: 'must be a JSON object {service: {permission: value}}' });
        return z.NEVER;
      }
    }),
  /** Development mode: loopback `next` targets allowed, non-Secure cookies on http. */
  OS_DEV_MODE: flag,
  /**
   * Login `next` may be `http://127.0.0.1:<port>/…` or `http://[::1]:<port>/…`
   * (RFC 8252 §7.3: command-line clients such as gobble listen there for the
   * token). On by default; `off` allows only the configured origins.
   */
  OS_LOGIN_LOOPBACK_NEXT: switchedOn,
  /** Loader: a load silent this long (seconds) turns into `fail` (liveness alarm). */
  OS_LOADER_STALL_TIMEOUT: seconds(600),
  /** Loader: a running load silent this long (seconds) has its queue message sent again. */
  OS_LOADER_KICK_AFTER: seconds(60),
  /** Loader: most rows one queue invocation loads before handing on to the next message. */
  OS_LOADER_CHUNK_ROWS: seconds(500_000),
  /**
   * Loader: most seconds one queue invocation spends loading before handing
   * on (well inside the consumer CPU limit: parsing and casting are CPU work).
   */
  OS_LOADER_CHUNK_SECONDS: seconds(20),
  /** Loader: rows per INSERT (and per checkpoint). */
  OS_LOADER_BATCH_ROWS: seconds(5000),
  /**
   * Loader: how batches are written: `copy` (COPY FROM STDIN, fastest) or
   * `unnest` (INSERT … SELECT FROM unnest, for a proxy without COPY).
   */
  OS_LOADER_INSERT_METHOD: z.enum(['copy', 'unnest']).default('copy'),
  /**
   * /package/status `progress`: `records` loaded (the original README,
   * os-admin) or the `fraction` 0..1 (os-packager, the vulekamali automation).
   */
  OS_STATUS_PROGRESS: z.enum(PROGRESS_MODES).default('records'),
  /** Seconds between heartbeat comments on a /package/status event stream (proxies drop idle streams). */
  OS_STATUS_STREAM_HEARTBEAT: seconds(15),
  /**
   * Extra os-types taxonomies for `columnType` descriptors, by name: a
   * built-in one (`vulekamali`) or one defined in `OS_TAXONOMY_<NAME>` (JSON
   * in os-types' format). Resolved and validated by parseConfig.
   */
  OS_EXTRA_TAXONOMIES: csv,
  /** Loader: largest datapackage.json fetched, in bytes. */
  OS_LOADER_MAX_DESCRIPTOR_BYTES: seconds(5 * 1024 * 1024),
  /**
   * Loader: errors a load that met bad data collects for its validation
   * report before it stops reading (each value truncated, so the report stays
   * a few hundred KB at most).
   */
  OS_LOADER_MAX_ERRORS: count(1000),
  /** Loads of a package kept in its history (/package/history); the live one is always kept. */
  OS_LOADER_HISTORY_KEEP: count(50),
});

export type Config = z.infer<typeof ConfigSchema> & {
  /** The column types OS_EXTRA_TAXONOMIES adds to os-types' own (validated; empty without it). */
  extraColumnTypes: OsTypeTable;
};

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

/** Validates the environment; throws ConfigError naming each bad setting. */
export function parseConfig(env: Record<string, unknown>): Config {
  const input: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(env)) {
    if (k.startsWith('OS_') && typeof v === 'string') input[k] = v;
  }
  const result = ConfigSchema.safeParse(input);
  if (!result.success) {
    const problems = result.error.issues.map((i) => `${i.path.join('.') || '(config)'}: ${i.message}`);
    throw new ConfigError(`invalid configuration: ${problems.join('; ')}`);
  }
  // Taxonomy definitions live in settings of their own (OS_TAXONOMY_<NAME>), named by OS_EXTRA_TAXONOMIES.
  const taxonomies = resolveTaxonomies(result.data.OS_EXTRA_TAXONOMIES, input);
  if (taxonomies.problems.length > 0) {
    const problems = taxonomies.problems.map((p) => `${p.setting}: ${p.message}`);
    throw new ConfigError(`invalid configuration: ${problems.join('; ')}`);
  }
  return { ...result.data, extraColumnTypes: taxonomies.types };
}

const cache = new WeakMap<object, Config>();

/** parseConfig, memoised per environment object (one per isolate in practice). */
export function getConfig(env: object): Config {
  let config = cache.get(env);
  if (!config) {
    config = parseConfig(env as Record<string, unknown>);
    cache.set(env, config);
  }
  return config;
}
