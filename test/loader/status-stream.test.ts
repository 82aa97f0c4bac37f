/**
 * The live status stream (GET /package/status with Accept: text/event-stream)
 * and the status page route, against the real Worker, PackageStatus objects,
 * queue consumer and Postgres: events during a driven load, resumption by
 * Last-Event-ID, heartbeats, fan-out to many watchers, the same visibility
 * as polling, and the page's headers.
 */
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { packageId } from '../../src/loader/naming.ts';
import { statusOf } from '../../src/durable/status-client.ts';
import { STATUSES } from '../../src/durable/status-machine.ts';
import type { LoaderMessage } from '../../src/queue/messages.ts';
import { fixture } from '../datastore/helpers.ts';
import { call, newUserId, userToken } from '../helpers/app.ts';
import { deliver, drain, drivenEnv, parseCsvText, publishFixture, startLoad, status, waitForEnd } from './helpers.ts';

interface SseEvent {
  id: string | null;
  event: string | null;
  data: Record<string, unknown>;
}

/** Reads a text/event-stream body as it arrives (a parser of its own, not the service's code). */
class SseReader {
  events: SseEvent[] = [];
  comments = 0;
  retry: number | null = null;
  closed = false;
  private buffer = '';
  private readonly done: Promise<void>;

  constructor(res: Response) {
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    const decoder = new TextDecoder();
    this.done = (async () => {
      for (;;) {
        // A cancel by the test ends the reading too.
        const { value, done } = await reader.read().catch(() => ({ value: undefined, done: true as const }));
        if (done) break;
        this.buffer += decoder.decode(value, { stream: true });
        let end: number;
        while ((end = this.buffer.indexOf('\n\n')) >= 0) {
          this.block(this.buffer.slice(0, end));
          this.buffer = this.buffer.slice(end + 2);
        }
      }
      this.closed = true;
    })();
    this.cancel = () => reader.cancel();
  }

  readonly cancel: () => Promise<void>;

  private block(text: string): void {
    let id: string | null = null;
    let event: string | null = null;
    const data: string[] = [];
    for (const line of text.split('\n')) {
      if (line.startsWith(':')) this.comments++;
      else if (line.startsWith('id: ')) id = line.slice(4);
      else if (line.startsWith('event: ')) event = line.slice(7);
      else if (line.startsWith('data: ')) data.push(line.slice(6));
      else if (line.startsWith('retry: ')) this.retry = Number(line.slice(7));
    }
    if (data.length > 0) this.events.push({ id, event, data: JSON.parse(data.join('\n')) as Record<string, unknown> });
  }

  /** Resolves once the server has closed the stream. */
  ended(timeoutMs = 20_000): Promise<void> {
    return Promise.race([
      this.done,
      new Promise<void>((_, reject) => setTimeout(() => reject(new Error('stream did not end')), timeoutMs)),
    ]);
  }

  async until(check: () => boolean, timeoutMs = 10_000): Promise<void> {
    const until = Date.now() + timeoutMs;
    while (!check()) {
      if (Date.now() > until) throw new Error(`timed out; events: ${JSON.stringify(this.events.map((e) => e.data.status))}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  statuses(): string[] {
    return this.events.map((e) => String(e.data.status));
  }
}

function stream(key: string, headers: Record<string, string> = {}, jwt?: string): Promise<Response> {
  const auth = jwt ? `&jwt=${encodeURIComponent(jwt)}` : '';
  return call(`/package/status?datapackage=${encodeURIComponent(key)}${auth}`, {
    headers: { Accept: 'text/event-stream', ...headers },
  });
}

/** The change number of an event id `<startedAt>-<n>`. */
function seqOf(id: string | null): number {
  const m = /^(\d+)-(\d+)$/.exec(id ?? '');
  if (!m) throw new Error(`bad event id ${id}`);
  return Number(m[2]);
}

/** What the stream adds to the polling body. */
const EXTRAS = ['bytes', 'bytesTotal', 'startedAt', 'stepStartedAt', 'updatedAt', 'now'];

describe('GET /package/status as an event stream', () => {
  it('streams every step of a real load in order, with growing ids, and ends after done', async () => {
    const sent: LoaderMessage[] = [];
    const e = drivenEnv(sent);
    const pub = await startLoad(e, 'fdp/uk-cra');
    const res = await stream(pub.url);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    expect(res.headers.get('cache-control')).toBe('no-store');
    const sse = new SseReader(res);
    await sse.until(() => sse.events.length >= 1);
    expect(sse.events[0]?.data).toMatchObject({ status: 'queued', progress: 0, records: 0, fraction: 0 });

    // Deliver one message at a time, leaving the fan-out time to send each step.
    for (let m = sent.shift(); m; m = sent.shift()) {
      expect((await deliver(e, m)).retryMessages).toEqual([]);
      await new Promise((r) => setTimeout(r, 300));
    }
    await sse.ended();
    expect(sse.retry).toBeGreaterThan(0);
    const statuses = sse.statuses();
    // Steps appear in the protocol's order (duplicates are progress updates of one step).
    const distinct = statuses.filter((s, i) => s !== statuses[i - 1]);
    expect(distinct).toEqual([...distinct].sort((a, b) => STATUSES.indexOf(a as never) - STATUSES.indexOf(b as never)));
    expect(distinct[0]).toBe('queued');
    expect(distinct).toContain('loading-data');
    expect(distinct.at(-1)).toBe('done');
    expect(statuses.filter((s) => s === 'loading-data').length).toBeGreaterThan(1);
    const seqs = sse.events.map((ev) => seqOf(ev.id));
    for (let i = 1; i < seqs.length; i++) expect(seqs[i]).toBeGreaterThan(seqs[i - 1] as number);
    expect(new Set(sse.events.map((ev) => ev.event))).toEqual(new Set(['status']));

    const size = (await fixture('fdp/uk-cra/dataset.csv')).byteLength;
    const during = sse.events.filter((ev) => ev.data.status === 'loading-data' && Number(ev.data.records) > 0);
    expect(during.length).toBeGreaterThan(0);
    expect(during[0]?.data).toMatchObject({ bytesTotal: size, bytes: expect.any(Number) });
    expect(Number(during[0]?.data.bytes)).toBeGreaterThan(0);

    // The final event is the polling body plus the stream's figures; the polling body is as before.
    const last = sse.events.at(-1) as SseEvent;
    const polled = await status(pub.url);
    expect(polled).toMatchObject({ status: 'done', progress: 2000, records: 2000, fraction: 1, total: 2000 });
    const body = Object.fromEntries(Object.entries(last.data).filter(([k]) => !EXTRAS.includes(k)));
    expect(body).toEqual(polled);
    for (const k of EXTRAS) expect(last.data).toHaveProperty(k);
  });

  it('resumes by Last-Event-ID: the current state when something was missed, nothing when seen, 204 after the end', async () => {
    const sent: LoaderMessage[] = [];
    const e = drivenEnv(sent);
    const pub = await startLoad(e, 'fdp/packager-example');
    const first = new SseReader(await stream(pub.url));
    await first.until(() => first.events.length === 1);
    const queuedId = first.events[0]?.id as string;
    await first.cancel();

    // Seen the current state: nothing is sent until it changes.
    const waiting = new SseReader(await stream(pub.url, { 'Last-Event-ID': queuedId }));
    await new Promise((r) => setTimeout(r, 400));
    expect(waiting.events).toEqual([]);
    await deliver(e, sent.shift() as LoaderMessage);
    await waiting.until(() => waiting.events.length > 0);
    expect(seqOf(waiting.events[0]?.id ?? null)).toBeGreaterThan(seqOf(queuedId));
    await drain(e, sent);
    await waiting.ended();
    const finalId = waiting.events.at(-1)?.id as string;
    expect(waiting.events.at(-1)?.data.status).toBe('done');

    // Missed events (an older id, or one of another upload): the current state at once, then the end.
    for (const old of [queuedId, '1-1', 'garbage']) {
      const resumed = new SseReader(await stream(pub.url, { 'Last-Event-ID': old }));
      await resumed.ended();
      expect(resumed.events.map((ev) => [ev.id, ev.data.status])).toEqual([[finalId, 'done']]);
    }
    // Seen the end: 204, which tells EventSource to stop reconnecting.
    const over = await stream(pub.url, { 'Last-Event-ID': finalId });
    expect(over.status).toBe(204);
  });

  it('sends heartbeat comments while nothing changes', async () => {
    const sent: LoaderMessage[] = [];
    const pub = await startLoad(drivenEnv(sent), 'fdp/packager-example');
    const sse = new SseReader(await stream(pub.url));
    // The test setup sets OS_STATUS_STREAM_HEARTBEAT to 1 s.
    await sse.until(() => sse.comments >= 2, 5000);
    expect(sse.statuses()).toEqual(['queued']);
    await sse.cancel();
  });

  it('fans one load out to many watchers, each getting the end', async () => {
    const sent: LoaderMessage[] = [];
    const e = drivenEnv(sent);
    const pub = await startLoad(e, 'fdp/uk-cra');
    const watchers = await Promise.all(Array.from({ length: 50 }, async () => new SseReader(await stream(pub.url))));
    await drain(e, sent);
    await Promise.all(watchers.map((w) => w.ended()));
    const ends = watchers.map((w) => w.events.at(-1));
    expect(new Set(ends.map((ev) => ev?.id)).size).toBe(1);
    for (const ev of ends) expect(ev?.data).toMatchObject({ status: 'done', records: 2000, fraction: 1 });
  });

  it('shows a failed load and its error, then ends', async () => {
    const rows = parseCsvText(new TextDecoder().decode(await fixture('fdp/uk-cra/dataset.csv'))).filter(
      (r) => !(r.length === 1 && r[0] === ''),
    );
    const amountAt = (rows[0] as string[]).indexOf('amount');
    // A cell that is not a number half-way through the file: rows are loaded before the failure.
    const at = 1000;
    (rows[at] as string[])[amountAt] = '12x';
    const quoted = rows.map((r) => r.map((v) => `"${v.replace(/"/g, '""')}"`).join(',')).join('\n') + '\n';
    const sent: LoaderMessage[] = [];
    const e = drivenEnv(sent);
    const pub = await startLoad(e, 'fdp/uk-cra', { data: new TextEncoder().encode(quoted) });
    const sse = new SseReader(await stream(pub.url));
    for (let m = sent.shift(); m; m = sent.shift()) await deliver(e, m);
    await sse.ended();
    const last = sse.events.at(-1) as SseEvent;
    expect(last.data).toMatchObject({ status: 'fail', error: expect.stringMatching(new RegExp(`^row ${at}, column "amount": "12x"`)) });
  });

  it('answers an unknown key with the plain-text 404 of polling', async () => {
    const res = await stream(`https://nowhere.example/${newUserId()}/datapackage.json`);
    expect(res.status).toBe(404);
    expect(await res.text()).toBe('Not Found');
  });
});

describe('stream and page of a private package', () => {
  it('refuses the stream and the page of a private package by id to others, serves them to its owner', async () => {
    const pub = await publishFixture('fdp/packager-example');
    expect((await waitForEnd(pub.url)).status).toBe('done');
    const id = packageId(pub.userid, pub.name);
    const stranger = await userToken(newUserId());
    for (const jwt of [undefined, stranger]) {
      const res = await stream(id, {}, jwt);
      expect(res.status).toBe(404);
      expect(await res.text()).toBe('Not Found');
      const page = await call(`/package/status/view?datapackage=${encodeURIComponent(id)}${jwt ? `&jwt=${jwt}` : ''}`);
      expect(page.status).toBe(404);
      expect(await page.text()).toBe('Not Found');
    }
    const owner = await userToken(pub.userid);
    const own = new SseReader(await stream(id, {}, owner));
    await own.ended();
    expect(own.events.map((ev) => ev.data.status)).toEqual(['done']);
    const page = await call(`/package/status/view?datapackage=${encodeURIComponent(id)}&jwt=${owner}`);
    expect(page.status).toBe(200);
  });
});

describe('GET /package/status/view', () => {
  it('serves the page with a strict CSP (hashes, no unsafe-inline, no other origin) and reflects no input', async () => {
    const key = `https://page.example/${newUserId()}/"><script>alert(1)</script>/datapackage.json`;
    await statusOf(env, key).start(crypto.randomUUID());
    const res = await call(`/package/status/view?datapackage=${encodeURIComponent(key)}&jwt=%3Cb%3Ejwt`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    const csp = res.headers.get('content-security-policy') ?? '';
    expect(csp).toMatch(/default-src 'none'/);
    expect(csp).toMatch(/script-src 'sha256-[A-Za-z0-9+/]+=*'(;|$)/);
    expect(csp).toMatch(/style-src 'sha256-[A-Za-z0-9+/]+=*'(;|$)/);
    expect(csp).toMatch(/connect-src 'self'/);
    expect(csp).toMatch(/frame-ancestors 'none'/);
    expect(csp).not.toMatch(/unsafe|https?:|\*/);
    expect(res.headers.get('referrer-policy')).toBe('no-referrer');
    const html = await res.text();
    expect(html).not.toContain('alert(1)');
    expect(html).not.toContain('<b>jwt');
    expect(html).not.toMatch(/\ssrc=|\shref=/);
    // The hashes are those of the inline script and style.
    const digest = async (text: string) =>
      btoa(String.fromCharCode(...new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text)))));
    const script = /<script>([\s\S]*?)<\/script>/.exec(html)?.[1] ?? '';
    const style = /<style>([\s\S]*?)<\/style>/.exec(html)?.[1] ?? '';
    expect(csp).toContain(`'sha256-${await digest(script)}'`);
    expect(csp).toContain(`'sha256-${await digest(style)}'`);
  });

  it('answers 400 without datapackage and 404 for an unknown key', async () => {
    const missing = await call('/package/status/view');
    expect(missing.status).toBe(400);
    expect(await missing.json()).toEqual({ error: expect.stringContaining('datapackage') });
    const unknown = await call(`/package/status/view?datapackage=${encodeURIComponent('https://nowhere.example/x/datapackage.json')}`);
    expect(unknown.status).toBe(404);
  });
});

describe('OpenAPI document', () => {
  it('documents the event stream of /package/status and the page route', async () => {
    const doc = (await (await call('/openapi.json')).json()) as {
      paths: Record<string, { get?: { responses: Record<string, { content?: Record<string, unknown> }> } }>;
    };
    const status = doc.paths['/package/status']?.get;
    expect(Object.keys(status?.responses['200']?.content ?? {})).toEqual(expect.arrayContaining(['application/json', 'text/event-stream']));
    expect(Object.keys(status?.responses ?? {})).toEqual(expect.arrayContaining(['200', '204', '400', '404']));
    const view = doc.paths['/package/status/view']?.get;
    expect(Object.keys(view?.responses['200']?.content ?? {})).toEqual(['text/html']);
    expect(Object.keys(view?.responses ?? {})).toEqual(expect.arrayContaining(['200', '400', '404']));
  });
});
