/**
 * The dialect field of the load status: kept by later updates, cleared by a
 * new upload, and added to status objects created before it existed.
 */
import { env } from 'cloudflare:workers';
import { evictDurableObject, runInDurableObject } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { statusStub } from '../../src/durable/status-client.ts';
import type { DialectView } from '../../src/loader/dialect.ts';

const dialect: DialectView = { delimiter: ';', quoteChar: '"', skipInitialSpace: false, detected: ['delimiter'] };

async function loading(key: string): Promise<{ stub: ReturnType<typeof statusStub>; job: string }> {
  const stub = statusStub(env, key);
  const job = crypto.randomUUID();
  await stub.start(key, job);
  for (const s of ['initializing', 'loading-datapackage', 'validating-datapackage', 'loading-resource', 'creating-table', 'loading-data-ready'] as const) {
    await stub.advance(job, s);
  }
  return { stub, job };
}

describe('status dialect', () => {
  it('stays through later updates and is cleared by a new upload', async () => {
    const key = `k-${crypto.randomUUID()}`;
    const { stub, job } = await loading(key);
    expect((await stub.read())?.dialect).toBeNull();
    await stub.advance(job, 'loading-data', { dialect });
    await stub.advance(job, 'loading-data', { progress: 10 });
    expect(await stub.read()).toMatchObject({ status: 'loading-data', progress: 10, dialect });
    await stub.start(key, crypto.randomUUID());
    expect((await stub.read())?.dialect).toBeNull();
  });

  it('is added to a status object stored before the field existed', async () => {
    const key = `k-${crypto.randomUUID()}`;
    const { stub, job } = await loading(key);
    await runInDurableObject(stub, (_instance, state) => {
      state.storage.sql.exec('ALTER TABLE load_status DROP COLUMN dialect');
    });
    await evictDurableObject(stub);
    expect(await stub.read()).toMatchObject({ job, status: 'loading-data-ready', dialect: null });
    await stub.advance(job, 'loading-data', { dialect });
    expect((await stub.read())?.dialect).toEqual(dialect);
  });
});
