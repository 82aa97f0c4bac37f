/**
 * Pure rules for managing packages (no I/O): who may change a package, and
 * how the publish flag is read.
 */
import { ownerOf, type PublishMode } from './registry.ts';

/**
 * True when `userid` owns package `id` (`<owner>:<name>`). The original
 * checked only delete and update_params; we check every management call
 * (publish, delete, update_params, run-hooks).
 */
export function mayManagePackage(userid: string, id: string): boolean {
  return userid !== '' && ownerOf(id) === userid;
}

/** `true`/`false`/`toggle`, case-insensitive (gobble sends `True`); null for anything else. */
export function parsePublishMode(value: string | undefined): PublishMode | null {
  const v = value?.toLowerCase();
  return v === 'true' || v === 'false' || v === 'toggle' ? v : null;
}

/** A package id as clients send it: `<owner>:<name>`, bounded in size. */
export function isPackageId(id: string): boolean {
  return id.length <= 512 && ownerOf(id) !== '' && id.indexOf(':') < id.length - 1;
}
