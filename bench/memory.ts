/**
 * Memory benchmark of the loader's data path (npm run bench:memory -- [--bytes N] [--caps 128,64] [--batch 5000]):
 * generates a CSV of N bytes on the fly (default 1 GiB; the shape of bench/load.ts) and pushes it in 64 KiB
 * chunks through the loader's own modules, as src/queue/loader.ts does: CsvParser -> the package's row caster
 * (prepareLoad) -> batches of OS_LOADER_BATCH_ROWS rows -> COPY text bytes (copy-in.ts). There is no database:
 * an encoded batch is kept "in flight" until the next one is ready (the loader writes one batch while it parses
 * the next) and then dropped, as it is once written.
 *
 * Each run is a child `node --max-heap-size=<cap> --import tsx` process (the whole V8 heap, young generation
 * included; `--max-old-space-size=128` alone allows 176 MiB): if the pipeline's live data outgrew the cap, V8
 * would abort with "JavaScript heap out of memory", so a completed run IS the demonstration. Byte buffers live
 * outside the V8 heap in Node (workerd counts them against the isolate), so the child also fails when the
 * sampled heapUsed + arrayBuffers exceeds the cap. `--retain` keeps every cast batch (a leak on purpose) to
 * show that the cap is really enforced.
 */
// The ambient types of os-types (pulled in by the loader core), which tsconfig.node.json does not include;
// a script .d.ts (`declare module`) cannot be imported, hence the reference.
// eslint-disable-next-line @typescript-eslint/triple-slash-reference
/// <reference path="../src/loader/os-types.d.ts" />
import { spawnSync } from 'node:child_process';
import { getHeapStatistics } from 'node:v8';
import { fileURLToPath } from 'node:url';
import { CsvParser, type ParsedRow } from '../src/loader/csv.ts';
import { copyText } from '../src/queue/copy-in.ts';
import { parseFiscalPackage, prepareLoad } from '../src/queue/plan.ts';
import { CSV_HEADER, csvRow, descriptor, FIELDS, prng } from './generate.ts';
import { option, positiveArg } from './lib/args.ts';

/** Size of each chunk pushed to the parser (a typical network read). */
const CHUNK_BYTES = 64 * 1024;
/** The loader's default OS_LOADER_BATCH_ROWS (src/config.ts). */
const DEFAULT_BATCH_ROWS = 5000;
const MiB = 1024 * 1024;

/** The generated CSV as 64 KiB chunks, at most `limit` bytes, ending at a row boundary. */
function* csvChunks(limit: number): Generator<Uint8Array> {
  const encoder = new TextEncoder();
  const rnd = prng(42);
  let pending = encoder.encode(CSV_HEADER);
  let total = pending.length;
  let row = 0;
  let done = false;
  while (!done) {
    // About one chunk of rows at a time, so never more than two chunks are held here.
    let text = '';
    while (text.length < CHUNK_BYTES) {
      const line = csvRow(row, rnd);
      if (total + text.length + line.length > limit) {
        done = true;
        break;
      }
      text += line;
      row++;
    }
    const bytes = encoder.encode(text); // ASCII: one byte per character
    total += bytes.length;
    const joined = new Uint8Array(pending.length + bytes.length);
    joined.set(pending);
    joined.set(bytes, pending.length);
    let at = 0;
    for (; joined.length - at >= CHUNK_BYTES; at += CHUNK_BYTES) yield joined.slice(at, at + CHUNK_BYTES);
    pending = joined.slice(at);
  }
  if (pending.length > 0) yield pending;
}

interface Peaks {
  heapUsed: number;
  rss: number;
  /** Buffers outside the V8 heap (chunks, parser buffer, COPY bytes): not capped by --max-old-space-size. */
  arrayBuffers: number;
  heapPlusBuffers: number;
}

/** One run of the data path in this process; prints its figures. */
async function child(): Promise<void> {
  const limit = positiveArg('bytes', 1024 * MiB);
  const capMiB = positiveArg('cap', 128);
  const batchRows = positiveArg('batch', DEFAULT_BATCH_ROWS);
  const retain = process.argv.includes('--retain');

  const peaks: Peaks = { heapUsed: 0, rss: 0, arrayBuffers: 0, heapPlusBuffers: 0 };
  const sample = (): void => {
    const m = process.memoryUsage();
    peaks.heapUsed = Math.max(peaks.heapUsed, m.heapUsed);
    peaks.rss = Math.max(peaks.rss, m.rss);
    peaks.arrayBuffers = Math.max(peaks.arrayBuffers, m.arrayBuffers);
    peaks.heapPlusBuffers = Math.max(peaks.heapPlusBuffers, m.heapUsed + m.arrayBuffers);
  };
  const timer = setInterval(sample, 250);

  const pkg = parseFiscalPackage(descriptor('bench-owner'));
  const plan = prepareLoad(pkg, 'bench_staging', 'bench_target');
  const parser = new CsvParser(pkg.resource.dialect, pkg.resource.encoding);
  let castRow: ((values: string[], row: number) => Array<string | null>) | null = null;

  let batch: Array<Array<string | null>> = [];
  // The batch being "written" while the next one is parsed (the loader's `pending`).
  let inFlight: Uint8Array | null = null;
  const retained: Array<Array<Array<string | null>>> = [];
  let rows = 0;
  let bytes = 0;
  let copyBytes = 0;
  let batches = 0;
  let lastEnd = 0;

  const flush = (): void => {
    if (batch.length === 0) return;
    // Same encoding as copyRows: COPY text, then its UTF-8 bytes.
    const data = Buffer.from(copyText(batch, batch.map(() => plan.copyPlain)), 'utf8');
    if (retain) retained.push(batch);
    batch = [];
    copyBytes += data.length;
    batches++;
    sample();
    inFlight = data; // the previous batch is written by now: dropped
  };
  const take = (parsed: ParsedRow[]): void => {
    if (parsed.length === 0) return;
    castRow ??= plan.caster(parser.header ?? null);
    for (const r of parsed) {
      batch.push(castRow(r.fields, r.row));
      rows++;
      lastEnd = r.end;
      if (batch.length >= batchRows) flush();
    }
  };

  const heapLimit = getHeapStatistics().heap_size_limit;
  console.log(
    `child: V8 heap limit ${(heapLimit / MiB).toFixed(0)} MiB (${process.execArgv.join(' ')}), ` +
      `${(limit / MiB).toFixed(0)} MiB CSV, batches of ${batchRows} rows${retain ? ', RETAINING every batch (leak on purpose)' : ''}`,
  );
  const started = performance.now();
  for (const chunk of csvChunks(limit)) {
    bytes += chunk.length;
    take(parser.push(chunk));
    // The loader awaits each network read; yielding here also lets the sampler run.
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
  take(parser.end());
  flush();
  inFlight = null;
  const seconds = (performance.now() - started) / 1000;
  clearInterval(timer);
  sample();

  if (lastEnd !== bytes) throw new Error(`last row ends at byte ${lastEnd}, but ${bytes} bytes were pushed`);
  const mb = (n: number) => (n / MiB).toFixed(1);
  console.log(`rows: ${rows.toLocaleString('en')} in ${batches.toLocaleString('en')} batches (${FIELDS.length} columns)`);
  console.log(`bytes: ${bytes.toLocaleString('en')} CSV (${mb(bytes)} MiB) -> ${copyBytes.toLocaleString('en')} COPY text`);
  console.log(`time: ${seconds.toFixed(1)} s, ${(bytes / 1e6 / seconds).toFixed(1)} MB/s, ${Math.round(rows / seconds).toLocaleString('en')} rows/s (generation included)`);
  console.log(
    `peak heapUsed ${mb(peaks.heapUsed)} MiB, peak arrayBuffers ${mb(peaks.arrayBuffers)} MiB, ` +
      `peak heapUsed+arrayBuffers ${mb(peaks.heapPlusBuffers)} MiB, peak rss ${mb(peaks.rss)} MiB`,
  );
  if (peaks.heapPlusBuffers > capMiB * MiB) {
    throw new Error(`heapUsed + arrayBuffers reached ${mb(peaks.heapPlusBuffers)} MiB, over the ${capMiB} MiB cap`);
  }
  console.log(
    `COMPLETED within a V8 heap limit of ${(heapLimit / MiB).toFixed(0)} MiB (no out-of-memory abort), ` +
      `heap + buffers below ${capMiB} MiB.`,
  );
  if (retained.length > 0) console.log(`(retained ${retained.length} batches)`);
  void inFlight;
}

/** Runs the data path once per cap, each in a child with that heap cap. */
function parent(): void {
  const caps = (option('caps') ?? '128,64').split(',').map((c) => {
    const v = Number(c);
    if (!Number.isInteger(v) || v < 16) throw new Error('--caps must list whole numbers of MB >= 16, e.g. 128,64');
    return v;
  });
  const forward = process.argv.slice(2).filter((a, i, all) => a !== '--caps' && all[i - 1] !== '--caps');
  const results: string[] = [];
  let failed = false;
  for (const cap of caps) {
    const args = [`--max-heap-size=${cap}`, '--import', 'tsx', fileURLToPath(import.meta.url), '--child', '--cap', String(cap), ...forward];
    console.log(`\n== node ${args.join(' ').replace(fileURLToPath(import.meta.url), 'bench/memory.ts')}`);
    const r = spawnSync(process.execPath, args, { stdio: 'inherit' });
    const ok = r.status === 0;
    failed ||= !ok;
    results.push(
      ok
        ? `cap ${cap} MB: completed (the data path stayed within the heap cap)`
        : `cap ${cap} MB: FAILED (exit ${r.status ?? '-'}, signal ${r.signal ?? '-'}; SIGABRT is V8's out-of-memory abort)`,
    );
  }
  console.log('');
  for (const line of results) console.log(line);
  process.exit(failed ? 1 : 0);
}

if (process.argv.includes('--child')) {
  child().then(
    () => process.exit(0),
    (err: Error) => {
      console.error(`bench: ${err.stack ?? err.message}`);
      process.exit(1);
    },
  );
} else {
  parent();
}
