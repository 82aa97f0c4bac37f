/**
 * os-api reads the packages index through os-package-registry 0.0.21 (on
 * elasticsearch-py 5, typed URLs). Here the real client from PyPI (a venv
 * made by tools/services/python-registry.sh) reads what this service wrote
 * for real fixture packages loaded through its public HTTP surface, as a
 * client loads them, into the OpenSearch 1.3 node; its answers must equal
 * our registry (Postgres).
 */
import { execFile, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { packageId } from '../../src/loader/naming.ts';
import type { RegistryDocument } from '../../src/registry/registry.ts';
import { ensureIndex, listIds, putDocument, target } from '../../src/search/elasticsearch/index.ts';
import { connectNode } from '../../tools/lib/db.ts';
import { freePort } from '../../tools/services/util.ts';
import { TEST_API_KEYS } from '../services.ts';
import { startWorker, type RunningWorker } from './helpers/worker.ts';
// The ProvidedContext declaration (bindings) lives in the global setup.
import type {} from '../global-setup.ts';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const FIXTURES = process.env.OS_TEST_FIXTURES_DIR ?? fileURLToPath(new URL('../../../shared/fixtures', import.meta.url));
const bindings = inject('bindings');
const ES1 = bindings.OS_TEST_ELASTICSEARCH1_URL;
const CI = process.env.CI === 'true';

/** The venv's python, or why there is none (made here when missing; .ci/run makes it beforehand). */
function registryPython(): { python?: string; error?: string } {
  const made = spawnSync('bash', [`${ROOT}tools/services/python-registry.sh`], { encoding: 'utf8', timeout: 300_000 });
  if (made.status === 0) return { python: made.stdout.trim().split('\n').pop() };
  return { error: `tools/services/python-registry.sh failed: ${made.stderr || made.error?.message}` };
}
const venv = ES1 ? registryPython() : { error: bindings.OS_TEST_ELASTICSEARCH_SKIPPED ?? 'no OpenSearch 1.3 node' };
// In CI nothing is skipped: a missing node or venv fails the run (in beforeAll).
const runs = CI || !venv.error;
if (!runs) console.warn(`os-package-registry client test SKIPPED: ${venv.error}`);

/** The fixture packages, as their owners publish them. */
const PACKAGES = ['fdp/boost-moldova', 'fdp/uk-cra', 'fdp/packager-example'];

interface Answers {
  client: { python: string; elasticsearch: string };
  get_model: Record<string, unknown>;
  get_package: Record<string, Record<string, unknown>>;
  get_raw: Record<string, unknown[]>;
  has_model: Record<string, boolean>;
  list_models: string[];
  get_stats: { num_packages: number; num_records: number; num_countries: number };
  missing: Record<string, string>;
}

let worker: RunningWorker | undefined;
let answers: Answers;
let registry: RegistryDocument[];
let indexed: RegistryDocument[];
const index = `packages-osapi-${crypto.randomUUID().replace(/-/g, '').slice(0, 10)}`;

async function json<T>(res: Response, what: string): Promise<T> {
  if (!res.ok) throw new Error(`${what}: HTTP ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

/** API key -> user token -> os.datastore permission token, as a command-line client gets one. */
async function uploadToken(base: string): Promise<string> {
  const key = TEST_API_KEYS[1]!;
  const user = await json<{ token: string }>(
    await fetch(`${base}/user/authenticate_api_key`, { method: 'POST', headers: { 'x-api-key': key.key } }),
    'authenticate_api_key',
  );
  const perm = await json<{ token?: string }>(
    await fetch(`${base}/user/authorize?service=os.datastore&jwt=${encodeURIComponent(user.token)}`),
    'authorize',
  );
  if (!perm.token) throw new Error('no permission token');
  return perm.token;
}

const md5 = (bytes: Uint8Array): string => createHash('md5').update(bytes).digest('base64');

/** Publishes a fixture (renamed so runs never collide) and waits for its load; returns the package id. */
async function publish(base: string, token: string, dir: string): Promise<string> {
  const userid = TEST_API_KEYS[1]!.userid;
  const descriptor = JSON.parse(readFileSync(`${FIXTURES}/${dir}/datapackage.json`, 'utf8')) as Record<string, unknown>;
  const name = `${String(descriptor.name)}-${crypto.randomUUID().slice(0, 8)}`;
  descriptor.name = name;
  descriptor.owner = userid;
  if (typeof descriptor.author !== 'string') descriptor.author = 'Test Author <test.author@example.com>';
  const resource = (descriptor.resources as Array<Record<string, unknown>>)[0]!;
  if (!resource.path) {
    // packager-example points at a public host: upload its local CSV instead.
    resource.path = String(resource.url).split('/').pop();
    delete resource.url;
  }
  const dataPath = String(resource.path);
  const files: Record<string, Uint8Array<ArrayBuffer>> = {
    [dataPath]: new Uint8Array(readFileSync(`${FIXTURES}/${dir}/${dataPath}`)),
    'datapackage.json': new TextEncoder().encode(JSON.stringify(descriptor)),
  };
  const filedata: Record<string, { md5: string; name: string; length: number }> = {};
  for (const [path, bytes] of Object.entries(files)) {
    filedata[path] = { md5: md5(bytes), name: path.split('/').pop()!, length: bytes.byteLength };
  }
  const grants = (
    await json<{ filedata: Record<string, { md5: string; upload_url: string; upload_query: Record<string, string[]> }> }>(
      await fetch(`${base}/datastore/`, {
        method: 'POST',
        headers: { 'Auth-Token': token, 'Content-Type': 'text/plain' },
        body: JSON.stringify({ metadata: { owner: userid, name }, filedata }),
      }),
      'datastore authorize',
    )
  ).filedata;
  for (const [path, bytes] of Object.entries(files)) {
    const grant = grants[path]!;
    const query = new URLSearchParams(Object.entries(grant.upload_query).map(([k, v]) => [k, v[0] ?? '']));
    const put = await fetch(`${grant.upload_url}?${query}`, {
      method: 'PUT',
      body: bytes,
      headers: { 'Content-MD5': grant.md5, 'Content-Type': 'application/octet-stream' },
    });
    if (put.status !== 200) throw new Error(`PUT ${path}: HTTP ${put.status}`);
  }
  const key = grants['datapackage.json']!.upload_url;
  const queued = await json<{ status: string }>(
    await fetch(`${base}/package/upload?datapackage=${encodeURIComponent(key)}&jwt=${encodeURIComponent(token)}`, {
      method: 'POST',
    }),
    'upload',
  );
  expect(queued.status).toBe('queued');
  const until = Date.now() + 120_000;
  for (;;) {
    const s = await json<{ status: string; error?: string }>(
      await fetch(`${base}/package/status?datapackage=${encodeURIComponent(key)}`),
      'status',
    );
    if (s.status === 'done') return packageId(userid, name);
    if (s.status === 'fail') throw new Error(`load of ${dir} failed: ${s.error}`);
    if (Date.now() > until) throw new Error(`load of ${dir} did not end: ${JSON.stringify(s)}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

(runs ? describe : describe.skip)('os-api\'s registry client (os-package-registry 0.0.21) reads our index on OpenSearch 1.3', () => {
  beforeAll(async () => {
    if (!ES1) throw new Error(`no OpenSearch 1.3 node: ${bindings.OS_TEST_ELASTICSEARCH_SKIPPED ?? 'OS_TEST_ELASTICSEARCH1_URL unset'}`);
    if (!venv.python) throw new Error(venv.error);
    worker = await startWorker({
      baseUrl: `http://127.0.0.1:${await freePort()}`,
      bindings: { ...bindings, OS_ELASTICSEARCH_ADDRESS: ES1, OS_ES_PACKAGES_INDEX_NAME: index },
    });
    const token = await uploadToken(worker.url);
    const ids: string[] = [];
    for (const dir of PACKAGES) ids.push(await publish(worker.url, token, dir));
    // Our registry: the rows of the packages just loaded.
    const db = await connectNode(bindings.OS_CONDUCTOR_ENGINE!, bindings.OS_DB_WS_PROXY);
    try {
      const { rows } = await db.client.query('SELECT doc FROM packages WHERE id = ANY($1::text[]) ORDER BY id', [ids]);
      registry = rows.map((r) => r.doc as RegistryDocument);
    } finally {
      await db.close();
    }
    expect(registry).toHaveLength(PACKAGES.length);
    // The outbox is shared by every test's Worker: another one running at the
    // same moment may have taken a queued write of ours into its own index
    // (and left us one of its own). Such a package is written with the same
    // index writer the load uses, from the registry.
    const t = target(ES1, index);
    await ensureIndex(t);
    const present = new Set(await listIds(t.client, index));
    for (const doc of registry) if (!present.has(doc.id)) await putDocument(t, doc);
    const all = await fetch(`${ES1}/${index}/_search?size=1000`);
    indexed = (await json<{ hits: { hits: Array<{ _source: RegistryDocument }> } }>(all, 'index contents')).hits.hits.map(
      (h) => h._source,
    );

    const env = { ...process.env };
    delete env.OS_API_CACHE; // os-api-cache would otherwise try to reach a cache
    const out = await run(venv.python, [`${ROOT}test/node/os-package-registry.py`, ES1, index, ...ids], {
      env,
      timeout: 60_000,
      maxBuffer: 64 * 1024 * 1024,
    });
    answers = JSON.parse(out.stdout) as Answers;
  }, 300_000);

  afterAll(async () => {
    await worker?.stop();
  });

  it('ran the real client: elasticsearch-py 5', () => {
    expect(answers.client.elasticsearch).toMatch(/^5\./);
    expect(registry.map((d) => d.package.name)).toEqual(expect.arrayContaining([expect.stringMatching(/^boost-moldova-/)]));
  });

  it('get_model answers the babbage model of each package as our registry holds it', () => {
    for (const doc of registry) {
      expect(doc.model).toBeTruthy();
      expect(answers.get_model[doc.id]).toEqual(doc.model);
    }
  });

  it('get_package answers the descriptor with __origin_url', () => {
    for (const doc of registry) {
      expect(answers.get_package[doc.id]).toEqual({ ...doc.package, __origin_url: doc.origin_url });
    }
  });

  it('get_raw answers (id, origin_url, package, model, dataset, author, loading_status, loaded)', () => {
    for (const doc of registry) {
      expect(answers.get_raw[doc.id]).toEqual([
        doc.id,
        doc.origin_url,
        doc.package,
        doc.model,
        doc.dataset,
        doc.author,
        doc.loading_status,
        doc.loaded,
      ]);
      expect(doc.loaded).toBe(true);
    }
  });

  it('has_model is true for each package and false for an unknown id; unknown ids raise KeyError', () => {
    for (const doc of registry) expect(answers.has_model[doc.id]).toBe(true);
    expect(answers.has_model['nobody:no-such-package']).toBe(false);
    expect(answers.missing).toEqual({ get_model: 'KeyError', get_package: 'KeyError', get_raw: 'KeyError' });
  });

  it('list_models lists every package of the index', () => {
    expect(answers.list_models).toEqual(expect.arrayContaining(registry.map((d) => d.id)));
    expect(answers.list_models).toEqual(indexed.map((d) => d.id).sort());
  });

  it('get_stats counts every package of the index, their rows and distinct countries', () => {
    const rows = indexed.reduce((n, d) => n + (typeof d.package.count_of_rows === 'number' ? d.package.count_of_rows : 0), 0);
    // get_stats counts the analysed (lower-cased) tokens of package.countryCode.
    const countries = new Set(
      indexed.flatMap((d) => [d.package.countryCode].flat()).filter((c): c is string => typeof c === 'string').map((c) => c.toLowerCase()),
    );
    expect(answers.get_stats).toEqual({ num_packages: indexed.length, num_records: rows, num_countries: countries.size });
    // Among them the fixtures' own: MD (Moldova) and GB (a one-element list in uk-cra).
    expect(answers.get_stats.num_packages).toBeGreaterThanOrEqual(PACKAGES.length);
    expect(answers.get_stats.num_countries).toBeGreaterThanOrEqual(2);
  });
});
