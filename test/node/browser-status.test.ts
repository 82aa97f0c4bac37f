/**
 * The live status page in a real browser (Debian chromium via
 * playwright-core) during real loads through the Worker (wrangler's
 * workerd, local queue and Durable Objects, the test Postgres and S3): the
 * steps show in order, the bar reaches 100% at done, a failed load shows
 * its error. Screenshots are saved under .cache/artifacts/ (gitignored).
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { CSV_HEADER, csvRow, descriptor, prng } from '../../bench/generate.ts';
import { apiTokens, putPackageFiles, requestLoad } from '../../bench/lib/client.ts';
import { STATUSES } from '../../src/durable/status-machine.ts';
import { freePort } from '../../tools/services/util.ts';
import { startWorker, type RunningWorker } from './helpers/worker.ts';

const API_KEY = 'browser-status-test-key';
const OWNER = 'c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2';
const ARTIFACTS = join(import.meta.dirname, '../../.cache/artifacts');

let worker: RunningWorker;
let browser: Browser;
let token = '';

beforeAll(async () => {
  const bindings = inject('bindings');
  worker = await startWorker({
    baseUrl: `http://127.0.0.1:${await freePort()}`,
    bindings: {
      ...bindings,
      OS_CLIENT_API_KEYS: `${API_KEY}:${OWNER}`,
      OS_DEV_MODE: 'true',
      // Small batches: many progress updates in a load of a few seconds.
      OS_LOADER_BATCH_ROWS: '2000',
    },
  });
  token = (await apiTokens(worker.url, API_KEY)).permissionToken;
  browser = await chromium.launch({
    executablePath: bindings.OS_TEST_CHROMIUM || undefined,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-sync'],
  });
  mkdirSync(ARTIFACTS, { recursive: true });
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await worker?.stop();
});

function generatedCsv(rows: number, broken?: number): Uint8Array {
  const rnd = prng(7);
  const parts = [CSV_HEADER];
  for (let i = 0; i < rows; i++) {
    const line = csvRow(i, rnd);
    // A year that is not an integer (the first column), for a failing load.
    parts.push(i === broken ? line.replace(/^\d+/, 'twenty') : line);
  }
  return new TextEncoder().encode(parts.join(''));
}

/** Uploads a generated package, asks for its load and opens its status page at once. */
async function loadAndWatch(name: string, csv: Uint8Array): Promise<{ page: Page; url: string; problems: string[] }> {
  const urls = await putPackageFiles(worker.url, token, OWNER, name, {
    'budget.csv': csv,
    'datapackage.json': new TextEncoder().encode(JSON.stringify(descriptor(OWNER, name))),
  });
  const url = urls['datapackage.json'] as string;
  const page = await browser.newPage();
  // Anything the CSP refused, and script errors, show up here.
  const problems: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error' && !/Failed to load resource/.test(m.text())) problems.push(m.text());
  });
  page.on('pageerror', (e) => problems.push(e.message));
  // Records every state and bar value the page shows, from its first render on.
  await page.addInitScript(() => {
    const w = window as unknown as { __states: string[]; __bars: number[] };
    w.__states = [];
    w.__bars = [];
    const note = () => {
      const state = document.getElementById('state')?.textContent ?? '';
      if (state === '') return;
      if (w.__states.at(-1) !== state) w.__states.push(state);
      w.__bars.push(Number(document.getElementById('bar')?.getAttribute('aria-valuenow')));
    };
    new MutationObserver(note).observe(document, { subtree: true, childList: true, characterData: true, attributes: true });
  });
  await requestLoad(worker.url, url, token);
  await page.goto(`${worker.url}/package/status/view?datapackage=${encodeURIComponent(url)}`);
  return { page, url, problems };
}

async function stepNames(page: Page): Promise<string[]> {
  return page.locator('#steps li').evaluateAll((items) => items.map((li) => li.getAttribute('data-step') ?? ''));
}

describe('browser: the live status page during a real load', () => {
  it('shows the steps in order with their durations and the bar at 100% at done', async () => {
    // Long enough (~3 s here) that the page is open well before the end, on a loaded CI machine too.
    const rows = 150_000;
    const { page, problems } = await loadAndWatch(`live-page-${Date.now()}`, generatedCsv(rows));
    await page.locator('#state', { hasText: /^done$/ }).waitFor({ timeout: 120_000 });

    const steps = await stepNames(page);
    expect(steps).toEqual(STATUSES.filter((s) => steps.includes(s)));
    for (const s of ['queued', 'initializing', 'loading-data', 'creating-babbage-model', 'saving-metadata', 'done']) {
      expect(steps).toContain(s);
    }
    expect(steps.at(-1)).toBe('done');
    // Each finished step shows a duration.
    const durations = await page.locator('#steps li .dur').allTextContents();
    expect(durations).toHaveLength(steps.length - 1);
    for (const d of durations) expect(d).toMatch(/^\d+(\.\d)? s$|^\d+ min \d+ s$/);

    expect(await page.locator('#bar').getAttribute('aria-valuenow')).toBe('100');
    expect(await page.locator('#fill').evaluate((el) => (el as HTMLElement).style.width)).toBe('100%');
    const figures = await page.locator('#figures').textContent();
    expect(figures).toContain(`${rows.toLocaleString('en')} of ${rows.toLocaleString('en')} rows`);
    expect(figures).toMatch(/ MB of [\d.]+ MB/);
    expect(figures).toMatch(/[\d,]+ rows\/s, [\d.]+ MB\/s/);
    expect(await page.locator('#error').textContent()).toBe('');

    // The page followed the load live: after "connecting" it showed a state of the running load
    // before done (the stream sends one snapshot per fan-out, so quick steps may be merged), and
    // the bar only grew.
    const seen = (await page.evaluate(() => (window as unknown as { __states: string[] }).__states)) as string[];
    expect(seen[0]).toBe('connecting');
    expect(seen.at(-1)).toBe('done');
    expect(seen.slice(1, -1).filter((s) => s !== 'done' && s !== 'fail').length).toBeGreaterThan(0);
    const bars = (await page.evaluate(() => (window as unknown as { __bars: number[] }).__bars)) as number[];
    for (let i = 1; i < bars.length; i++) expect(bars[i]).toBeGreaterThanOrEqual(bars[i - 1] as number);
    expect(problems).toEqual([]);
    await page.screenshot({ path: join(ARTIFACTS, 'status-page-done.png'), fullPage: true });
    await page.close();
  }, 180_000);

  it('shows the error sentence of a failed load, and asks for its validation report', async () => {
    const { page, problems } = await loadAndWatch(`live-fail-${Date.now()}`, generatedCsv(20_000, 15_000));
    const reportAsked = page.waitForRequest((r) => new URL(r.url()).pathname === '/package/report', { timeout: 120_000 });
    await page.locator('#state', { hasText: /^fail$/ }).waitFor({ timeout: 120_000 });
    expect(await page.locator('#error').textContent()).toMatch(/^row 15001, column "year": "twenty"/);
    expect(await page.locator('body').getAttribute('class')).toBe('fail');
    const steps = await stepNames(page);
    expect(steps).toEqual(STATUSES.filter((s) => steps.includes(s)));
    expect(steps.at(-1)).toBe('fail');
    expect(steps).toContain('loading-data');
    const asked = new URL((await reportAsked).url());
    expect(asked.searchParams.get('datapackage')).toBeTruthy();
    // Without a report (404) the error sentence is all; with one, its errors are the table's rows.
    const report = await fetch(`${worker.url}/package/report?${asked.searchParams}`);
    if (report.status === 200) {
      const body = (await report.json()) as { errors: unknown[] };
      await page.locator('#report tr.report-error').first().waitFor();
      expect(await page.locator('#report tr.report-error').count()).toBe(body.errors.length);
    } else {
      expect(report.status).toBe(404);
      expect(await page.locator('#report').isHidden()).toBe(true);
    }
    expect(problems).toEqual([]);
    await page.screenshot({ path: join(ARTIFACTS, 'status-page-fail.png'), fullPage: true });
    await page.close();
  }, 180_000);
});
