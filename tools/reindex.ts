/**
 * npm run tools:reindex -- [--drop-backup] [--replace-concrete-index]
 *
 * Rebuilds the ElasticSearch `packages` index from the Postgres registry
 * into a fresh physical index and swaps the alias atomically (search keeps
 * answering throughout). See src/search/elasticsearch/reindex.ts.
 */
import { target } from '../src/search/elasticsearch/index.ts';
import { reindex } from '../src/search/elasticsearch/reindex.ts';
import { connectNode } from './lib/db.ts';
import { progressBar } from './lib/progress.ts';
import { databaseUrl, indexSettings, postgresRegistryReader, readerLinkSettings } from './lib/search-index.ts';

const HELP = `Usage: npm run tools:reindex -- [--drop-backup] [--replace-concrete-index]

Rebuilds the search index OS_ES_PACKAGES_INDEX_NAME (default "packages") at
OS_ELASTICSEARCH_ADDRESS from the registry in OS_CONDUCTOR_ENGINE (.env is read):
copies every package into a new index <name>-<timestamp>, then points the alias
<name> at it in one atomic step. Searches keep answering the whole time.

  --drop-backup             delete the previous index (and older <name>-* backups)
                            after the swap; by default the previous one is kept
  --replace-concrete-index  when <name> is still a concrete index (not an alias),
                            delete it and make <name> an alias of the new index in
                            the same atomic step (Postgres holds every document)
  --help                    this text`;

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  if (args.includes('--help') || args.includes('-h')) {
    console.log(HELP);
    return;
  }
  const known = new Set(['--drop-backup', '--replace-concrete-index']);
  const unknown = args.filter((a) => !known.has(a));
  if (unknown.length) throw new Error(`unknown argument(s): ${unknown.join(' ')} (see --help)`);

  const { url, index } = indexSettings();
  const db = await connectNode(databaseUrl());
  const bar = progressBar(`reindex ${index}`);
  const started = performance.now();
  try {
    const report = await reindex(target(url, index), postgresRegistryReader(db.client, readerLinkSettings()), {
      dropBackup: args.includes('--drop-backup'),
      replaceConcreteIndex: args.includes('--replace-concrete-index'),
      onProgress: (done, total) => bar.update(done, total),
    });
    bar.finish();
    const seconds = (performance.now() - started) / 1000;
    console.log(
      `copied ${report.copied} packages into ${report.newIndex} in ${seconds.toFixed(1)} s ` +
        `(${report.caughtUp} recently changed copied again, ${report.removedStale} deleted meanwhile)`,
    );
    if (report.previous === 'index') console.log(`replaced the concrete index ${index} by an alias`);
    console.log(`alias ${index} -> ${report.newIndex}`);
    const kept = report.detached.filter((i) => !report.dropped.includes(i));
    if (kept.length) console.log(`kept as backup: ${kept.join(', ')} (delete with --drop-backup on the next run)`);
    if (report.dropped.length) console.log(`deleted: ${report.dropped.join(', ')}`);
  } finally {
    bar.finish();
    await db.close();
  }
}

main().catch((err: Error) => {
  console.error(`reindex failed: ${err.message}`);
  process.exit(1);
});
