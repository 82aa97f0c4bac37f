import { describe, expect, it } from 'vitest';
import codepointsTsv from '../../test/golden/slugify/codepoints.tsv?raw';
import headersTsv from '../../test/golden/slugify/headers.tsv?raw';
import { columnNames, databaseName, slugify } from './naming';

// Golden outputs of the original awesome-slugify 1.6.5 + Unidecode 0.04.21,
// written by tools/golden/slugify/generate.py.
const rows = (tsv: string): string[][] =>
  tsv
    .split('\n')
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((line) => line.split('\t'));

const codepointRows = rows(codepointsTsv);
const headerRows = rows(headersTsv);

describe('slugify equals the original for every BMP code point', () => {
  it('covers the whole BMP but the surrogates', () => {
    let count = 0;
    for (const [key] of codepointRows) {
      const [start, end = start] = (key as string).split('-').map((h) => parseInt(h, 16));
      count += (end as number) - (start as number) + 1;
    }
    expect(count).toBe(0x10000 - 0x800);
  });

  it('alone, doubled between A and a, and between Ш and ШШ', () => {
    const mismatches: string[] = [];
    for (const [key, alone, doubled, run] of codepointRows) {
      const [start, end = start] = (key as string).split('-').map((h) => parseInt(h, 16)) as [number, number?];
      for (let cp = start; cp <= (end as number); cp++) {
        const c = String.fromCodePoint(cp);
        const got = [slugify(c), slugify(`A${c}${c}a`), slugify(`Ш${c}ШШ`)];
        const want = [alone, doubled, run];
        if (got.join('\t') !== want.join('\t')) mismatches.push(`U+${cp.toString(16)} ${JSON.stringify(got)} != ${JSON.stringify(want)}`);
      }
    }
    expect(mismatches.slice(0, 20)).toEqual([]);
    expect(mismatches.length).toBe(0);
  });
});

describe('naming equals the original for real headers in many scripts', () => {
  it.each(headerRows.map((r) => [r[0], r[1], r] as const))('%s %j', (_group, header, row) => {
    const [, , plain, max30, lower] = row;
    expect([slugify(header as string), slugify(header as string, { maxLength: 30 }), slugify(header as string, { toLower: true })]).toEqual([
      plain,
      max30,
      lower,
    ]);
  });

  const groups = new Map<string, { headers: string[]; columns: string[] }>();
  for (const [group, header, , , , column] of headerRows) {
    const entry = groups.get(group as string) ?? { headers: [], columns: [] };
    entry.headers.push(header as string);
    entry.columns.push(column as string);
    groups.set(group as string, entry);
  }

  it.each([...groups].map(([group, entry]) => [group, entry] as const))(
    'columns of the %s group, with the 30-character limit and _2 suffixes',
    (_group, { headers, columns }) => {
      expect(columnNames(headers)).toEqual(columns);
      const taken = new Set<string>();
      expect(headers.map((h) => {
        const name = databaseName(h, taken);
        taken.add(name);
        return name;
      })).toEqual(columns);
    },
  );
});
