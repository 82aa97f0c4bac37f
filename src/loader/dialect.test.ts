import { describe, expect, it } from 'vitest';
import { CsvParser } from './csv';
import { declaredDialectKeys, resolveDialect, SAMPLE_LINES, sampleText, sniffDialect, type Sniffed } from './dialect';
import { DEFAULT_DIALECT, type CsvDialect } from './types';

const enc = new TextEncoder();

/** Rows of `text` parsed with `dialect` (header first). */
function parseWith(dialect: CsvDialect, text: string): string[][] {
  const parser = new CsvParser(dialect);
  const rows = [...parser.push(enc.encode(text)), ...parser.end()].map((r) => r.fields);
  return [parser.header ?? [], ...rows];
}

const APOSTROPHES = 'Name,Amount,Note\nA,1,"x, \'y\', z"\nB,2,plain\n';

// Expected values are what Python 3.8's csv.Sniffer().sniff(sample, ',\t;|')
// answers for the same samples (null: it raised "Could not determine delimiter").
const sniffCases: Array<[string, string, Sniffed | null]> = [
  [
    '; with decimal commas',
    'Jahr;Betrag;Region\n2016;1.234,56;Nord\n2017;99,5;Süd\n2018;0,75;Ost\n',
    { delimiter: ';', quoteChar: '"', skipInitialSpace: false },
  ],
  ['tab', 'year\tamount\tname\n2016\t12.5\tA B\n2017\t13\tC, D\n', { delimiter: '\t', quoteChar: '"', skipInitialSpace: false }],
  ['|', 'a|b|c\n1|2|3\n4|5|6\n', { delimiter: '|', quoteChar: '"', skipInitialSpace: false }],
  [
    'quoted fields holding ; | and tab, comma-separated',
    'name,desc,amount\n"Smith; John","a|b\tc",10\n"Doe; Jane","x;y",20\n',
    { delimiter: ',', quoteChar: '"', skipInitialSpace: false },
  ],
  [
    'quoted fields holding , | and tab, semicolon-separated',
    'name;amount;note\n"Smith, John";"1,5";"a|b"\n"Doe, Jane";"2,5";"c\td"\n',
    { delimiter: ';', quoteChar: '"', skipInitialSpace: false },
  ],
  ["single quotes", "name;amount\n'Smith; John';1\n'Doe';2\n", { delimiter: ';', quoteChar: "'", skipInitialSpace: false }],
  ['one column: nothing detected', 'amount\n1\n2\n3\n', null],
  ['one column with a comma in one value: nothing detected', 'title\nHello, world\nFoo\nBar\n', null],
  ['ambiguous , and ; on every line: comma', 'a,b;c\n1,2;3\n4,5;6\n', { delimiter: ',', quoteChar: '"', skipInitialSpace: false }],
  ['a space after each comma', 'a, b, c\n1, 2, 3\n4, 5, 6\n', { delimiter: ',', quoteChar: '"', skipInitialSpace: true }],
  // One short line in eleven is below the original's 90% consistency: it gave up too.
  ['; with one irregular line in eleven', 'a;b;c\n1;2;3\n4;5;6\n7;8\n9;10;11\n12;13;14\n15;16;17\n18;19;20\n21;22;23\n24;25;26\n27;28;29\n', null],
  ['empty sample', '', null],
  // The original's sniffer takes the apostrophes for the quote character here.
  ['an apostrophe pair inside a "-quoted field', APOSTROPHES, { delimiter: ',', quoteChar: "'", skipInitialSpace: true }],
];

describe('sniffDialect answers as Python csv.Sniffer with the original delimiters', () => {
  it.each(sniffCases)('%s', (_label, sample, expected) => {
    expect(sniffDialect(sample)).toEqual(expected);
  });
});

describe('sampleText prepares the sample like the original reader', () => {
  it.each<[string, Uint8Array, boolean, string]>([
    ['drops a UTF-8 BOM', enc.encode('\ufeffa;b\n1;2\n'), false, 'a;b\n1;2\n'],
    ['turns CRLF and CR into LF', enc.encode('a;b\r\n1;2\r3;4\r\n'), false, 'a;b\n1;2\n3;4\n'],
    ['drops a cut last line of a truncated sample', enc.encode('a;b\n1;2\n3;'), true, 'a;b\n1;2\n'],
    ['keeps the last line of a whole file', enc.encode('a;b\n1;2\n3;4'), false, 'a;b\n1;2\n3;4'],
    ['decodes the declared encoding', new Uint8Array([0x6e, 0xe9, 0x3b, 0x62, 0x0a]), false, 'né;b\n'],
  ])('%s', (_label, bytes, truncated, text) => {
    const encoding = bytes[1] === 0xe9 ? 'windows-1252' : 'utf-8';
    expect(sampleText(bytes, encoding, truncated)).toBe(text);
  });

  it(`keeps at most ${SAMPLE_LINES} lines`, () => {
    const text = sampleText(enc.encode('x;y\n'.repeat(SAMPLE_LINES + 50)), 'utf-8', false);
    expect(text.split('\n').filter(Boolean)).toHaveLength(SAMPLE_LINES);
  });
});

const declared = (dialect: Record<string, unknown> | undefined): Set<string> =>
  declaredDialectKeys({ resources: [dialect === undefined ? {} : { dialect }] });

describe('resolveDialect: declared keys win, missing ones are detected', () => {
  const semicolons = 'Jahr;Betrag\n2016;1.234,56\n2017;99,5\n';
  it.each<[string, Record<string, unknown> | undefined, string, Partial<CsvDialect>, string[]]>([
    ['no dialect: ; detected', undefined, semicolons, { delimiter: ';', quoteChar: '"' }, ['delimiter', 'quoteChar', 'skipInitialSpace']],
    ['BOM and CRLF', undefined, '\ufeffa|b\r\n1|2\r\n3|4\r\n', { delimiter: '|' }, ['delimiter', 'quoteChar', 'skipInitialSpace']],
    // The original sniffed with the declared delimiter as the only candidate; it gave up here.
    ['a declared delimiter contradicting the sample wins', { delimiter: ',' }, semicolons, { delimiter: ',', quoteChar: '"' }, []],
    ['a declared quoteChar is kept, the delimiter detected', { quoteChar: "'" }, '"a";"b"\n"1";"2"\n', { delimiter: ';', quoteChar: "'" }, ['delimiter', 'skipInitialSpace']],
    ['everything declared: nothing detected', { delimiter: ';', quoteChar: '"', skipInitialSpace: false }, 'a,b\n1,2\n', { delimiter: ';' }, []],
    ['a sniffed apostrophe quote that breaks the rows yields to "', undefined, APOSTROPHES, { delimiter: ',', quoteChar: '"' }, ['delimiter', 'skipInitialSpace']],
    ['one column: the defaults, nothing detected', undefined, 'amount\n1\n2\n', { delimiter: ',', quoteChar: '"' }, []],
    ['a sniffed quote equal to the declared delimiter is not taken', { delimiter: "'" }, "'a'\n'b'\n", { delimiter: "'", quoteChar: '"' }, ['skipInitialSpace']],
  ])('%s', (_label, raw, text, expected, detected) => {
    const parsed: CsvDialect = { ...DEFAULT_DIALECT, ...(raw as Partial<CsvDialect> | undefined) };
    const resolved = resolveDialect(parsed, declared(raw), enc.encode(text), 'utf-8', false);
    expect(resolved.dialect).toMatchObject(expected);
    expect(resolved.detected).toEqual(detected);
  });

  it('the detected dialect parses a ; file with decimal commas into its fields', () => {
    const { dialect } = resolveDialect(DEFAULT_DIALECT, new Set(), enc.encode(semicolons), 'utf-8', false);
    expect(parseWith(dialect, semicolons)).toEqual([
      ['Jahr', 'Betrag'],
      ['2016', '1.234,56'],
      ['2017', '99,5'],
    ]);
  });

  it('the detected quote keeps delimiters inside quoted fields', () => {
    const text = 'name;amount\n"Smith; John";"1,5"\n';
    const { dialect } = resolveDialect(DEFAULT_DIALECT, new Set(), enc.encode(text), 'utf-8', false);
    expect(parseWith(dialect, text)).toEqual([
      ['name', 'amount'],
      ['Smith; John', '1,5'],
    ]);
  });

  it('reads the declared keys from the descriptor as given', () => {
    expect([...declared({ delimiter: ';', header: false })]).toEqual(['delimiter', 'header']);
    expect([...declaredDialectKeys({})]).toEqual([]);
    expect([...declaredDialectKeys({ resources: [{ dialect: 'x' }] })]).toEqual([]);
  });
});
