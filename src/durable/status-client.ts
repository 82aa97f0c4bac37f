/**
 * How the Worker talks to the PackageStatus objects: by canonical key (the
 * datapackage URL as given), and through the alias objects (normalised URL,
 * package id) that point to it.
 */
import type { Env } from '../env.ts';
import { normaliseStatusUrl, packageAliasKey, urlAliasKey } from '../queue/url-policy.ts';
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

/**
 * The status for what a client polls with: the exact upload URL, else its
 * normalised form (os-admin), else a package id `<owner>:<name>`.
 */
export async function lookupStatus(env: Pick<Env, 'PACKAGE_STATUS'>, requested: string): Promise<StatusView | null> {
  const exact = await statusStub(env, requested).read();
  if (exact) return exact;
  const alias = urlAliasKey(requested);
  if (alias) {
    const viaUrl = await follow(env, alias);
    if (viaUrl) return viaUrl;
    // The normalised form itself may be the key an upload used.
    const normalised = normaliseStatusUrl(requested);
    if (normalised && normalised !== requested) {
      const direct = await statusStub(env, normalised).read();
      if (direct) return direct;
    }
    return null;
  }
  return follow(env, packageAliasKey(requested));
}
