import { describe, expect, it } from 'vitest';
import { readBounded, TooLargeError } from './bounded-read.ts';

function streamOf(...chunks: string[]): ReadableStream<Uint8Array> {
  const enc = new TextEncoder();
  return new ReadableStream({
    start(controller) {
      for (const c of chunks) controller.enqueue(enc.encode(c));
      controller.close();
    },
  });
}

describe('readBounded', () => {
  it('joins the chunks of a body within the cap', async () => {
    const bytes = await readBounded(streamOf('ab', 'cd', 'e'), 5);
    expect(new TextDecoder().decode(bytes)).toBe('abcde');
  });

  it('refuses a body that grows past the cap, without reading the rest', async () => {
    let pulled = 0;
    const endless = new ReadableStream<Uint8Array>({
      pull(controller) {
        pulled++;
        controller.enqueue(new Uint8Array(1024));
      },
    });
    await expect(readBounded(endless, 4096)).rejects.toBeInstanceOf(TooLargeError);
    expect(pulled).toBeLessThan(10);
  });

  it('refuses at once when the declared length is over the cap', async () => {
    await expect(readBounded(streamOf('x'), 10, '11')).rejects.toBeInstanceOf(TooLargeError);
  });

  it('reads no body as empty', async () => {
    expect((await readBounded(null, 10)).byteLength).toBe(0);
  });
});
