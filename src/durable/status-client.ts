/**
 * How the Worker talks to the PackageStatus objects: by canonical key (the
 * datapackage URL as given), and through the alias objects (normalised URL,
 * package id) that point to it.
 */
import type { Env } from '../env.ts';
import { withTimeout } from '../http/timeout.ts';
import { normaliseStatusUrl, packageAliasKey, urlAliasKey } from './status-keys.ts';
import type { AdvanceResult, PackageStatus, StatusPatch, StatusView } from './package-status.ts';
import type { LoadStatus } from './status-machine.ts';

/** The status object of a key (any string; aliases use their own prefixes). */
export function statusStub(env: Pick<Env, 'PACKAGE_STATUS'>, key: string): DurableObjectStub<PackageStatus> {
  return env.PACKAGE_STATUS.get(env.PACKAGE_STATUS.idFromName(key));
}

/** How long one call to a status object may take (a few SQLite statements; more means it is unreachable). */
const STATUS_CALL_TIMEOUT_MS = 10_000;

function bounded<T>(call: Promise<T>, what: string): Promise<T> {
  return withTimeout(call, STATUS_CALL_TIMEOUT_MS, `status object: ${what} timed out`);
}

/** The calls the Worker makes to the status object of `key`, each with a timeout. */
export function statusOf(env: Pick<Env, 'PACKAGE_STATUS'>, key: string) {
  const stub = statusStub(env, key);
  return {
    read: (): Promise<StatusView | null> => bounded(stub.read(), 'read'),
    start: (job: string): Promise<StatusView> => bounded(stub.start(key, job), 'start'),
    advance: (job: string, status: LoadStatus, patch?: StatusPatch): Promise<AdvanceResult> =>
      bounded(stub.advance(job, status, patch), 'advance'),
    showEnd: (job: string, status: 'done' | 'fail', patch?: StatusPatch): Promise<AdvanceResult> =>
      bounded(stub.showEnd(job, status, patch), 'showEnd'),
    failIfAbsent: (job: string, error: string): Promise<boolean> => bounded(stub.failIfAbsent(key, job, error), 'failIfAbsent'),
    aliasTarget: (): Promise<string | null> => bounded(stub.aliasTarget(), 'aliasTarget'),
    setAlias: (target: string): Promise<void> => bounded(stub.setAlias(target), 'setAlias'),
  };
}

/**
 * The live event stream of `key`'s status (the caller has been allowed to
 * see it). The timeout covers the answer's start only: the stream itself
 * lasts until the load ends. The body is passed through untouched.
 */
export async function statusStream(env: Pick<Env, 'PACKAGE_STATUS'>, key: string, lastEventId: string | null): Promise<Response> {
  const headers: Record<string, string> = lastEventId === null ? {} : { 'Last-Event-ID': lastEventId.slice(0, 200) };
  const res = await bounded(statusStub(env, key).fetch('https://package-status/stream', { headers }), 'stream');
  // A fetched response's headers are immutable; the Worker's middleware adds its own.
  const out = new Headers(res.headers);
  // Proxies that buffer would hold events back.
  if (res.status === 200) out.set('X-Accel-Buffering', 'no');
  return new Response(res.body, { status: res.status, headers: out });
}

/** Starts a new job under `key` (status queued) and points the URL alias at it. */
export async function startStatus(env: Pick<Env, 'PACKAGE_STATUS'>, key: string, job: string): Promise<StatusView> {
  const view = await statusOf(env, key).start(job);
  const alias = urlAliasKey(key);
  if (alias && normaliseStatusUrl(key) !== key) await statusOf(env, alias).setAlias(key);
  return view;
}

/** Points the package-id alias at `key` (once the loader knows the id). */
export async function setPackageAlias(env: Pick<Env, 'PACKAGE_STATUS'>, packageId: string, key: string): Promise<void> {
  await statusOf(env, packageAliasKey(packageId)).setAlias(key);
}

async function follow(env: Pick<Env, 'PACKAGE_STATUS'>, aliasKey: string): Promise<StatusView | null> {
  const target = await statusOf(env, aliasKey).aliasTarget();
  return target ? statusOf(env, target).read() : null;
}

/** A status found, and whether it was found through a package id (whose privacy the caller checks). */
export interface FoundStatus {
  view: StatusView;
  /** The package id asked for, when the status was found through it. */
  packageId: string | null;
}

/**
 * The status for what a client polls with: the exact upload URL, else its
 * normalised form (os-admin), else a package id `<owner>:<name>`.
 */
export async function lookupStatus(env: Pick<Env, 'PACKAGE_STATUS'>, requested: string): Promise<FoundStatus | null> {
  const found = (view: StatusView | null, packageId: string | null = null) => (view ? { view, packageId } : null);
  const alias = urlAliasKey(requested);
  if (!alias) return found(await follow(env, packageAliasKey(requested)), requested);
  const exact = await statusOf(env, requested).read();
  if (exact) return found(exact);
  const viaUrl = await follow(env, alias);
  if (viaUrl) return found(viaUrl);
  // The normalised form itself may be the key an upload used.
  const normalised = normaliseStatusUrl(requested);
  if (normalised && normalised !== requested) return found(await statusOf(env, normalised).read());
  return null;
}
