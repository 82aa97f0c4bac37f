import { describe, expect, it } from 'vitest';
import { openHits } from './hits-stream.ts';

type Answer = { hits?: { hits?: Array<Record<string, unknown>> } & Record<string, unknown> } & Record<string, unknown>;

const ENCODER = new TextEncoder();

/** `text` as a body stream cut at the given byte offsets (each chunk its own buffer). */
function bodyOf(text: string, cuts: number[] = []): ReadableStream<Uint8Array> {
  const bytes = ENCODER.encode(text);
  const at = [0, ...cuts.filter((c) => c > 0 && c < bytes.length).sort((a, b) => a - b), bytes.length];
  return new ReadableStream({
    start(controller) {
      for (let i = 0; i + 1 < at.length; i++) controller.enqueue(bytes.slice(at[i], at[i + 1]));
      controller.close();
    },
  });
}

/** Blocks of one byte: each chunk is scanned as cut. */
async function read(text: string, cuts: number[] = []): Promise<{ total: number; text: string }> {
  const { total, sources } = await openHits(bodyOf(text, cuts), 1);
  return { total, text: await new Response(sources).text() };
}

/** What a full parse says the sources and the total are. */
function reference(answer: Answer): { sources: unknown[]; total: number } {
  const sources = (answer.hits?.hits ?? []).map((h) => h._source);
  const t = answer.hits?.total as number | { value: number };
  return { sources, total: typeof t === 'number' ? t : t.value };
}

const tricky = {
  id: 'o:n',
  package: { title: 'quote " brace } bracket ] backslash \\ end\\', hits: { hits: [{ _source: 'not me' }] }, tags: ['a', [], {}] },
  model: { measures: { m: { source: 'x', 'odd "key"': '\\"' } } },
  origin_url: 'http://x/\u00e9\u{1F600}\u2028',
  loaded: true,
  last_update: 1.5e9,
  nothing: null,
  neg: -0.25e-3,
};

const cases: Array<[string, Answer, (a: Answer) => string]> = [
  ['compact', { took: 3, hits: { total: { value: 2 }, hits: [{ _id: '1', _source: tricky }, { _source: { id: 'b' }, _id: '2' }] } }, (a) => JSON.stringify(a)],
  ['pretty, aggregations after', { hits: { total: 1, hits: [{ _index: 'p', _source: tricky, sort: [1, 'x'] }] }, aggregations: { n: { value: 3 } } }, (a) => JSON.stringify(a, null, 2)],
  ['an empty list', { hits: { total: { value: 0, relation: 'eq' }, hits: [] }, timed_out: false }, (a) => JSON.stringify(a)],
  ['no list at all', { aggregations: { num_records: { value: 7 } }, hits: { total: 3 } }, (a) => JSON.stringify(a)],
  ['a key named hits elsewhere', { shards: { hits: { hits: [{ _source: 'no' }] } }, hits: { total: 1, hits: [{ _source: { id: 'yes' } }] } }, (a) => JSON.stringify(a)],
  ['strings with every escape', { hits: { total: 1, hits: [{ _source: { s: '\\\\"\\n\t\r\b\f\u0001/', 'k\\"': 1 } }] } }, (a) => JSON.stringify(a)],
];

describe('openHits', () => {
  it.each(cases)('%s: the total and the sources a full parse gives, however the body is cut', async (_name, answer, write) => {
    const text = write(answer);
    const expected = reference(answer);
    const n = ENCODER.encode(text).length;
    for (const cuts of [[], [1], [n - 1], Array.from({ length: n }, (_, i) => i)]) {
      const got = await read(text, cuts);
      expect(got.total).toBe(expected.total);
      expect(JSON.parse(got.text)).toEqual(expected.sources);
    }
  });

  it('keeps the texts as sent, byte for byte (no re-serialisation)', async () => {
    const text = '{"hits":{"total":1,"hits":[{"_source":{"b":1,"a":"\\u00e9 é"}},{"_source":{}}]}}';
    expect((await read(text, [30, 31, 44])).text).toBe('[{"b":1,"a":"\\u00e9 é"},{}]');
  });

  it('matches a full parse on random answers cut at random places', async () => {
    let seed = 7;
    const rand = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const chars = ['a', '"', '\\', '}', ']', '{', '[', ',', ':', ' ', '\n', 'é', '\u{1F600}'];
    const str = () => Array.from({ length: Math.floor(rand() * 8) }, () => chars[Math.floor(rand() * chars.length)]).join('');
    const value = (depth: number): unknown => {
      const r = rand();
      if (depth > 3 || r < 0.3) return str();
      if (r < 0.4) return Math.round(rand() * 1e6) / 100 - 5000;
      if (r < 0.45) return rand() < 0.5 ? null : true;
      if (r < 0.7) return Array.from({ length: Math.floor(rand() * 4) }, () => value(depth + 1));
      return Object.fromEntries(Array.from({ length: Math.floor(rand() * 4) }, () => [str(), value(depth + 1)]));
    };
    for (let n = 0; n < 200; n++) {
      const answer: Answer = {
        took: 1,
        hits: { total: { value: n }, hits: Array.from({ length: n % 5 }, () => ({ _id: str(), _source: { v: value(0) }, sort: [str()] })) },
        aggregations: { x: value(1) },
      };
      const compact = rand() < 0.5;
      const text = compact ? JSON.stringify(answer) : JSON.stringify(answer, null, 1);
      const size = ENCODER.encode(text).length;
      const cuts = Array.from({ length: Math.floor(rand() * 6) }, () => Math.floor(rand() * size));
      const got = await read(text, cuts);
      const expected = reference(answer);
      expect(got.total).toBe(expected.total);
      if (compact) expect(got.text).toBe(JSON.stringify(expected.sources));
      else expect(JSON.parse(got.text)).toEqual(expected.sources);
    }
  });

  it('reads a fetch body (a byte stream) in blocks and gives the sources a full parse gives', async () => {
    // Over 64 KiB of hits, so the blocks of the default size cut it several times.
    const hits = Array.from({ length: 1000 }, (_, i) => ({ _id: String(i), _source: { ...tricky, id: `o:${i}`, n: i } }));
    const answer: Answer = { took: 2, hits: { total: { value: 1000 }, hits }, aggregations: { a: 1 } };
    const text = JSON.stringify(answer);
    expect(ENCODER.encode(text).length).toBeGreaterThan(4 * 64 * 1024);
    const { total, sources } = await openHits(new Response(text).body as ReadableStream<Uint8Array>);
    expect(total).toBe(1000);
    expect(await new Response(sources).text()).toBe(JSON.stringify(reference(answer).sources));
  });

  it('refuses an answer without a total, and errors the stream of one cut inside the list', async () => {
    await expect(read('{"took":1}')).rejects.toThrow(/hits.total/);
    await expect(read('[1,2]')).rejects.toThrow();
    await expect(read('{"hits":{"total":2,"hits":[{"_source":{"a":"b')).rejects.toThrow(/ended inside the hit list/);
  });
});
