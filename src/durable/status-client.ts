/**
 * How the Worker talks to the PackageStatus objects: by canonical key (the
 * datapackage URL as given), and through the alias objects (normalised URL,
 * package id) that point to it.
 */
import type { Env } from '../env.ts';
import { normaliseStatusUrl, packageAliasKey, urlAliasKey } from './status-keys.ts';
import type { PackageStatus, StatusView } from './package-status.ts';

/** The status object of a key (any string; aliases use their own prefixes). */
export function statusStub(env: Pick<Env, 'PACKAGE_STATUS'>, key: string): DurableObjectStub<PackageStatus> {
  return env.PACKAGE_STATUS.get(env.PACKAGE_STATUS.idFromName(key));
}

/** Starts a new job under `key` (status queued) and points the URL alias at it. */
export async function startStatus(env: Pick<Env, 'PACKAGE_STATUS'>, key: string, job: string): Promise<StatusView> {
  const view = await statusStub(env, key).start(key, job);
  const alias = urlAliasKey(key);
  if (alias && normaliseStatusUrl(key) !== key) await statusStub(env, alias).setAlias(key);
  return view;
}

/** Points the package-id alias at `key` (once the loader knows the id). */
export async function setPackageAlias(env: Pick<Env, 'PACKAGE_STATUS'>, packageId: string, key: string): Promise<void> {
  await statusStub(env, packageAliasKey(packageId)).setAlias(key);
}

async function follow(env: Pick<Env, 'PACKAGE_STATUS'>, aliasKey: string): Promise<StatusView | null> {
  const target = await statusStub(env, aliasKey).aliasTarget();
  return target ? statusStub(env, target).read() : null;
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
  const exact = await statusStub(env, requested).read();
  if (exact) return found(exact);
  const viaUrl = await follow(env, alias);
  if (viaUrl) return found(viaUrl);
  // The normalised form itself may be the key an upload used.
  const normalised = normaliseStatusUrl(requested);
  if (normalised && normalised !== requested) return found(await statusStub(env, normalised).read());
  return null;
}
