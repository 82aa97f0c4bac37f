import { describe, expect, it } from 'vitest';
import ukCsv from '../../../shared/fixtures/fdp/uk-cra/dataset.csv?raw';
import { CsvError, CsvParser, type ParsedRow } from './csv';
import { DEFAULT_DIALECT, type CsvDialect } from './types';

const enc = new TextEncoder();

/** Parses `bytes` pushed in chunks of `chunkSize` bytes. */
function parse(
  bytes: Uint8Array,
  dialect: Partial<CsvDialect> = {},
  chunkSize = bytes.length || 1,
  encoding = 'utf-8',
  fastScan = true,
) {
  const parser = new CsvParser({ ...DEFAULT_DIALECT, ...dialect }, encoding, { fastScan });
  const rows: ParsedRow[] = [];
  for (let i = 0; i < bytes.length; i += chunkSize) rows.push(...parser.push(bytes.subarray(i, i + chunkSize)));
  rows.push(...parser.end());
  return { header: parser.header, rows };
}

const cases: Array<[string, string, Partial<CsvDialect>, string[], string[][], number[]]> = [
  ['plain LF rows', 'a,b\n1,2\n3,4\n', {}, ['a', 'b'], [['1', '2'], ['3', '4']], [8, 12]],
  ['CRLF rows', 'a,b\r\n1,2\r\n3,4\r\n', {}, ['a', 'b'], [['1', '2'], ['3', '4']], [10, 15]],
  ['old Mac CR rows', 'a,b\r1,2\r3,4', {}, ['a', 'b'], [['1', '2'], ['3', '4']], [8, 11]],
  ['no final line break', 'a,b\n1,2', {}, ['a', 'b'], [['1', '2']], [7]],
  ['a UTF-8 BOM is dropped from the first header', '\ufeffa,b\n1,2\n', {}, ['a', 'b'], [['1', '2']], [11]],
  ['quoted delimiter and newline', 'a,b\n"x,y","l1\nl2"\n', {}, ['a', 'b'], [['x,y', 'l1\nl2']], [18]],
  ['doubled quotes', 'a\n"say ""hi"""\n', {}, ['a'], [['say "hi"']], [15]],
  ['quote inside an unquoted field is literal', 'a,b\n5" tv,x\n', {}, ['a', 'b'], [['5" tv', 'x']], [12]],
  ['empty fields and trailing delimiter', 'a,b,c\n,,\n', {}, ['a', 'b', 'c'], [['', '', '']], [9]],
  ['blank lines are skipped', 'a\n\n1\n\n', {}, ['a'], [['1']], [5]],
  ['semicolon delimiter', 'a;b\n1,5;2\n', { delimiter: ';' }, ['a', 'b'], [['1,5', '2']], [10]],
  ['tab delimiter', 'a\tb\n1\t2\n', { delimiter: '\t' }, ['a', 'b'], [['1', '2']], [8]],
  ['custom quote char', "a,b\n'x,y',z\n", { quoteChar: "'" }, ['a', 'b'], [['x,y', 'z']], [12]],
  ['escapeChar without doubleQuote', 'a,b\n"x\\"y",1\\,2\n', { escapeChar: '\\', doubleQuote: false }, ['a', 'b'], [['x"y', '1,2']], [16]],
  ['skipInitialSpace', 'a, b\n1, "2"\n', { skipInitialSpace: true }, ['a', 'b'], [['1', '2']], [12]],
  ['spaces kept without skipInitialSpace', 'a, b\n1, 2\n', {}, ['a', ' b'], [['1', ' 2']], [10]],
  ['multi-byte UTF-8 text', 'név,összeg\nÁrvíztűrő,€1\n', {}, ['név', 'összeg'], [['Árvíztűrő', '€1']], [32]],
  ['no header row', '1,2\n3,4\n', { header: false }, [], [['1', '2'], ['3', '4']], [4, 8]],
];

// Every case runs on both row finders: native byte searches (the default) and the byte loop.
describe.each([true, false])('CsvParser (fastScan %s) parses every dialect the same whatever the chunking', (fastScan) => {
  it.each(cases)('%s', (_name, text, dialect, header, rows, ends) => {
    const bytes = enc.encode(text);
    for (const chunk of [bytes.length, 1, 2, 3, 7]) {
      const out = parse(bytes, dialect, chunk, 'utf-8', fastScan);
      expect(out.header ?? []).toEqual(header);
      expect(out.rows.map((r) => r.fields)).toEqual(rows);
      expect(out.rows.map((r) => r.end)).toEqual(ends);
      expect(out.rows.map((r) => r.row)).toEqual(rows.map((_, i) => i + 1));
    }
  });
});

describe.each([true, false])('CsvParser (fastScan %s) rejects what is not CSV with the row number', (fastScan) => {
  const errors: Array<[string, string | Uint8Array, Partial<CsvDialect>, string, RegExp, number]> = [
    ['a row with more fields than the header', 'a,b\n1,2\n1,2,3\n', {}, 'utf-8', /data row 2 has 3 fields but the header has 2/, 2],
    ['a row with fewer fields', 'a,b,c\n1,2\n', {}, 'utf-8', /data row 1 has 2 fields/, 1],
    ['an HTML page', '<!DOCTYPE html><html><body>Not found</body></html>', {}, 'utf-8', /HTML/, 0],
    ['binary data with NULs', new Uint8Array([0x61, 0x2c, 0x62, 0x0a, 0x00, 0x01, 0x0a]), {}, 'utf-8', /NUL bytes/, 1],
    ['an unclosed quote', 'a,b\n1,"2\n3,4\n', {}, 'utf-8', /never closed/, 1],
    ['invalid UTF-8', new Uint8Array([0x61, 0x0a, 0xff, 0xfe, 0x41, 0x0a]), {}, 'utf-8', /data row 1 is not valid utf-8/, 1],
    ['UTF-16 text', new Uint8Array([0xff, 0xfe, 0x61, 0x00]), {}, 'utf-8', /UTF-16/, 0],
    ['a multi-byte encoding', 'a\n1\n', {}, 'utf-16le', /unsupported encoding/, 0],
    ['a multi-character delimiter', 'a\n1\n', { delimiter: '||' }, 'utf-8', /delimiter must be a single ASCII character/, 0],
  ];
  it.each(errors)('%s', (_name, input, dialect, encoding, message, row) => {
    const bytes = typeof input === 'string' ? enc.encode(input) : input;
    let caught: unknown;
    try {
      parse(bytes, dialect, bytes.length || 1, encoding, fastScan);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(CsvError);
    expect((caught as CsvError).message).toMatch(message);
    expect((caught as CsvError).row).toBe(row);
  });

  it('refuses a runaway row longer than the limit', () => {
    const parser = new CsvParser(DEFAULT_DIALECT, 'utf-8', { maxRowBytes: 64, fastScan });
    parser.push(enc.encode('a\n'));
    expect(() => parser.push(enc.encode(`"${'x'.repeat(100)}`))).toThrow(/longer than 64 bytes/);
  });
});

describe.each([true, false])('CsvParser (fastScan %s) with passBadRows hands bad rows on for a report', (fastScan) => {
  const lenient = (bytes: Uint8Array) => {
    const parser = new CsvParser(DEFAULT_DIALECT, 'utf-8', { fastScan, passBadRows: true });
    return [...parser.push(bytes), ...parser.end()];
  };

  it('rows of the wrong width keep their values, the next rows follow', () => {
    const rows = lenient(enc.encode('a,b\n1,2,3\n4\n5,6\n'));
    expect(rows.map((r) => [r.row, r.fields])).toEqual([[1, ['1', '2', '3']], [2, ['4']], [3, ['5', '6']]]);
  });

  it('a data row with bytes invalid in the encoding is marked, and reading goes on', () => {
    const rows = lenient(new Uint8Array([0x61, 0x0a, 0xff, 0x41, 0x0a, 0x42, 0x0a]));
    expect(rows.map((r) => [r.row, r.fields, r.encodingError])).toEqual([
      [1, ['\ufffdA'], 'data row 1 is not valid utf-8 text (set the resource\'s "encoding")'],
      [2, ['B'], undefined],
    ]);
  });

  it('a header with invalid bytes still stops the parse', () => {
    expect(() => lenient(new Uint8Array([0xff, 0x0a, 0x41, 0x0a]))).toThrow(/the header row is not valid utf-8/);
  });
});

describe('CsvParser strips a BOM split over tiny chunks', () => {
  it('even when the first chunk is empty', () => {
    const parser = new CsvParser();
    const rows = [parser.push(new Uint8Array(0)), parser.push(new Uint8Array([0xef])), parser.push(new Uint8Array([0xbb, 0xbf, 0x61, 0x0a, 0x31]))].flat();
    rows.push(...parser.end());
    expect(parser.header).toEqual(['a']);
    expect(rows).toEqual([{ fields: ['1'], end: 6, row: 1 }]);
  });
});

describe('CsvParser decodes single-byte encodings', () => {
  it('reads latin1 text', () => {
    const bytes = new Uint8Array([0x6e, 0xe9, 0x0a, 0x63, 0x61, 0x66, 0xe9, 0x0a]);
    const out = parse(bytes, {}, 3, 'latin1');
    expect(out.header).toEqual(['né']);
    expect(out.rows[0]?.fields).toEqual(['café']);
  });
});

describe('CsvParser resumes from a byte offset', () => {
  it('continues with the same rows, ends and numbers as a full parse', () => {
    const bytes = enc.encode(ukCsv);
    const full = parse(bytes, {}, 65536);
    expect(full.rows.length).toBe(2000);
    const checkpoint = full.rows[1233] as ParsedRow;
    const resumed = new CsvParser(DEFAULT_DIALECT, 'utf-8', {
      startOffset: checkpoint.end,
      rowsBefore: checkpoint.row,
      expectedFields: full.header?.length,
    });
    const tail = [...resumed.push(bytes.subarray(checkpoint.end)), ...resumed.end()];
    expect(resumed.header).toBeUndefined();
    expect(tail).toEqual(full.rows.slice(1234));
    expect(tail.at(-1)?.end).toBe(bytes.length);
  });
});

/**
 * The rows without their `plain` mark (only the native searches set it),
 * after checking the mark's promise: a plain row's fields hold no character
 * COPY's text format escapes.
 */
function unmarked(rows: ParsedRow[]): ParsedRow[] {
  return rows.map(({ plain, ...row }) => {
    if (plain) expect(row.fields.filter((f) => /[\\\t\r\n]/.test(f)), JSON.stringify(row)).toEqual([]);
    return row;
  });
}

describe('CsvParser marks rows whose fields need no COPY escaping', () => {
  const marks = (text: string, dialect: Partial<CsvDialect> = {}) => parse(enc.encode(text), dialect).rows.map((r) => r.plain === true);
  it.each([
    ['plain and quoted rows', 'a,b\n1,"x,y"\n2,z\n', {}, [true, true]],
    ['a line feed inside quotes', 'a,b\n1,"x\ny"\n2,z\n', {}, [false, true]],
    ['a backslash marks its group of rows', 'a,b\n1,x\\y\n2,z\n', {}, [false, false]],
    ['a tab in a comma-separated file', 'a,b\n1,x\ty\n', {}, [false]],
    ['tab-delimited: unquoted rows only', 'a\tb\n1\t"x y"\n2\tz\n', { delimiter: '\t' }, [false, true]],
    ['CRLF rows', 'a,b\r\n1,"x,y"\r\n', {}, [true]],
  ] as Array<[string, string, Partial<CsvDialect>, boolean[]]>)('%s', (_name, text, dialect, expected) => {
    expect(marks(text, dialect)).toEqual(expected);
  });
});

describe('CsvParser finds the same rows with native searches as with the byte loop', () => {
  /** A small deterministic PRNG (the same inputs every run). */
  function prng(seed: number): () => number {
    let x = seed >>> 0;
    return () => {
      x = (x * 1664525 + 1013904223) >>> 0;
      return x / 2 ** 32;
    };
  }
  const PIECES = ['a', 'bc', ',', ',', '"', '""', '\n', '\r\n', '\r', ' ', 'é', 'x"y', '"q,\nr"', '\t'];
  const dialects: Array<Partial<CsvDialect>> = [{}, { skipInitialSpace: true }, { doubleQuote: false }, { delimiter: '\t' }, { header: false }];

  it.each([65_537, 262_144])('a real 1.25 MB file in pushes of %i bytes: same rows, values and offsets', (chunk) => {
    const bytes = enc.encode(ukCsv);
    const ascii = enc.encode([...ukCsv].map((c) => (c.charCodeAt(0) < 0x80 ? c : '?')).join(''));
    for (const input of [bytes, ascii]) {
      const fast = parse(input, {}, chunk, 'utf-8', true);
      const reference = parse(input, {}, chunk, 'utf-8', false);
      expect(fast.rows.length).toBe(2000);
      expect(fast.header).toEqual(reference.header);
      expect(unmarked(fast.rows)).toEqual(reference.rows);
    }
  });

  it.each(dialects.map((d) => [JSON.stringify(d), d] as const))('random CSV text, dialect %s, random chunks', (_, dialect) => {
    const rnd = prng(7);
    for (let round = 0; round < 300; round++) {
      let text = 'h1,h2,h3\n';
      const len = 1 + Math.floor(rnd() * 60);
      for (let k = 0; k < len; k++) text += PIECES[Math.floor(rnd() * PIECES.length)];
      const bytes = enc.encode(text);
      const chunk = 1 + Math.floor(rnd() * 12);
      const outcome = (fastScan: boolean) => {
        try {
          const out = parse(bytes, dialect, chunk, 'utf-8', fastScan);
          return { header: out.header, rows: unmarked(out.rows) };
        } catch (error) {
          return { error: (error as Error).message };
        }
      };
      expect(outcome(true), JSON.stringify({ text, chunk })).toEqual(outcome(false));
    }
  });
});

// Speed is measured by `npm run bench:load`, not asserted here.
describe('CsvParser on large input', () => {
  it('parses a 20 MB file pushed in large chunks into exactly its rows', () => {
    const row = '2014,Central,101,"Parliament, the ""House""",0101,49756100,51906100.25,Personnel costs\n';
    const plain = '2014,Central,101,Parliament,0101,49756100,51906100.25,Personnel costs of ministries\n';
    const block = enc.encode((row + plain.repeat(3)).repeat(2500));
    const header = enc.encode('a,b,c,d,e,f,g,h\n');
    const parser = new CsvParser();
    let rows = parser.push(header).length;
    let bytes = header.length;
    while (bytes < 20e6) {
      rows += parser.push(block).length;
      bytes += block.length;
    }
    rows += parser.end().length;
    expect(rows).toBe(Math.ceil((20e6 - header.length) / block.length) * 10000);
  });
});
