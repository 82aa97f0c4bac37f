import { describe, expect, it } from 'vitest';
import { createRowCaster, type CastOptions } from './cast';
import { CopyBuffer, createRowTranscoder, utf8SequenceLength } from './copy-bytes';
import { CsvParser } from './csv';
import { copyLine } from '../queue/copy-in';
import { DEFAULT_DIALECT, type CsvDialect, type Field } from './types';

const enc = new TextEncoder();

const FIELDS: Field[] = [
  { name: 's', type: 'string' },
  { name: 'i', type: 'integer' },
  { name: 'n', type: 'number' },
  { name: 'd', type: 'date' },
  { name: 'b', type: 'boolean' },
  { name: 'y', type: 'year' },
  { name: 'r', type: 'string', constraints: { required: true } },
  { name: 'm', type: 'string', missingValues: ['-', '"x"'] },
] as Field[];
// The CSV's own column order differs from the schema's and has a column the schema lacks.
const HEADER = ['y', 'b', 'extra', 's', 'n', 'd', 'i', 'r', 'm'];

const VALUES: Record<string, string[]> = {
  s: ['plain', 'a,b', 'say "hi"', 'tab\there', 'line\nbreak', 'back\\slash', 'Jöhn €', '', 'NA', '\u{1F600}'],
  i: ['12', '-7', '0', '007', '1e3', '', ' 12', '123456789012345678', '1234567890123456789', '-', 'NA'],
  n: ['1.5', '-0.25', '1,000.5', '.5', '1.', '', '12', '-0', '0.000', '1.2.3'],
  d: ['2014-01-31', '2014-02-29', '2016-02-29', '2014-1-3', '', '2014-13-01', '0000-01-01', '2014-04-31'],
  b: ['true', 'False', '1', '0', 'yes', '', 'TRUE'],
  y: ['2014', '0', '0201', '-5', '12345', ''],
  extra: ['anything', '"quoted, with comma"'],
  r: ['x', '', 'NA'],
  m: ['-', 'x', '"x"', ''],
};

/** A small deterministic PRNG (the same rows every run). */
function prng(seed: number): () => number {
  let x = seed >>> 0;
  return () => {
    x = (x * 1664525 + 1013904223) >>> 0;
    return x / 2 ** 32;
  };
}

/** One CSV field: quoted when it must be, and sometimes when it need not. */
function csvField(value: string, rnd: () => number, dialect: CsvDialect): string {
  const q = dialect.quoteChar;
  const must = value.includes(dialect.delimiter) || value.includes(q) || value.includes('\n');
  return must || rnd() < 0.2 ? q + value.split(q).join(q + q) + q : value;
}

/** The reference: the row read by the string path and written by copyLine, or null where the caster refuses it. */
function reference(bytes: Uint8Array, dialect: CsvDialect, options: CastOptions): Uint8Array | null {
  const parser = new CsvParser(dialect, 'utf-8', { fastScan: false, passBadRows: true });
  const rows = [...parser.push(bytes), ...parser.end()];
  const row = rows[0];
  if (!row || rows.length !== 1 || row.encodingError !== undefined) return null;
  const cast = createRowCaster(FIELDS, { ...options, header: parser.header }, { rowNumberFirst: true });
  try {
    return enc.encode(copyLine(cast(row.fields, 7)));
  } catch {
    return null;
  }
}

/** The transcoder's output for the data row of `bytes` (header line first), or null. */
function transcoded(bytes: Uint8Array, dialect: CsvDialect, options: CastOptions): Uint8Array | null {
  const transcode = createRowTranscoder(FIELDS, { ...options, header: HEADER }, dialect, 'utf-8');
  if (!transcode) throw new Error('no transcoder');
  const start = bytes.indexOf(0x0a) + 1;
  let stop = bytes.length;
  while (stop > start && (bytes[stop - 1] === 0x0a || bytes[stop - 1] === 0x0d)) stop--;
  const out = new CopyBuffer(16);
  out.append(enc.encode('kept\n'));
  const quoted = bytes.subarray(start, stop).includes(dialect.quoteChar.charCodeAt(0));
  const ok = transcode(bytes, start, stop, quoted, 7, out);
  const written = out.view();
  // A refused row leaves the buffer as it was.
  if (!ok) {
    expect(new TextDecoder().decode(written)).toBe('kept\n');
    return null;
  }
  return written.slice(5);
}

describe('createRowTranscoder writes what the caster and copyLine would, byte for byte', () => {
  const options: CastOptions = { missingValues: ['', 'NA'] };
  const dialects: Array<Partial<CsvDialect>> = [{}, { delimiter: ';' }, { delimiter: '\t' }, { quoteChar: "'" }];

  it.each(dialects.map((d) => [JSON.stringify(d), d] as const))('random rows, dialect %s', (_, partial) => {
    const dialect = { ...DEFAULT_DIALECT, ...partial };
    const rnd = prng(11);
    let accepted = 0;
    for (let round = 0; round < 3000; round++) {
      const line = HEADER.map((h) => {
        const pool = VALUES[h] as string[];
        return csvField(pool[Math.floor(rnd() * pool.length)] as string, rnd, dialect);
      });
      const bytes = enc.encode(`${HEADER.join(dialect.delimiter)}\n${line.join(dialect.delimiter)}${rnd() < 0.5 ? '\n' : '\r\n'}`);
      const expected = reference(bytes, dialect, options);
      const got = transcoded(bytes, dialect, options);
      if (got) {
        accepted++;
        expect(expected, new TextDecoder().decode(bytes)).not.toBeNull();
        expect(new TextDecoder().decode(got), new TextDecoder().decode(bytes)).toBe(new TextDecoder().decode(expected as Uint8Array));
      }
    }
    // Not vacuous: the fast path takes the rows whose every value is canonical (about 1 in 70 of these).
    expect(accepted).toBeGreaterThan(25);
  });

  it.each([
    ['canonical values', '2014,true,z,plain,1.5,2014-01-31,12,x,-', '7\tplain\t12\t1.5\t2014-01-31\ttrue\t2014\tx\t\\N\n'],
    ['missing values (the empty string is not one of m\'s)', ',,z,NA,,,,x,', '7\t\\N\t\\N\t\\N\t\\N\t\\N\t\\N\tx\t\n'],
    ['escapes and doubled quotes', '2014,0,z,"a\tb ""q""",1,2014-01-31,1,"l1\nl2",x', '7\ta\\tb "q"\t1\t1\t2014-01-31\tfalse\t2014\tl1\\nl2\tx\n'],
    ['multi-byte text', '2014,1,z,Jöhn €,1,2014-01-31,1,x,x', '7\tJöhn €\t1\t1\t2014-01-31\ttrue\t2014\tx\tx\n'],
  ])('%s', (_name, row, expected) => {
    const bytes = enc.encode(`${HEADER.join(',')}\n${row}\n`);
    const got = transcoded(bytes, DEFAULT_DIALECT, options);
    expect(got && new TextDecoder().decode(got)).toBe(expected);
    expect(new TextDecoder().decode(reference(bytes, DEFAULT_DIALECT, options) as Uint8Array)).toBe(expected);
  });

  it.each([
    ['a value the caster rewrites', '2014,yes,z,s,1,2014-01-31,1,x,x'],
    ['a missing required value', '2014,1,z,s,1,2014-01-31,1,,x'],
    ['a row of the wrong width', '2014,1,z,s,1,2014-01-31,1,x'],
    ['text after a closing quote', '2014,1,z,"s"t,1,2014-01-31,1,x,x'],
    ['an unclosed quote', '2014,1,z,"s,1,2014-01-31,1,x,x'],
  ])('refuses %s', (_name, row) => {
    expect(transcoded(enc.encode(`${HEADER.join(',')}\n${row}\n`), DEFAULT_DIALECT, options)).toBeNull();
  });

  it('refuses a row with bytes that are not UTF-8', () => {
    const head = enc.encode(`${HEADER.join(',')}\n2014,1,z,`);
    const tail = enc.encode(',1,2014-01-31,1,x,x\n');
    const bytes = new Uint8Array([...head, 0x61, 0xc3, 0x28, ...tail]);
    expect(reference(bytes, DEFAULT_DIALECT, options)).toBeNull();
    expect(transcoded(bytes, DEFAULT_DIALECT, options)).toBeNull();
  });
});

describe('createRowTranscoder applies only where the caster keeps canonical values as they are', () => {
  const base: Field[] = [{ name: 'a', type: 'number' } as Field];
  it.each([
    ['a scaled measure', base, { factors: { a: 1000 } }, DEFAULT_DIALECT, 'utf-8'],
    ['a date format', [{ name: 'a', type: 'date', format: '%d/%m/%Y' } as Field], {}, DEFAULT_DIALECT, 'utf-8'],
    ['a decimal comma', [{ name: 'a', type: 'number', decimalChar: ',' } as Field], {}, DEFAULT_DIALECT, 'utf-8'],
    ['JSON', [{ name: 'a', type: 'object' } as Field], {}, DEFAULT_DIALECT, 'utf-8'],
    ['datetime', [{ name: 'a', type: 'datetime' } as Field], {}, DEFAULT_DIALECT, 'utf-8'],
    ['legacy partial codes', base, { partialCodes: { a: ['a'] } }, DEFAULT_DIALECT, 'utf-8'],
    ['latin1', base, {}, DEFAULT_DIALECT, 'latin1'],
    ['skipped initial spaces', base, {}, { ...DEFAULT_DIALECT, skipInitialSpace: true }, 'utf-8'],
    ['an escape character', base, {}, { ...DEFAULT_DIALECT, escapeChar: '\\' }, 'utf-8'],
  ] as Array<[string, Field[], CastOptions, CsvDialect, string]>)('none for %s', (_name, fields, options, dialect, encoding) => {
    expect(createRowTranscoder(fields, options, dialect, encoding)).toBeNull();
  });

  it('one for a factor of 1 and the UTF-8 label "utf8"', () => {
    expect(createRowTranscoder(base, { factors: { a: 1 } }, DEFAULT_DIALECT, 'UTF8')).not.toBeNull();
  });
});

describe('utf8SequenceLength agrees with TextDecoder in fatal mode', () => {
  it('on every lead byte with random continuations', () => {
    const rnd = prng(3);
    const strict = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
    for (let lead = 0x80; lead <= 0xff; lead++) {
      for (let k = 0; k < 200; k++) {
        const seq = [lead, ...Array.from({ length: 3 }, () => (rnd() < 0.7 ? 0x80 + Math.floor(rnd() * 0x40) : Math.floor(rnd() * 256)))];
        const len = utf8SequenceLength(new Uint8Array(seq), 0, 4);
        let decodable = 0;
        for (const n of [2, 3, 4]) {
          try {
            strict.decode(new Uint8Array(seq.slice(0, n)));
            decodable = n;
            break;
          } catch {
            // not a whole sequence of n bytes
          }
        }
        expect(len, seq.map((b) => b.toString(16)).join(' ')).toBe(decodable);
      }
    }
  });
});
