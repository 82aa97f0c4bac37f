/**
 * Fault soak with random seeds (npm run bench:soak -- --schedules N [--seed S]):
 * runs the soak test file (test/soak/soak.test.ts) through vitest for N
 * schedules from seed S (random when omitted) and prints how many ran and
 * passed, the failures per invariant and the failing seeds, to replay with
 * `npm run bench:soak -- --schedules 1 --seed <seed>`.
 */
import { spawn } from 'node:child_process';
import { option, positiveArg } from './lib/args.ts';

const SCHEDULES = positiveArg('schedules', 200);
const SEED = option('seed') === undefined ? 1 + Math.floor(Math.random() * 2 ** 30) : positiveArg('seed', 1);

interface Result {
  seed: number;
  broken: Array<{ invariant: string; detail: string }>;
  ms: number;
}

const started = Date.now();
const child = spawn('npx', ['vitest', 'run', '--project', 'workers', 'test/soak/soak.test.ts'], {
  env: {
    ...process.env,
    OS_SOAK_SCHEDULES: String(SCHEDULES),
    OS_SOAK_SEED: String(SEED),
    OS_TEST_SKIP_OPENSEARCH: process.env.OS_TEST_SKIP_OPENSEARCH ?? '1',
  },
  stdio: ['ignore', 'pipe', 'pipe'],
});

const results: Result[] = [];
let rest = '';
const verbose = process.env.BENCH_VERBOSE === '1';
child.stdout.on('data', (chunk: Buffer) => {
  const lines = (rest + chunk.toString()).split('\n');
  rest = lines.pop() ?? '';
  for (const line of lines) {
    if (verbose) console.log(line);
    const at = line.indexOf('SOAK {');
    if (at < 0) continue;
    const result = JSON.parse(line.slice(at + 5)) as Result;
    results.push(result);
    if (results.length % 25 === 0) console.error(`… ${results.length}/${SCHEDULES} schedules`);
  }
});
child.stderr.on('data', (chunk: Buffer) => {
  if (verbose) process.stderr.write(chunk);
});

const code: number = await new Promise((resolve) => child.on('close', (c) => resolve(c ?? 1)));
const failed = results.filter((r) => r.broken.length > 0);
const perInvariant = new Map<string, number[]>();
for (const r of failed) {
  for (const invariant of new Set(r.broken.map((b) => b.invariant))) {
    perInvariant.set(invariant, [...(perInvariant.get(invariant) ?? []), r.seed]);
  }
}
console.log(`seeds ${SEED}..${SEED + SCHEDULES - 1}`);
console.log(`schedules run: ${results.length} of ${SCHEDULES}${results.length < SCHEDULES ? ' (the others timed out or crashed: rerun with BENCH_VERBOSE=1)' : ''}`);
console.log(`passed: ${results.length - failed.length}`);
console.log(`failed: ${failed.length}`);
for (const [invariant, seeds] of [...perInvariant].sort((a, b) => b[1].length - a[1].length)) {
  console.log(`  ${invariant}: ${seeds.length} (seeds ${seeds.slice(0, 20).join(', ')}${seeds.length > 20 ? ', …' : ''})`);
}
for (const r of failed) {
  console.log(`seed ${r.seed}: ${r.broken.map((b) => `[${b.invariant}] ${b.detail}`).join("; ").slice(0, 400)}`);
}
const ms = results.map((r) => r.ms).sort((a, b) => a - b);
console.log(
  `time: ${((Date.now() - started) / 1000).toFixed(0)} s in all; per schedule median ${ms[Math.floor(ms.length / 2)] ?? 0} ms, worst ${ms.at(-1) ?? 0} ms`,
);
process.exitCode = failed.length > 0 || results.length < SCHEDULES ? 1 : code;
