/**
 * Data-path benchmark (npm run bench:datapath -- [--rows N] [--runs K]):
 * the CPU cost per row of the loader's stages, inside workerd (the runtime
 * the Worker runs on, started through Miniflare) and in Node, on the rows
 * of bench/generate.ts held in memory, and in workerd reading the same CSV
 * over loopback HTTP in blocks as the loader does. No database (bench:load
 * measures the whole load with its CPU split by process).
 *
 * Stages are cumulative: parse (CsvParser), cast (+ the package's row
 * caster), copy (+ COPY text encoded to UTF-8 in 5,000-row batches); and
 * bytes, what the loader does: the byte-level fast path from CSV rows to
 * COPY bytes (src/loader/copy-bytes.ts), the string path for the rows it
 * leaves.
 * Each figure is the best of K runs (wall time of one request).
 */
import { Miniflare } from 'miniflare';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CSV_HEADER, csvRow, prng } from './generate.ts';
import worker from './lib/datapath-worker.ts';
import { positiveArg } from './lib/args.ts';
import { bundleWorker, compatibilityDate } from './lib/runtime.ts';

const STAGES = ['parse', 'cast', 'copy', 'bytes'] as const;

async function best(runs: number, once: () => Promise<void>): Promise<number> {
  let min = Infinity;
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    await once();
    min = Math.min(min, performance.now() - t);
  }
  return min;
}

async function main(): Promise<void> {
  const rows = positiveArg('rows', 200_000);
  const runs = positiveArg('runs', 5);
  // Bundled by wrangler itself, exactly as the Worker is (nodejs_compat aliases included).
  const out = mkdtempSync(join(tmpdir(), 'os-datapath-'));
  const config = join(out, 'wrangler.json');
  writeFileSync(
    config,
    JSON.stringify({
      name: 'datapath-bench',
      main: fileURLToPath(new URL('./lib/datapath-worker.ts', import.meta.url)),
      compatibility_date: compatibilityDate(),
      compatibility_flags: ['nodejs_compat'],
    }),
  );
  bundleWorker(join(out, 'dist'), config);
  const script = readFileSync(join(out, 'dist', 'datapath-worker.js'), 'utf8');
  rmSync(out, { recursive: true, force: true });
  const mf = new Miniflare({
    modules: true,
    script,
    compatibilityDate: compatibilityDate(),
    compatibilityFlags: ['nodejs_compat'],
  });
  // The same CSV served over HTTP on loopback, to measure reading it as the loader does.
  let csv = CSV_HEADER;
  const rnd = prng(42);
  const parts: string[] = [];
  for (let i = 0; i < rows; i++) parts.push(csvRow(i, rnd));
  csv += parts.join('');
  const file = Buffer.from(csv);
  const server = createServer((_, res) => {
    res.writeHead(200, { 'content-type': 'text/csv', 'content-length': file.length });
    res.end(file);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const source = `http://127.0.0.1:${(server.address() as AddressInfo).port}/data.csv`;
  try {
    const call = async (stage: string, extra = ''): Promise<void> => {
      const res = await mf.dispatchFetch(`http://bench/?stage=${stage}&rows=${rows}${extra}`);
      const body = (await res.json()) as { rows: number };
      if (body.rows !== rows) throw new Error(`${stage}: ${JSON.stringify(body)}`);
    };
    await call('generate');
    const fromHttp = `&source=${encodeURIComponent(source)}`;
    for (const stage of ['read', 'copy', 'bytes']) {
      const ms = await best(runs, () => call(stage, fromHttp));
      console.log(`over HTTP (loopback), ${stage === 'read' ? 'read only' : stage === 'copy' ? 'read + parse + cast + COPY text' : 'read + the fast path to COPY bytes'}: ${((ms * 1000) / rows).toFixed(2)} µs/row`);
    }
    const results: Record<string, { workerd: number; node: number }> = {};
    for (const stage of STAGES) {
      const workerd = await best(runs, () => call(stage));
      const node = await best(runs, async () => {
        const res = await worker.fetch(new Request(`http://bench/?stage=${stage}&rows=${rows}`));
        const body = (await res.json()) as { rows: number };
        if (body.rows !== rows) throw new Error(`${stage}: ${JSON.stringify(body)}`);
      });
      results[stage] = { workerd, node };
    }
    console.log(`${rows.toLocaleString('en')} rows of bench/generate.ts, best of ${runs} (µs per row, cumulative stages)`);
    console.log('stage      workerd      Node');
    for (const stage of STAGES) {
      const r = results[stage] as { workerd: number; node: number };
      const us = (ms: number) => ((ms * 1000) / rows).toFixed(2).padStart(8);
      console.log(`${stage.padEnd(8)} ${us(r.workerd)}  ${us(r.node)}`);
    }
    const copy = results.bytes as { workerd: number };
    console.log(`ceiling of the data path in workerd: ${Math.round(rows / (copy.workerd / 1000)).toLocaleString('en')} rows/s`);
  } finally {
    server.close();
    await mf.dispose();
  }
}

main().then(
  () => process.exit(0),
  (err: Error) => {
    console.error(`bench: ${err.stack ?? err.message}`);
    process.exit(1);
  },
);
