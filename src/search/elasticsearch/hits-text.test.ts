import { describe, expect, it } from 'vitest';
import { splitHits } from './hits-text.ts';

type Answer = { hits?: { hits?: Array<Record<string, unknown>> } & Record<string, unknown> } & Record<string, unknown>;

/** What a full parse says: the sources, and the answer without its hit list. */
function reference(answer: Answer): { sources: unknown[]; rest: unknown } {
  const copy = JSON.parse(JSON.stringify(answer)) as Answer;
  const sources = (copy.hits?.hits ?? []).map((h) => h._source);
  if (copy.hits?.hits) copy.hits.hits = [];
  return { sources, rest: copy };
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
  ['pretty', { hits: { hits: [{ _index: 'p', _source: tricky, sort: [1, 'x'] }], total: 1 }, aggregations: { n: { value: 3 } } }, (a) => JSON.stringify(a, null, 2)],
  ['hits first, total after', { hits: { hits: [], total: { value: 0, relation: 'eq' } }, timed_out: false }, (a) => JSON.stringify(a)],
  ['no hits at all (stats answer)', { aggregations: { num_records: { value: 7 } }, hits: { total: 3 } }, (a) => JSON.stringify(a)],
  ['a key named hits elsewhere', { shards: { hits: { hits: [{ _source: 'no' }] } }, hits: { hits: [{ _source: { id: 'yes' } }] } }, (a) => JSON.stringify(a)],
  ['string with every escape', { hits: { hits: [{ _source: { s: '\\\\"\\n\t\r\b\f\u0001/' } }] } }, (a) => JSON.stringify(a)],
];

describe('splitHits', () => {
  it.each(cases)('%s: the sources and the rest are what a full parse gives', (_name, answer, write) => {
    const text = write(answer);
    const split = splitHits(text);
    const expected = reference(answer);
    expect(JSON.parse(split.sources)).toEqual(expected.sources);
    expect(split.count).toBe(expected.sources.length);
    expect(split.rest).toEqual(expected.rest);
  });

  it('keeps the texts as sent (no re-serialisation)', () => {
    const text = '{"hits":{"hits":[{"_source":{"b":1,"a":"\\u00e9"}}]}}';
    expect(splitHits(text).sources).toBe('[{"b":1,"a":"\\u00e9"}]');
  });

  it('matches a full parse on random documents', () => {
    let seed = 7;
    const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
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
      const answer: Answer = { hits: { total: n, hits: Array.from({ length: n % 5 }, () => ({ _id: str(), _source: value(0), sort: [str()] })) } };
      const split = splitHits(rand() < 0.5 ? JSON.stringify(answer) : JSON.stringify(answer, null, 1));
      const expected = reference(answer);
      expect(JSON.parse(split.sources)).toEqual(expected.sources);
      expect(split.rest).toEqual(expected.rest);
    }
  });

  it.each([
    ['cut short', '{"hits":{"hits":[{"_source":{"a":"b'],
    ['not an object', '[1,2]'],
    ['trailing text', '{"hits":{"hits":[]}} x'],
    ['a missing comma', '{"hits":{"hits":[{"_source":1} {"_source":2}]}}'],
  ])('refuses an answer that is %s', (_name, text) => {
    expect(() => splitHits(text)).toThrow(/unreadable|JSON/);
  });
});
