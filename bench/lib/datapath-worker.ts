/**
 * A Worker used only by bench/datapath.ts: runs stages of the loader's data
 * path (CSV parsing, row casting, COPY text) on a generated CSV held in
 * memory, so their cost can be measured inside workerd from outside (time
 * inside a Worker does not advance while it computes).
 */
import { CopyBuffer } from '../../src/loader/copy-bytes.ts';
import { CsvParser, type ParsedRow } from '../../src/loader/csv.ts';
import { blockReader } from '../../src/http/block-reader.ts';
import { copyText } from '../../src/queue/copy-in.ts';
import { parseFiscalPackage, prepareLoad } from '../../src/queue/plan.ts';
import { CSV_HEADER, csvRow, descriptor, prng } from '../generate.ts';

const ENCODER = new TextEncoder();
let chunks: Uint8Array[] = [];
let generatedRows = 0;

function generate(rows: number): void {
  if (generatedRows === rows) return;
  const rnd = prng(42);
  const encoder = new TextEncoder();
  chunks = [];
  let text = CSV_HEADER;
  for (let i = 0; i < rows; i++) {
    text += csvRow(i, rnd);
    if (text.length >= 64 * 1024) {
      chunks.push(encoder.encode(text));
      text = '';
    }
  }
  chunks.push(encoder.encode(text));
  generatedRows = rows;
}

/** Reads `source` (an HTTP URL of the CSV) as the loader does, in blocks (src/http/block-reader.ts). */
async function readSource(source: string, onBlock: (block: Uint8Array) => void): Promise<number> {
  const res = await fetch(source);
  const reader = blockReader(res.body as ReadableStream<Uint8Array>, { minBytes: 64 * 1024, maxBytes: 256 * 1024, idleMs: 60_000, sender: 'the data file' });
  let reads = 0;
  for (let block = await reader.read(); block; block = await reader.read()) {
    reads++;
    onBlock(block);
  }
  return reads;
}

export default {
  async fetch(request: Request): Promise<Response> {
    const url = new URL(request.url);
    const source = url.searchParams.get('source');
    const rows = Number(url.searchParams.get('rows') ?? 100_000);
    const stage = url.searchParams.get('stage') ?? 'generate';
    generate(rows);
    if (stage === 'generate') return Response.json({ rows });
    const pkg = parseFiscalPackage(descriptor('bench'));
    const plan = prepareLoad(pkg, 'bench_staging', 'bench_target');
    const parser = new CsvParser(pkg.resource.dialect, pkg.resource.encoding);
    let castRow: ((values: string[], row: number) => Array<string | null>) | null = null;
    // Stage "bytes": the loader's fast path (rows the transcoder takes never become strings), cut in batches as the writer does.
    let out = new CopyBuffer();
    let inBatch = 0;
    let batch: Array<Array<string | null>> = [];
    let masks: Array<readonly boolean[]> = [];
    let count = 0;
    let bytes = 0;
    const take = (parsed: ParsedRow[]): void => {
      count += parsed.length;
      if (stage === 'parse') return;
      if (!castRow && stage === 'bytes') {
        const transcode = plan.transcoder(parser.header ?? null, pkg.resource.dialect, pkg.resource.encoding);
        if (!transcode) throw new Error('no fast path for the bench package');
        parser.setRowTaker((b, start, stop, quoted, row) => {
          if (!transcode(b, start, stop, quoted, row, out)) return false;
          count++;
          if (++inBatch >= 5000) {
            bytes += out.length;
            out = new CopyBuffer(out.length + 1024);
            inBatch = 0;
          }
          return true;
        });
      }
      castRow ??= plan.caster(parser.header ?? null);
      for (const r of parsed) {
        const row = castRow(r.fields, r.row);
        if (stage === 'copy' || stage === 'bytes') {
          batch.push(row);
          masks.push(r.plain ? plan.copyPlainInPlainRow : plan.copyPlain);
          if (batch.length >= 5000) {
            bytes += ENCODER.encode(copyText(batch, masks)).length;
            batch = [];
            masks = [];
          }
        }
      }
    };
    if (source) {
      let bytesRead = 0;
      const reads = await readSource(source, (chunk) => {
        bytesRead += chunk.byteLength;
        if (stage !== 'read') take(parser.push(chunk));
      });
      if (stage === 'read') return Response.json({ rows, reads, bytesRead });
      take(parser.end());
      if (batch.length) bytes += ENCODER.encode(copyText(batch, masks)).length;
      bytes += out.length;
      return Response.json({ rows: count, bytes, reads });
    }
    for (const chunk of chunks) take(parser.push(chunk));
    take(parser.end());
    if (batch.length) bytes += ENCODER.encode(copyText(batch, masks)).length;
    bytes += out.length;
    return Response.json({ rows: count, bytes });
  },
};
