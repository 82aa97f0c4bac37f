/**
 * The search-index admin tools, run as the operator runs them (child
 * processes through tsx), against the real OpenSearch node and Postgres.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { RegistryDocument } from '../../../src/registry/registry.ts';
import { createElasticsearchBackend } from '../../../src/search/elasticsearch/backend.ts';
import {
  createPhysicalIndex,
  ensureIndex,
  getDocument,
  listIds,
  nameState,
  putDocument,
  refresh,
  target,
} from '../../../src/search/elasticsearch/index.ts';
import { connectNode, type NodeDb } from '../../../tools/lib/db.ts';
// The ProvidedContext declaration (bindings) lives in the global setup.
import type {} from '../../global-setup.ts';

const bindings = inject('bindings');
const ES_URL = bindings.OS_TEST_ELASTICSEARCH_URL;
const ROOT = fileURLToPath(new URL('../../..', import.meta.url));
const describeEs = ES_URL ? describe : describe.skip;
if (!ES_URL) {
  console.warn(`search tools tests SKIPPED: ${bindings.OS_TEST_ELASTICSEARCH_SKIPPED ?? 'no OpenSearch node'}`);
}

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `tools/<tool>.ts` with the index name and the test services in its environment. */
function runTool(
  tool: string,
  args: string[],
  index: string,
  settings: Record<string, string> = {},
): { done: Promise<Run>; stderr(): string } {
  const child = spawn(`${ROOT}node_modules/.bin/tsx`, [`${ROOT}tools/${tool}.ts`, ...args], {
    cwd: ROOT,
    env: {
      ...process.env,
      OS_ELASTICSEARCH_ADDRESS: ES_URL ?? '',
      OS_ES_PACKAGES_INDEX_NAME: index,
      OS_CONDUCTOR_ENGINE: bindings.OS_CONDUCTOR_ENGINE,
      ...settings,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return {
    done: new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr }))),
    stderr: () => stderr,
  };
}

const tool = (name: string, args: string[], index = freshName()) => runTool(name, args, index).done;

function freshName(): string {
  return `packages-tools-${crypto.randomUUID().replace(/-/g, '').slice(0, 10)}`;
}
function newOwner(): string {
  return crypto.randomUUID().replace(/-/g, '');
}

function doc(owner: string, n: number): RegistryDocument {
  const name = `budget-${String(n).padStart(5, '0')}`;
  return {
    id: `${owner}:${name}`,
    model: { fact_table: `fdp__${name}` },
    package: { name, owner, title: `Budget ${n}`, private: false, countryCode: 'MD', count_of_rows: n },
    origin_url: `http://datastore.test/${owner}/${name}/datapackage.json`,
    dataset: name,
    author: 'Someone',
    loading_status: 'done',
    loaded: true,
    last_update: 1_700_000_000 + n,
  };
}

let db: NodeDb;

/** Writes registry rows directly (many at once), as the registry stores them. */
async function seedRegistry(docs: RegistryDocument[]): Promise<void> {
  await db.client.query(
    `INSERT INTO packages (id, owner, doc, private, loaded, last_update)
     SELECT d->>'id', split_part(d->>'id', ':', 1), d, coalesce((d #>> '{package,private}')::boolean, false),
            (d->>'loaded')::boolean, (d->>'last_update')::double precision
     FROM jsonb_array_elements($1::jsonb) AS d
     ON CONFLICT (id) DO UPDATE SET doc = EXCLUDED.doc, updated_at = now()`,
    [JSON.stringify(docs)],
  );
}

async function registryIds(owner: string): Promise<string[]> {
  const { rows } = await db.client.query('SELECT id FROM packages WHERE owner = $1 ORDER BY id', [owner]);
  return rows.map((r) => String(r.id));
}

async function indexedIds(index: string, owner: string): Promise<string[]> {
  return (await listIds(target(ES_URL!, index).client, index)).filter((id) => id.startsWith(`${owner}:`)).sort();
}

describe('admin tools --help', () => {
  it.each(['reindex', 'remove-package', 'remove-alias'])('%s prints its usage and changes nothing', async (name) => {
    const run = await tool(name, ['--help']);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`Usage: npm run tools:${name}`);
  });

  it.each([
    ['reindex', ['--bogus']],
    ['remove-package', ['not-an-id']],
    ['remove-package', []],
    ['remove-alias', []],
  ])('%s refuses bad arguments %j with a message and exit code 1', async (name, args) => {
    const run = await tool(name, args);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/failed: /);
  });
});

describeEs('admin tools against OpenSearch and Postgres', () => {
  beforeAll(async () => {
    db = await connectNode(bindings.OS_CONDUCTOR_ENGINE!, bindings.OS_DB_WS_PROXY);
  });
  afterAll(async () => {
    await db?.close();
  });

  it('reindex builds <name>-<timestamp> from the registry and points the alias at it', async () => {
    const owner = newOwner();
    const docs = Array.from({ length: 25 }, (_, i) => doc(owner, i));
    await seedRegistry(docs);
    const index = freshName();
    const run = await tool('reindex', [], index);
    expect(run.code).toBe(0);
    // The progress bar (stderr is not a terminal here: one line per 10%).
    expect(run.stderr).toMatch(new RegExp(`reindex ${index}: (\\d+)/\\1 \\(100%\\)`));
    const state = await nameState(target(ES_URL!, index).client, index);
    expect(state.kind).toBe('alias');
    const physical = (state as { indices: string[] }).indices;
    expect(physical).toHaveLength(1);
    expect(physical[0]).toMatch(new RegExp(`^${index}-\\d{17}$`));
    expect(run.stdout).toContain(`alias ${index} -> ${physical[0]}`);
    expect(await indexedIds(index, owner)).toEqual(docs.map((d) => d.id).sort());
    // The registry document is copied as is (last_update is not reset as the original did).
    expect(await getDocument(target(ES_URL!, index), docs[3]!.id)).toEqual(docs[3]);
  });

  it('reindex with OS_DATASTORE_PRIVATE writes read links for bucket files, as the service does', async () => {
    const owner = newOwner();
    const bucket = 'https://s3.example.org/datastore';
    const stored = { ...doc(owner, 0), origin_url: `${bucket}/${owner}/ds/datapackage.json` };
    await seedRegistry([stored]);
    const index = freshName();
    const run = await tool('reindex', [], index);
    expect(run.code).toBe(0);
    expect((await getDocument(target(ES_URL!, index), stored.id))?.origin_url).toBe(stored.origin_url);
    const privateIndex = freshName();
    const privateRun = await runTool('reindex', [], privateIndex, {
      OS_DATASTORE_PRIVATE: 'true',
      OS_BASE_URL: 'https://openspending.example',
      OS_S3_SCHEME: 'https',
      OS_S3_HOSTNAME: 's3.example.org',
      OS_S3_PORT: '',
      OS_STORAGE_BUCKET_NAME: 'datastore',
    }).done;
    expect(privateRun.code, privateRun.stderr).toBe(0);
    expect((await getDocument(target(ES_URL!, privateIndex), stored.id))?.origin_url).toBe(
      `https://openspending.example/datastore/file/${owner}/ds/datapackage.json`,
    );
  });

  it('reindex keeps search answering throughout, and catches up writes made while it runs', async () => {
    const owner = newOwner();
    const n = 2000;
    const docs = Array.from({ length: n }, (_, i) => doc(owner, i));
    await seedRegistry(docs);
    const index = freshName();
    expect((await tool('reindex', [], index)).code).toBe(0);
    const before = (await nameState(target(ES_URL!, index).client, index)) as { indices: string[] };

    const backend = createElasticsearchBackend({ url: ES_URL!, index });
    const reindexing = runTool('reindex', [], index);
    let finished = false;
    void reindexing.done.then(() => (finished = true));
    const totals: number[] = [];
    const failures: string[] = [];
    let mutated = false;
    while (!finished) {
      try {
        const r = await backend.search({ filters: [{ path: 'package.owner', value: owner }], size: 0, from: 0, userid: null });
        totals.push(r.total);
      } catch (err) {
        failures.push((err as Error).message);
      }
      if (!mutated && reindexing.stderr().includes('%)')) {
        // Registry changes once the copy has begun (not mirrored, as if the index were down):
        // an update and a deletion of packages already copied, and a new package.
        mutated = true;
        await seedRegistry([{ ...docs[1]!, package: { ...docs[1]!.package, title: 'Changed meanwhile' } }, doc(owner, n)]);
        await db.client.query('DELETE FROM packages WHERE id = $1', [docs[0]!.id]);
      }
    }
    const run = await reindexing.done;
    expect(run.code).toBe(0);
    console.log(`reindex while searching: ${run.stdout.split('\n')[0]}; ${totals.length} searches answered meanwhile`);
    expect(failures).toEqual([]);
    expect(totals.length).toBeGreaterThan(3);
    expect(Math.min(...totals)).toBeGreaterThanOrEqual(n - 1);
    expect(mutated).toBe(true);
    expect(run.stdout).toMatch(/\([1-9]\d* recently changed copied again, 1 deleted meanwhile\)/);
    expect((await getDocument(target(ES_URL!, index), docs[1]!.id))?.package.title).toBe('Changed meanwhile');

    // The new index equals the registry; the previous one is kept as a backup.
    expect(await indexedIds(index, owner)).toEqual(await registryIds(owner));
    const after = (await nameState(target(ES_URL!, index).client, index)) as { indices: string[] };
    expect(after.indices).not.toEqual(before.indices);
    expect(run.stdout).toContain(`kept as backup: ${before.indices[0]}`);
    const backupExists = await target(ES_URL!, index).client.request('HEAD', `/${before.indices[0]}`, { accept: [404] });
    expect(backupExists.status).toBe(200);

    // What os-viewer and os-admin ask for: every package of an owner, size 10000.
    const t0 = performance.now();
    const all = await backend.search({ filters: [{ path: 'package.owner', value: owner }], size: 10000, from: 0, userid: owner });
    expect(all.hits).toHaveLength(n);
    console.log(`search size=10000 returning ${all.hits.length} packages: ${Math.round(performance.now() - t0)} ms`);

    // --drop-backup removes the previous indices once the new one is live.
    const drop = await tool('reindex', ['--drop-backup'], index);
    expect(drop.code).toBe(0);
    for (const old of [...before.indices, ...after.indices]) {
      const res = await target(ES_URL!, index).client.request('HEAD', `/${old}`, { accept: [404] });
      expect(res.status).toBe(404);
    }
    expect(await indexedIds(index, owner)).toEqual(await registryIds(owner));
  }, 120_000);

  it('reindex that fails half-way leaves the alias and the live index untouched and removes its new index', async () => {
    const owner = newOwner();
    await seedRegistry([doc(owner, 0), doc(owner, 1)]);
    const index = freshName();
    expect((await tool('reindex', [], index)).code).toBe(0);
    const t = target(ES_URL!, index);
    const before = await nameState(t.client, index);
    // A registry document the index refuses (an _id over 512 bytes).
    const poison = { ...doc(owner, 2), id: `${owner}:${'x'.repeat(600)}` };
    await seedRegistry([poison]);
    try {
      const run = await tool('reindex', [], index);
      expect(run.code).toBe(1);
      expect(run.stderr).toMatch(/reindex failed: .*(too long|validation)/);
      expect(await nameState(t.client, index)).toEqual(before);
      const physical = await t.client.request<Array<{ index: string }>>('GET', `/_cat/indices/${index}-*?format=json&h=index`);
      expect(physical.body.map((r) => r.index)).toEqual((before as { indices: string[] }).indices);
      expect(await indexedIds(index, owner)).toEqual([doc(owner, 0).id, doc(owner, 1).id]);
    } finally {
      await db.client.query('DELETE FROM packages WHERE id = $1', [poison.id]);
    }
  });

  it('reindex refuses a concrete index of that name unless told to replace it, then replaces it atomically', async () => {
    const owner = newOwner();
    const docs = Array.from({ length: 5 }, (_, i) => doc(owner, i));
    await seedRegistry(docs);
    const index = freshName();
    const t = target(ES_URL!, index);
    await createPhysicalIndex(t.client, index);
    const stale = doc(owner, 99);
    await putDocument(t, stale); // in the old index only, not in the registry

    const refused = await tool('reindex', [], index);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('--replace-concrete-index');
    expect(await nameState(t.client, index)).toEqual({ kind: 'index' });
    expect(await getDocument(t, stale.id)).toEqual(stale);
    expect(await indexedIds(index, owner)).toEqual([stale.id]);

    const run = await tool('reindex', ['--replace-concrete-index'], index);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`replaced the concrete index ${index} by an alias`);
    expect((await nameState(t.client, index)).kind).toBe('alias');
    expect(await indexedIds(index, owner)).toEqual(docs.map((d) => d.id).sort());
  });

  it('remove-package removes from the index only, or with --registry from the registry too', async () => {
    const owner = newOwner();
    const docs = Array.from({ length: 3 }, (_, i) => doc(owner, i));
    await seedRegistry(docs);
    const index = freshName();
    const t = target(ES_URL!, index);
    await ensureIndex(t);
    for (const d of docs) await putDocument(t, d);

    const one = await tool('remove-package', [docs[0]!.id], index);
    expect(one.code).toBe(0);
    expect(one.stdout).toContain(`${docs[0]!.id}: removed from ${index}`);
    expect(await getDocument(t, docs[0]!.id)).toBeNull();
    expect(await registryIds(owner)).toContain(docs[0]!.id);

    const two = await tool('remove-package', [docs[1]!.id, `${owner}:never-there`, '--registry'], index);
    expect(two.code).toBe(0);
    expect(two.stdout).toContain(`${docs[1]!.id}: removed from ${index}, registry row deleted`);
    expect(two.stdout).toContain(`${owner}:never-there: not in ${index}, not in the registry`);
    expect(await getDocument(t, docs[1]!.id)).toBeNull();
    expect(await registryIds(owner)).toEqual([docs[0]!.id, docs[2]!.id]);
    await refresh(t.client, index);
    expect(await indexedIds(index, owner)).toEqual([docs[2]!.id]);
  });

  it('remove-alias detaches the alias from an index (searches then find no index)', async () => {
    const index = freshName();
    const t = target(ES_URL!, index);
    await ensureIndex(t);
    const physical = `${index}-initial`;
    const run = await tool('remove-alias', [physical], index);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`removed alias ${index} from ${physical}`);
    expect(await nameState(t.client, index)).toEqual({ kind: 'missing' });
    const again = await tool('remove-alias', [physical], index);
    expect(again.code).toBe(2);
    expect(again.stderr).toContain(`${physical} has no alias ${index}`);
  });
});
