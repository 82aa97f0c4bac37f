/**
 * Rebuilding the `packages` index from the registry (Postgres is the truth)
 * with no downtime: documents go into a fresh physical index
 * `<name>-<timestamp>`, then one atomic `_aliases` call moves the name onto
 * it. Readers always see either the old index or the complete new one.
 *
 * Writes that happen while it runs still reach the old index through the
 * alias; they are caught up from the registry's `updated_at` before and after
 * the swap, and ids deleted meanwhile are removed from the new index, so the
 * new index ends equal to the registry. The old physical index is kept as a
 * backup unless `dropBackup` is set.
 *
 * A name that is still a concrete index (older deployments) cannot get an
 * alias beside it; with `replaceConcreteIndex` the same atomic call adds the
 * alias and deletes that index (`remove_index`), otherwise reindex refuses.
 */
import type { RegistryDocument } from '../../registry/registry.ts';
import {
  bulkDelete,
  bulkIndex,
  createPhysicalIndex,
  deleteIndices,
  listIds,
  listPhysicalIndices,
  nameState,
  physicalIndexName,
  refresh,
  updateAliases,
  type AliasAction,
  type EsTarget,
} from './index.ts';

/** Read access to the registry that reindexing needs. */
export interface RegistryReader {
  /** Number of packages (for progress). */
  count(): Promise<number>;
  /** Up to `limit` documents with id > `after` (null: from the start), in id order. */
  page(after: string | null, limit: number): Promise<RegistryDocument[]>;
  /** The registry's clock now, as an opaque timestamp for `changedSince`. */
  now(): Promise<string>;
  /** Documents written at or after `since`. */
  changedSince(since: string): Promise<RegistryDocument[]>;
  /** Every package id. */
  ids(): Promise<Set<string>>;
}

export interface ReindexOptions {
  /** Delete the previous physical index (and older `<name>-*` backups) after the swap. */
  dropBackup?: boolean;
  /** Allow replacing a concrete index of that name by the alias (deletes it, atomically). */
  replaceConcreteIndex?: boolean;
  batchSize?: number;
  /** Called after each batch with documents copied so far and the total. */
  onProgress?: (done: number, total: number) => void;
  /** Physical index name (tests); `<name>-<timestamp>` by default. */
  newIndexName?: string;
}

export interface ReindexReport {
  alias: string;
  newIndex: string;
  /** What the name was before. */
  previous: 'missing' | 'index' | 'alias';
  /** Physical indices the alias left (kept unless dropped). */
  detached: string[];
  dropped: string[];
  copied: number;
  caughtUp: number;
  removedStale: number;
}

/** Rebuilds `t.index` from the registry into a fresh index and swaps the alias. */
export async function reindex(t: EsTarget, reader: RegistryReader, opts: ReindexOptions = {}): Promise<ReindexReport> {
  const { client, index: alias } = t;
  const state = await nameState(client, alias);
  if (state.kind === 'index' && !opts.replaceConcreteIndex) {
    throw new Error(
      `${alias} is a concrete index, not an alias. Re-run with --replace-concrete-index to build ${alias}-<timestamp> ` +
        `and, in one atomic step, delete the index ${alias} and make ${alias} an alias of the new one ` +
        '(Postgres holds every document, so nothing is lost; take a snapshot first if you want a copy).',
    );
  }
  const newIndex = opts.newIndexName ?? physicalIndexName(alias);
  const batchSize = opts.batchSize ?? 500;
  await createPhysicalIndex(client, newIndex);
  let copied = 0;
  let caughtUp = 0;
  try {
    const start = await reader.now();
    const total = await reader.count();
    let after: string | null = null;
    for (;;) {
      const docs = await reader.page(after, batchSize);
      if (docs.length === 0) break;
      await bulkIndex(client, newIndex, docs);
      copied += docs.length;
      after = docs[docs.length - 1]!.id;
      opts.onProgress?.(copied, Math.max(total, copied));
      if (docs.length < batchSize) break;
    }
    // Writes during the copy went to the old index: take them again from the registry.
    const beforeSwap = await reader.now();
    const changed = await reader.changedSince(start);
    await bulkIndex(client, newIndex, changed);
    caughtUp += changed.length;
    await refresh(client, newIndex);

    const actions: AliasAction[] = [];
    if (state.kind === 'alias') for (const old of state.indices) actions.push({ remove: { index: old, alias } });
    if (state.kind === 'index') actions.push({ remove_index: { index: alias } });
    actions.push({ add: { index: newIndex, alias } });
    await updateAliases(client, actions);

    // Writes between the catch-up and the swap, and deletions during the whole run.
    const late = await reader.changedSince(beforeSwap);
    await bulkIndex(client, newIndex, late);
    caughtUp += late.length;
    await refresh(client, newIndex);
    const indexed = await listIds(client, newIndex);
    const registered = await reader.ids(); // read after the index: packages added meanwhile are kept
    const stale = indexed.filter((id) => !registered.has(id));
    await bulkDelete(client, newIndex, stale);
    await refresh(client, newIndex);

    const detached = state.kind === 'alias' ? state.indices.filter((i) => i !== newIndex) : [];
    let dropped: string[] = [];
    if (opts.dropBackup) {
      const backups = (await listPhysicalIndices(client, alias)).filter((i) => i !== newIndex && isOurs(alias, i));
      dropped = [...new Set([...detached, ...backups])].sort();
      await deleteIndices(client, dropped);
    }
    return { alias, newIndex, previous: state.kind, detached, dropped, copied, caughtUp, removedStale: stale.length };
  } catch (err) {
    // Before the swap nobody reads the new index: remove the half-built one.
    const now = await nameState(client, alias).catch(() => null);
    const swapped = now?.kind === 'alias' && now.indices.includes(newIndex);
    if (!swapped) await deleteIndices(client, [newIndex]).catch(() => undefined);
    throw err;
  }
}

/** Physical indices this tool creates: `<name>-<timestamp>` or `<name>-initial`. */
export function isOurs(alias: string, index: string): boolean {
  if (!index.startsWith(`${alias}-`)) return false;
  const rest = index.slice(alias.length + 1);
  return rest === 'initial' || /^\d{17}$/.test(rest);
}
