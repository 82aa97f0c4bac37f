/**
 * The OpenAPI document says what the service does: schemathesis (`--checks
 * all`) fuzzes every operation of /openapi.json against the Worker served on
 * loopback, once anonymous and once with real tokens in the parameters that
 * take them (a user token for /user/* and search, a permission token for
 * /datastore/* and /package/*). Zero failures are required.
 *
 * The venv comes from tools/schemathesis-venv.sh (also run by .ci/run).
 * The request budget is bounded (examples per operation, one seed) so the
 * run stays within a couple of minutes.
 */
import { execFile, execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { freePort } from '../../tools/services/util.ts';
import { TEST_API_KEYS } from '../services.ts';
import { startWorker, type RunningWorker } from './helpers/worker.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const OUT = join(ROOT, '.cache', 'schemathesis');
/** Test cases per operation and phase: about 1,400 requests per run, 2,800 in all (about a minute). */
const MAX_EXAMPLES = process.env.OS_TEST_SCHEMATHESIS_EXAMPLES ?? '25';
// A fixed seed keeps CI runs reproducible; OS_TEST_SCHEMATHESIS_SEED explores others.

let worker: RunningWorker;
let schemathesis = '';
let userToken = '';
let permissionToken = '';

beforeAll(async () => {
  schemathesis = execFileSync(join(ROOT, 'tools/schemathesis-venv.sh'), { encoding: 'utf8' }).trim();
  const bindings = inject('bindings');
  worker = await startWorker({ baseUrl: `http://127.0.0.1:${await freePort()}`, bindings });
  // Real tokens through the real endpoints: an API-key login, then /user/authorize.
  const login = await fetch(`${worker.url}/user/authenticate_api_key`, {
    method: 'POST',
    headers: { 'x-api-key': TEST_API_KEYS[1]!.key },
  });
  userToken = ((await login.json()) as { token: string }).token;
  const authz = await fetch(`${worker.url}/user/authorize?jwt=${userToken}&service=os.datastore`);
  permissionToken = ((await authz.json()) as { token: string }).token;
  mkdirSync(OUT, { recursive: true });
}, 180_000);

afterAll(async () => {
  await worker?.stop();
});

/** A config file giving the jwt / Auth-Token parameters real tokens (authenticated runs only). */
function configFile(mode: 'anonymous' | 'authenticated'): string {
  const file = join(OUT, `${mode}.toml`);
  const lines = [
    '[generation]',
    'database = "none"',
    '',
    // Over-long URLs and headers are refused by the runtime (414/431) and
    // over-cap bodies by the service (413) before any parameter is looked at:
    // rejections, documented in /openapi.json, so they count as such.
    '[checks.negative_data_rejection]',
    `expected-statuses = ${JSON.stringify(['400', '401', '403', '404', '405', '406', '409', '413', '414', '415', '422', '428', '429', '431', '5xx'])}`,
    '',
  ];
  if (mode === 'authenticated') {
    const op = (regex: string, params: Record<string, string>) =>
      lines.push(
        '[[operations]]',
        `include-path-regex = ${JSON.stringify(regex)}`,
        `parameters = { ${Object.entries(params)
          .map(([k, v]) => `${JSON.stringify(k)} = ${JSON.stringify(v)}`)
          .join(', ')} }`,
        '',
      );
    op('^/(user|search)/', { 'query.jwt': userToken });
    op('^/(datastore|package)/', { 'query.jwt': permissionToken, 'header.auth-token': permissionToken });
  }
  writeFileSync(file, lines.join('\n'));
  return file;
}

interface Run {
  code: number;
  output: string;
}

function runSchemathesis(mode: 'anonymous' | 'authenticated'): Promise<Run> {
  const args = [
    '--config-file',
    configFile(mode),
    'run',
    `${worker.url}/openapi.json`,
    '--checks',
    'all',
    '--max-examples',
    MAX_EXAMPLES,
    '--seed',
    process.env.OS_TEST_SCHEMATHESIS_SEED ?? '11',
    // One worker: hypothesis' lambda-source cache is not thread-safe (spurious internal errors).
    '--workers',
    '1',
    '--phases',
    'examples,coverage,fuzzing',
    '--request-timeout',
    '20',
    '--no-color',
    '--report',
    'junit',
    '--report-junit-path',
    join(OUT, `${mode}.junit.xml`),
  ];
  return new Promise((done) => {
    execFile(schemathesis, args, { cwd: OUT, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      const output = stdout + stderr;
      writeFileSync(join(OUT, `${mode}.txt`), output);
      done({ code: err ? ((err as { code?: number }).code ?? 1) : 0, output });
    });
  });
}

/** The failure section of the report, for the assertion message. */
function failures(output: string): string {
  const start = output.indexOf('FAILURES');
  return start >= 0 ? output.slice(start, start + 20_000) : output.slice(-5_000);
}

describe('the OpenAPI document matches behaviour (schemathesis --checks all)', () => {
  for (const mode of ['anonymous', 'authenticated'] as const) {
    it(`${mode}: zero failures`, async () => {
      const run = await runSchemathesis(mode);
      const junit = readFileSync(join(OUT, `${mode}.junit.xml`), 'utf8');
      // A run that tested nothing proves nothing.
      expect(run.output).toMatch(/Operations:\s+\d+ selected \/ \d+ total/);
      expect(junit).toContain('<testcase');
      const generated = Number(/(\d+) generated/.exec(run.output)?.[1] ?? 0);
      expect(generated).toBeGreaterThan(500);
      expect(run.code, failures(run.output)).toBe(0);
    }, 600_000);
  }
});
