import { describe, expect, it } from 'vitest';
import { concatBytes } from './bytes.ts';
import { blockReader } from './block-reader.ts';

const OPTIONS = { minBytes: 64 * 1024, maxBytes: 256 * 1024, idleMs: 5_000, sender: 'the data file' };

function bytes(n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = (i * 31 + (i >> 8)) & 0xff;
  return out;
}

/** A plain (not byte) stream handing out `data` in `size`-byte chunks. */
function chunked(data: Uint8Array, size: number): ReadableStream<Uint8Array> {
  let at = 0;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (at >= data.length) return controller.close();
      controller.enqueue(data.slice(at, at + size));
      at += size;
    },
  });
}

async function readAll(stream: ReadableStream<Uint8Array>): Promise<Uint8Array[]> {
  const reader = blockReader(stream, OPTIONS);
  const blocks: Uint8Array[] = [];
  for (let b = await reader.read(); b; b = await reader.read()) blocks.push(b);
  expect(await reader.read()).toBeNull();
  return blocks;
}

/** Index of the first differing byte, -1 when equal (toEqual on a megabyte is slow). */
function firstDifference(a: Uint8Array, b: Uint8Array): number {
  const n = Math.max(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return i;
  return -1;
}

describe('blockReader', () => {
  const data = bytes(1_000_003);

  it.each([
    ['a response body (byte stream, BYOB readAtLeast)', () => new Response(data).body as ReadableStream<Uint8Array>],
    ['a plain stream of 4 KiB chunks', () => chunked(data, 4096)],
    ['a plain stream of 1 MiB chunks', () => chunked(data, 1024 * 1024)],
  ])('reads %s in blocks of at least 64 KiB, every byte once, in order', async (_, open) => {
    const blocks = await readAll(open());
    expect(firstDifference(concatBytes(blocks), data)).toBe(-1);
    for (const b of blocks.slice(0, -1)) expect(b.byteLength).toBeGreaterThanOrEqual(OPTIONS.minBytes);
    expect(blocks.length).toBeLessThanOrEqual(Math.ceil(data.length / OPTIONS.minBytes));
  });

  it('finds the fast path on workerd response bodies (BYOB readAtLeast)', () => {
    const reader = (new Response(data).body as ReadableStream<Uint8Array>).getReader({ mode: 'byob' });
    expect(typeof (reader as unknown as { readAtLeast?: unknown }).readAtLeast).toBe('function');
  });

  it('returns a short body as one block, and an empty body as none', async () => {
    expect(await readAll(new Response(bytes(10)).body as ReadableStream<Uint8Array>)).toEqual([bytes(10)]);
    expect(await readAll(chunked(new Uint8Array(0), 10))).toEqual([]);
  });

  it('keeps earlier blocks intact (a parser may hold on to their tail)', async () => {
    const reader = blockReader(new Response(data).body as ReadableStream<Uint8Array>, OPTIONS);
    const first = await reader.read();
    const copy = (first as Uint8Array).slice();
    await reader.read();
    expect(firstDifference(first as Uint8Array, copy)).toBe(-1);
  });

  it('fails when the server sends nothing for idleMs', async () => {
    const silent = new ReadableStream<Uint8Array>({ pull: () => new Promise<void>(() => undefined) });
    const reader = blockReader(silent, { ...OPTIONS, idleMs: 50 });
    await expect(reader.read()).rejects.toThrow(/sent nothing for 0.05 s/);
  });
});
